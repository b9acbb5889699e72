import { UserError } from '../../errors.js';
import type { Db, Queryable } from '../../store/db.js';
import {
  activeAttemptOf,
  advance,
  attemptsOf,
  bestScoresOf,
  closeAttempt,
  countExamAttempts,
  currentQuestions,
  retiredQuestionIds,
  examResults,
  expiredActiveIds,
  getAttempt,
  insertAttempt,
  questionVersions,
  recordAnswer,
  answerAndAdvance,
  setPendingGuarded,
  recordExamResult,
  setPending,
  wrongAnswersOf,
  type Attempt,
  type AttemptSummary,
  type BestScore,
  type ExamResultRow,
} from '../../store/quiz.js';
import { listActiveStaff, type Staff } from '../../store/staff.js';
import { ensureDefaultBank, loadDefaultBank } from './bank.js';
import { cryptoRng, drawAcrossRules, optionOrder, toOriginal, type Rng } from './draw.js';
import { closesAt, examWindow, inAudience, chineseDay, type Exam } from './exams.js';
import type { Question, QuestionVersion } from './question.js';
import { passed, scoreItems } from './scoring.js';
import { parseTypedAnswer } from './typed-answer.js';

/**
 * The quiz as a state machine held in PostgreSQL: an attempt is `active` until its last
 * answer (`finished`) or its time limit (`expired`). Every step re-reads the attempt under a
 * row lock and checks who is acting and which question is current, so a stale, repeated or
 * foreign click changes nothing, in one process or several.
 */
export interface QuizSettings {
  questionsPerQuiz: number;
  passMark: number;
  timeLimitMinutes: number;
  exams: Exam[];
}

export const PRACTICE_TITLE = '廉洁从业知识测验';

export const REFUSE_NOT_YOURS = '这张题目卡片不属于您，无法作答。发送“考试”可以开始您自己的测验。';
export const REFUSE_CLOSED = '这场考试已经结束，这张卡片已失效。发送“成绩”查看结果，或发送“考试”开始新的测验。';
export const REFUSE_ANSWERED = '这道题您已经作答过了，请在最新的题目卡片上继续作答。';

export interface AttemptView {
  attempt: Attempt;
  /** Aligned with attempt.items. */
  questions: QuestionVersion[];
  title: string;
  exam?: Exam;
}

export type StartResult =
  | { kind: 'started'; view: AttemptView; expired?: AttemptView }
  | { kind: 'resumed'; view: AttemptView; otherRequested: boolean };

export type StepResult =
  /** The answer was recorded; `view.attempt` shows whether it was the last. */
  | { kind: 'answered'; view: AttemptView; idx: number; correct: boolean }
  /** A multiple-choice tick changed. */
  | { kind: 'ticked'; view: AttemptView; idx: number }
  /** Time was up: the attempt is now closed and scored as it stood. */
  | { kind: 'expired'; view: AttemptView };

export interface QuizServiceOptions {
  rng?: Rng;
  defaultBank?: () => Question[];
  /** BOT_TIMEZONE: exam days open and close at midnight there. */
  timeZone?: string;
}

export class QuizService {
  /** Question versions never change once written, so caching them is always safe. */
  private cache = new Map<string, QuestionVersion>();
  private bankReady?: Promise<unknown>;
  private rng: Rng;

  constructor(
    private db: Db,
    readonly settings: QuizSettings,
    private opts: QuizServiceOptions = {},
  ) {
    this.rng = opts.rng ?? cryptoRng;
    this.timeZone = opts.timeZone ?? 'Asia/Shanghai';
  }

  readonly timeZone: string;

  /** Loads the default bank once per database (memoised; retried after a failure). */
  ensureBank(): Promise<unknown> {
    this.bankReady ??= ensureDefaultBank(this.db, this.opts.defaultBank ?? loadDefaultBank).catch((e: unknown) => {
      this.bankReady = undefined;
      throw e;
    });
    return this.bankReady;
  }

  exam(id: string): Exam | undefined {
    return this.settings.exams.find((e) => e.id.toLowerCase() === id.toLowerCase());
  }

  /** Exams open now that this person must take. */
  openExamsFor(staff: Staff, now: Date): Exam[] {
    return this.settings.exams.filter((e) => examWindow(e, now, this.timeZone) === 'open' && inAudience(e, staff));
  }

  private titleOf(examId: string | null): { title: string; exam?: Exam } {
    const exam = examId ? this.exam(examId) : undefined;
    return exam ? { title: exam.title, exam } : { title: examId ? `考试 ${examId}` : PRACTICE_TITLE };
  }

  private async questionsOf(q: Queryable, keys: { questionId: string; questionVersion: number }[]): Promise<QuestionVersion[]> {
    const key = (id: string, v: number) => `${id}@${v}`;
    const missing = keys.filter((k) => !this.cache.has(key(k.questionId, k.questionVersion)));
    if (missing.length > 0) {
      for (const v of await questionVersions(q, missing.map((k) => ({ id: k.questionId, version: k.questionVersion })))) this.cache.set(key(v.id, v.version), v);
    }
    return keys.map((k) => {
      const v = this.cache.get(key(k.questionId, k.questionVersion));
      if (!v) throw new Error(`question version missing: ${k.questionId}@${k.questionVersion}`);
      return v;
    });
  }

  async view(q: Queryable, attempt: Attempt): Promise<AttemptView> {
    return { attempt, questions: await this.questionsOf(q, attempt.items), ...this.titleOf(attempt.examId) };
  }

  // ---- starting -----------------------------------------------------------------------------

  /** Starts a practice quiz (no exam id) or the configured exam; resumes an unfinished one. */
  async start(staff: Staff, examId: string | undefined, now: Date): Promise<StartResult> {
    await this.ensureBank();
    try {
      return await this.startOnce(staff, examId, now);
    } catch (e) {
      // Two starts at once (double send, two processes): the unique index let one win.
      if ((e as { code?: string }).code === '23505') return this.startOnce(staff, examId, now);
      throw e;
    }
  }

  private startOnce(staff: Staff, examId: string | undefined, now: Date): Promise<StartResult> {
    return this.db.transaction(async (tx) => {
      let expired: AttemptView | undefined;
      const active = await activeAttemptOf(tx, staff.staffId, true);
      if (active) {
        if (now < active.expiresAt) {
          const requested = examId ? (this.exam(examId)?.id ?? examId) : null;
          return { kind: 'resumed', view: await this.view(tx, active), otherRequested: requested !== active.examId };
        }
        expired = await this.close(tx, active, 'expired', now);
      }
      const exam = examId ? this.checkExam(examId, staff, now) : undefined;
      if (exam) {
        const used = await countExamAttempts(tx, exam.id, staff.staffId);
        if (used >= exam.attemptsAllowed) {
          throw new UserError(`“${exam.title}”每人可参加 ${exam.attemptsAllowed} 次，您已经用完了全部次数。发送“成绩”可查看您的成绩。`);
        }
      }
      const picked = await this.pick(tx, exam);
      const limitMs = (exam?.timeLimitMinutes ?? this.settings.timeLimitMinutes) * 60_000;
      let expiresAt = new Date(now.getTime() + limitMs);
      if (exam && closesAt(exam, this.timeZone) < expiresAt) expiresAt = closesAt(exam, this.timeZone);
      const id = await insertAttempt(tx, {
        staffId: staff.staffId,
        departmentId: staff.departmentId,
        examId: exam?.id ?? null,
        passMark: exam?.passMark ?? this.settings.passMark,
        startedAt: now,
        expiresAt,
        items: picked.map((q) => ({ questionId: q.id, questionVersion: q.version, optionOrder: optionOrder(q.type, q.options.length, this.rng) })),
      });
      for (const q of picked) this.cache.set(`${q.id}@${q.version}`, q);
      const attempt = (await getAttempt(tx, id))!;
      return { kind: 'started', view: await this.view(tx, attempt), ...(expired ? { expired } : {}) };
    });
  }

  private checkExam(examId: string, staff: Staff, now: Date): Exam {
    const exam = this.exam(examId);
    if (!exam) {
      const open = this.openExamsFor(staff, now);
      throw new UserError(`没有编号为“${examId}”的考试。${open.length ? `当前您可以参加：${open.map((e) => `${e.id}（${e.title}）`).join('、')}。` : '当前没有需要您参加的考试；发送“考试”可以做一次练习测验。'}`);
    }
    if (!inAudience(exam, staff)) throw new UserError(`“${exam.title}”不面向您所在的科室或岗位，您无需参加。发送“考试”可以做一次练习测验。`);
    const w = examWindow(exam, now, this.timeZone);
    if (w === 'upcoming') throw new UserError(`“${exam.title}”将于${chineseDay(exam.opensOn)}开放，届时再来参加。`);
    if (w === 'closed') throw new UserError(`“${exam.title}”已于${chineseDay(exam.dueOn)}截止，无法再参加。发送“成绩”可查看您的成绩。`);
    return exam;
  }

  private async pick(tx: Queryable, exam: Exam | undefined): Promise<QuestionVersion[]> {
    const bank = await currentQuestions(tx);
    if (bank.length === 0) throw new UserError('题库中还没有题目，请联系管理员导入题库。');
    if (exam && Array.isArray(exam.questions)) {
      const byId = new Map(bank.map((q) => [q.id, q]));
      const missing = exam.questions.filter((id) => !byId.has(id));
      if (missing.length > 0) {
        const retired = new Set(await retiredQuestionIds(tx));
        const why = missing.map((id) => (retired.has(id) ? `${id}（已停用）` : id)).join('、');
        throw new UserError(`考试“${exam.title}”的配置有误：题库中没有可用的题目 ${why}。请联系管理员修正。`);
      }
      return exam.questions.map((id) => byId.get(id)!);
    }
    const pool = exam?.rules?.length ? bank.filter((q) => q.rule !== null && exam.rules!.includes(q.rule)) : bank;
    const count = exam ? (exam.questions as number) : this.settings.questionsPerQuiz;
    const picked = drawAcrossRules(pool, count, this.rng);
    if (picked.length === 0) throw new UserError('题库中没有符合这场考试范围的题目，请联系管理员。');
    return picked;
  }

  // ---- answering ----------------------------------------------------------------------------

  /** Answers the current question with the shown positions chosen (single choice, true/false). */
  async answer(staff: Staff, attemptId: string, idx: number, shown: number, now: Date): Promise<StepResult> {
    const f = await this.current(staff, attemptId, idx, now);
    if (f && f.q.type !== 'multiple') {
      const done = await this.recordFast(f.a, f.q, idx, [shown], now);
      if (done) return done;
    }
    return this.step(staff, attemptId, idx, now, async (tx, a, q) => {
      if (q.type === 'multiple') throw new UserError('这是多选题：请先选择选项，再点“提交答案”。');
      return this.record(tx, a, q, idx, [shown], now);
    });
  }

  /**
   * Answers the current question of one's active attempt with a typed answer (any type), the
   * message twin of the buttons. Undefined when there is no active attempt.
   */
  async answerTyped(staff: Staff, raw: string, now: Date): Promise<StepResult | undefined> {
    const active = await activeAttemptOf(this.db, staff.staffId);
    if (!active) return undefined;
    const idx = active.currentIndex;
    return this.step(staff, active.id, idx, now, async (tx, a, q) => {
      const shown = parseTypedAnswer(raw, q, a.items[idx].optionOrder);
      if (typeof shown === 'string') throw new UserError(shown);
      return this.record(tx, a, q, idx, shown, now);
    });
  }

  /** Ticks or unticks an option of a multiple-choice question; idempotent per click. */
  async tick(staff: Staff, attemptId: string, idx: number, shown: number, on: boolean, now: Date): Promise<StepResult> {
    const ticked = (a: Attempt): number[] => {
      const pending = new Set(a.items[idx].pending);
      if (on) pending.add(shown);
      else pending.delete(shown);
      return [...pending].sort((x, y) => x - y);
    };
    const f = await this.current(staff, attemptId, idx, now);
    if (f && f.q.type === 'multiple' && shown >= 0 && shown < f.q.options.length) {
      const pending = ticked(f.a);
      if (await setPendingGuarded(this.db, f.a.id, idx, pending, now)) {
        f.a.items[idx].pending = pending;
        return { kind: 'ticked', view: await this.view(this.db, f.a), idx };
      }
    }
    return this.step(staff, attemptId, idx, now, async (tx, a, q) => {
      if (q.type !== 'multiple') throw new UserError(REFUSE_ANSWERED);
      if (shown < 0 || shown >= q.options.length) throw new UserError(REFUSE_ANSWERED);
      a.items[idx].pending = ticked(a);
      await setPending(tx, a.id, idx, a.items[idx].pending);
      return { kind: 'ticked', view: await this.view(tx, a), idx };
    });
  }

  /** Submits the ticked options of a multiple-choice question. */
  async submit(staff: Staff, attemptId: string, idx: number, now: Date): Promise<StepResult> {
    const f = await this.current(staff, attemptId, idx, now);
    if (f && f.q.type === 'multiple' && f.a.items[idx].pending.length > 0) {
      const done = await this.recordFast(f.a, f.q, idx, f.a.items[idx].pending, now);
      if (done) return done;
    }
    return this.step(staff, attemptId, idx, now, async (tx, a, q) => {
      if (q.type !== 'multiple') throw new UserError(REFUSE_ANSWERED);
      const pending = a.items[idx].pending;
      if (pending.length === 0) throw new UserError('请先选择至少一个选项，再点“提交答案”。');
      return this.record(tx, a, q, idx, pending, now);
    });
  }

  /**
   * The fast path's read: the attempt without a lock, when the click looks valid. Anything
   * unusual (someone else's card, an old card, time up) returns undefined, and the locked
   * path then decides and explains; the fast path's writes are guarded in SQL, so a race
   * lost between this read and the write also ends up on the locked path.
   */
  private async current(staff: Staff, attemptId: string, idx: number, now: Date): Promise<{ a: Attempt; q: QuestionVersion } | undefined> {
    const a = await getAttempt(this.db, attemptId);
    if (!a || a.staffId !== staff.staffId || a.state !== 'active' || now >= a.expiresAt || idx !== a.currentIndex || !a.items[idx]) return undefined;
    const [q] = await this.questionsOf(this.db, [a.items[idx]]);
    return { a, q };
  }

  /** An answer that is not the last one, in one guarded statement; undefined to fall back. */
  private async recordFast(a: Attempt, q: QuestionVersion, idx: number, shown: number[], now: Date): Promise<StepResult | undefined> {
    if (idx + 1 >= a.questionCount) return undefined;
    if (shown.some((s) => !Number.isInteger(s) || s < 0 || s >= q.options.length)) return undefined;
    const item = a.items[idx];
    const selected = toOriginal(item.optionOrder, shown);
    const correct = scoreItems([{ type: q.type, answer: q.answer, selected }]).correct === 1;
    if (!(await answerAndAdvance(this.db, a.id, idx, selected, correct, now))) return undefined;
    Object.assign(item, { selected, correct });
    a.currentIndex = idx + 1;
    return { kind: 'answered', view: await this.view(this.db, a), idx, correct };
  }

  private step(
    staff: Staff,
    attemptId: string,
    idx: number,
    now: Date,
    fn: (tx: Queryable, a: Attempt, q: QuestionVersion) => Promise<StepResult>,
  ): Promise<StepResult> {
    return this.db.transaction(async (tx) => {
      const a = await getAttempt(tx, attemptId, true);
      if (!a || a.staffId !== staff.staffId) throw new UserError(REFUSE_NOT_YOURS);
      if (a.state !== 'active') throw new UserError(REFUSE_CLOSED);
      if (now >= a.expiresAt) return { kind: 'expired', view: await this.close(tx, a, 'expired', now) };
      if (idx !== a.currentIndex || !a.items[idx]) throw new UserError(idx < a.currentIndex ? REFUSE_ANSWERED : '请先回答当前的题目。');
      const [q] = await this.questionsOf(tx, [a.items[idx]]);
      return fn(tx, a, q);
    });
  }

  private async record(tx: Queryable, a: Attempt, q: QuestionVersion, idx: number, shown: number[], now: Date): Promise<StepResult> {
    const item = a.items[idx];
    if (shown.some((s) => !Number.isInteger(s) || s < 0 || s >= q.options.length)) throw new UserError(REFUSE_ANSWERED);
    const selected = toOriginal(item.optionOrder, shown);
    const correct = scoreItems([{ type: q.type, answer: q.answer, selected }]).correct === 1;
    if (!(await recordAnswer(tx, a.id, idx, selected, correct, now))) throw new UserError(REFUSE_ANSWERED);
    item.selected = selected;
    item.correct = correct;
    if (idx + 1 < a.questionCount) {
      if (!(await advance(tx, a.id, idx))) throw new UserError(REFUSE_ANSWERED);
      a.currentIndex = idx + 1;
      return { kind: 'answered', view: await this.view(tx, a), idx, correct };
    }
    return { kind: 'answered', view: await this.close(tx, a, 'finished', now), idx, correct };
  }

  /** Scores and closes an attempt as it stands (unanswered questions count as wrong). */
  private async close(tx: Queryable, a: Attempt, state: 'finished' | 'expired', now: Date): Promise<AttemptView> {
    const view = await this.view(tx, a);
    const s = scoreItems(a.items.map((i, k) => ({ type: view.questions[k].type, answer: view.questions[k].answer, ...(i.selected ? { selected: i.selected } : {}) })));
    const ok = passed(s.score, a.passMark);
    if (!(await closeAttempt(tx, a.id, state, { correct: s.correct, score: s.score, passed: ok, at: now }))) throw new UserError(REFUSE_CLOSED);
    if (a.examId) await recordExamResult(tx, { examId: a.examId, staffId: a.staffId, departmentId: a.departmentId, score: s.score, passed: ok, at: now });
    Object.assign(a, { state, finishedAt: now, correctCount: s.correct, score: s.score, passed: ok });
    return view;
  }

  /** Tries left at the attempt's exam; undefined for practice quizzes. */
  async attemptsLeft(view: AttemptView): Promise<number | undefined> {
    if (!view.exam) return undefined;
    return Math.max(0, view.exam.attemptsAllowed - (await countExamAttempts(this.db, view.exam.id, view.attempt.staffId)));
  }

  /** Hands in the active attempt now (`交卷`); undefined when there is none. */
  async handIn(staff: Staff, now: Date): Promise<AttemptView | undefined> {
    return this.db.transaction(async (tx) => {
      const a = await activeAttemptOf(tx, staff.staffId, true);
      if (!a) return undefined;
      return this.close(tx, a, now >= a.expiresAt ? 'expired' : 'finished', now);
    });
  }

  /** The active attempt to show again (after a restart the old cards may be gone). */
  async activeView(staff: Staff): Promise<AttemptView | undefined> {
    const a = await activeAttemptOf(this.db, staff.staffId);
    return a ? this.view(this.db, a) : undefined;
  }

  /**
   * Closes every attempt whose time is up and returns them, for a periodic sweep (the
   * scheduler) to tell their owners. Attempts are also closed lazily on the next click.
   */
  async expireDue(now: Date): Promise<AttemptView[]> {
    const out: AttemptView[] = [];
    for (const id of await expiredActiveIds(this.db, now)) {
      const view = await this.db.transaction(async (tx) => {
        const a = await getAttempt(tx, id, true);
        return a && a.state === 'active' && now >= a.expiresAt ? this.close(tx, a, 'expired', now) : undefined;
      });
      if (view) out.push(view);
    }
    return out;
  }

  private async expireOwn(staff: Staff, now: Date): Promise<void> {
    const a = await activeAttemptOf(this.db, staff.staffId);
    if (a && now >= a.expiresAt) {
      await this.db.transaction(async (tx) => {
        const locked = await getAttempt(tx, a.id, true);
        if (locked && locked.state === 'active') await this.close(tx, locked, 'expired', now);
      });
    }
  }

  // ---- review -------------------------------------------------------------------------------

  async results(staff: Staff, now: Date): Promise<{ attempts: (AttemptSummary & { title: string })[]; best: (BestScore & { title: string; allowed?: number })[] }> {
    await this.expireOwn(staff, now);
    const attempts = (await attemptsOf(this.db, staff.staffId, 10)).map((a) => ({ ...a, title: this.titleOf(a.examId).title }));
    const best = (await bestScoresOf(this.db, staff.staffId)).map((b) => {
      const exam = b.examId ? this.exam(b.examId) : undefined;
      return { ...b, title: b.examId ? this.titleOf(b.examId).title : '练习测验', ...(exam ? { allowed: exam.attemptsAllowed } : {}) };
    });
    return { attempts, best };
  }

  async wrongAnswers(staff: Staff, now: Date): Promise<{ question: QuestionVersion; selected: number[] | null; optionOrder: number[]; at: Date }[]> {
    await this.expireOwn(staff, now);
    const rows = await wrongAnswersOf(this.db, staff.staffId);
    const questions = await this.questionsOf(this.db, rows);
    return rows.map((r, i) => ({ question: questions[i], selected: r.selected, optionOrder: r.optionOrder, at: r.at }));
  }

  /** Per department: how many must take the exam, took it, passed, and the mean best score. */
  async examProgress(exam: Exam, now: Date): Promise<{ departments: DepartmentProgress[]; people: { staff: Staff; result?: ExamResultRow }[] }> {
    await this.expireDue(now);
    const audience = (await listActiveStaff(this.db)).filter((s) => inAudience(exam, s));
    const results = new Map((await examResults(this.db, exam.id)).map((r) => [r.staffId, r]));
    const byDept = new Map<string, DepartmentProgress>();
    const people = audience.map((s) => ({ staff: s, ...(results.has(s.staffId) ? { result: results.get(s.staffId)! } : {}) }));
    for (const p of people) {
      const d = byDept.get(p.staff.department) ?? { department: p.staff.department, audience: 0, took: 0, passed: 0, meanBest: null };
      d.audience++;
      if (p.result) {
        d.meanBest = ((d.meanBest ?? 0) * d.took + p.result.bestScore) / (d.took + 1);
        d.took++;
        if (p.result.passed) d.passed++;
      }
      byDept.set(d.department, d);
    }
    return { departments: [...byDept.values()], people };
  }

  /** Who in the audience has not finished the exam yet: for reminders before the due date. */
  async nonTakers(exam: Exam): Promise<Staff[]> {
    const results = new Set((await examResults(this.db, exam.id)).map((r) => r.staffId));
    return (await listActiveStaff(this.db)).filter((s) => inAudience(exam, s) && !results.has(s.staffId));
  }
}

export interface DepartmentProgress {
  department: string;
  audience: number;
  took: number;
  passed: number;
  meanBest: number | null;
}
