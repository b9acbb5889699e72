import { z } from 'zod';
import { actions, button, card, divider, fields, markdown, note, table, text } from '../cards/builders.js';
import { escapeMarkdown } from '../cards/markdown.js';
import type { Card, CardElement } from '../cards/model.js';
import type { Bot } from '../src/bot/bot.js';
import type { ActionContext } from '../src/bot/context.js';
import { dailyAt, hasScheduling, scheduling } from '../scheduler/index.js';
import { UserError } from '../src/errors.js';
import { chineseDay, chineseTime, dayOf, examWindow, reminderDays, type Exam } from '../src/domain/quiz/exams.js';
import { daysBetween } from '../src/domain/calendar.js';
import { OPTION_LETTERS, TYPE_NAMES, type QuestionVersion } from '../src/domain/quiz/question.js';
import { ruleGroup, ruleLabel } from '../src/domain/quiz/rules.js';
import { QuizService, type AttemptView, type StepResult } from '../src/domain/quiz/service.js';
import { getStaff, type Staff } from '../src/store/staff.js';
import type { CampaignResult } from '../scheduler/outbound.js';
import { addPushTarget, previewFields, resultCard } from './push.js';

/**
 * 以考促学 in chat. `考试` starts a quiz; each question is a card whose buttons carry only
 * {t: attempt id, q: question index, o: shown option position}: the shuffle and the answer
 * stay on the server, and every click is re-checked against the attempt in the database.
 * The clicked card is updated in place with the verdict and explanation; the next question
 * arrives as a new card.
 */

const position = z.coerce.number().int().min(0).max(OPTION_LETTERS.length - 1);
const ref = { t: z.coerce.string().regex(/^\d{1,18}$/), q: z.coerce.number().int().min(0).max(200) };
const answerSchema = z.object({ ...ref, o: position });
const tickSchema = z.object({ ...ref, o: position, s: z.coerce.number().int().min(0).max(1) });
const submitSchema = z.object(ref);
const pageSchema = z.object({ p: z.coerce.number().int().min(0).max(1000) });

const WRONG_PAGE_SIZE = 3;
const shownLetters = (positions: number[]): string => positions.map((p) => OPTION_LETTERS[p]).join('');

// ---- cards --------------------------------------------------------------------------------

function optionLines(q: QuestionVersion, order: number[], mark: (shown: number, original: number) => string): string {
  return order.map((original, shown) => `${mark(shown, original)}${OPTION_LETTERS[shown]}. ${q.options[original]}`).join('\n');
}

function heading(view: AttemptView, idx: number): string {
  return `${view.title} · 第 ${idx + 1}/${view.attempt.questionCount} 题`;
}

/** The question as the person sees it: no answer, no explanation, shown order only. */
export function questionCard(view: AttemptView, idx: number, timeZone: string, extra: CardElement[] = []): Card {
  const { attempt } = view;
  const q = view.questions[idx];
  const item = attempt.items[idx];
  const base = { t: attempt.id, q: idx };
  const ticked = new Set(item.pending);
  const buttons =
    q.type === 'multiple'
      ? [
          ...item.optionOrder.map((_, shown) =>
            button(`${ticked.has(shown) ? '☑' : '☐'} ${OPTION_LETTERS[shown]}`, 'quiz.tick', { ...base, o: shown, s: ticked.has(shown) ? 0 : 1 }),
          ),
          button('提交答案', 'quiz.submit', base, { style: 'primary' }),
        ]
      : item.optionOrder.map((original, shown) => button(q.type === 'judge' ? q.options[original] : OPTION_LETTERS[shown], 'quiz.answer', { ...base, o: shown }));
  return card(
    heading(view, idx),
    [
      markdown(`**【${TYPE_NAMES[q.type]}】**${escapeMarkdown(q.stem)}`),
      q.type !== 'judge' && text(optionLines(q, item.optionOrder, (shown) => (q.type === 'multiple' ? (ticked.has(shown) ? '☑ ' : '☐ ') : ''))),
      actions(...buttons),
      note(
        `${q.type === 'multiple' ? `多选题：点选全部正确选项后点“提交答案”，全部选对才得分${ticked.size ? `（已选 ${shownLetters([...ticked].sort())}）` : ''}。` : '点击按钮作答。'}也可回复“答 ${q.type === 'judge' ? '对' : q.type === 'multiple' ? 'AC' : 'B'}”作答。请在 ${chineseTime(attempt.expiresAt, timeZone)} 前完成。`,
      ),
      ...extra,
    ],
    'blue',
  );
}

/** The same question after the answer: right or wrong, the correct options, the reason. */
export function answeredCard(view: AttemptView, idx: number): Card {
  const q = view.questions[idx];
  const item = view.attempt.items[idx];
  const selected = new Set(item.selected ?? []);
  const right = new Set(q.answer);
  const correct = item.correct === true;
  const shownRight = item.optionOrder.map((o, s) => (right.has(o) ? s : -1)).filter((s) => s >= 0);
  const shownChosen = item.optionOrder.map((o, s) => (selected.has(o) ? s : -1)).filter((s) => s >= 0);
  return card(
    `${heading(view, idx)} · ${correct ? '回答正确' : '回答错误'}`,
    [
      markdown(`**【${TYPE_NAMES[q.type]}】**${escapeMarkdown(q.stem)}`),
      text(optionLines(q, item.optionOrder, (_s, o) => (right.has(o) ? '✅ ' : selected.has(o) ? '❌ ' : '▫️ '))),
      fields([
        ['正确答案', q.type === 'judge' ? q.options[q.answer[0]] : shownLetters(shownRight)],
        ['您的答案', shownChosen.length ? (q.type === 'judge' ? q.options[item.optionOrder[shownChosen[0]]] : shownLetters(shownChosen)) : '未作答'],
      ]),
      markdown(`**解析**：${escapeMarkdown(q.explanation)}`),
      note(`出处：${q.source}（${ruleLabel(q.rule, q.topic)}）`),
    ],
    correct ? 'green' : 'red',
  );
}

/** A question card whose time ran out before it was answered. */
function timedOutCard(view: AttemptView, idx: number): Card {
  const q = view.questions[idx];
  return card(`${heading(view, idx)} · 已超时`, [markdown(`**【${TYPE_NAMES[q.type]}】**${escapeMarkdown(q.stem)}`), note('答题时间已到，本题未作答。')], 'grey');
}

/** Rules behind the wrong answers, in the order they were met. */
function rulesToRevisit(view: AttemptView): string[] {
  const seen = new Map<string, string>();
  view.attempt.items.forEach((item, i) => {
    if (item.correct === true) return;
    const q = view.questions[i];
    const key = ruleGroup(q.rule, q.topic);
    if (!seen.has(key)) seen.set(key, ruleLabel(q.rule, q.topic));
  });
  return [...seen.values()];
}

export function scoreCard(view: AttemptView, attemptsLeft?: number): Card {
  const a = view.attempt;
  const ok = a.passed === true;
  const minutes = a.finishedAt ? Math.max(1, Math.round((a.finishedAt.getTime() - a.startedAt.getTime()) / 60_000)) : undefined;
  const revisit = rulesToRevisit(view);
  return card(
    `${view.title} · ${a.score ?? 0} 分 · ${ok ? '通过' : '未通过'}`,
    [
      fields([
        ['得分', `${a.score ?? 0} 分`],
        ['答对', `${a.correctCount ?? 0} / ${a.questionCount} 题`],
        ['及格线', `${a.passMark} 分`],
        ['状态', a.state === 'expired' ? '答题时间已到，按已作答的题目计分' : '已完成'],
        ...(minutes ? [['用时', `约 ${minutes} 分钟`] as [string, string]] : []),
      ]),
      ok && revisit.length === 0 && markdown('全部答对，您对廉洁从业的要求掌握得很扎实！'),
      revisit.length > 0 && markdown(`**建议复习**\n${revisit.map((r) => `- ${escapeMarkdown(r)}`).join('\n')}`),
      !ok && attemptsLeft !== undefined && attemptsLeft > 0 && note(`这场考试您还可以再参加 ${attemptsLeft} 次：发送“考试 ${a.examId}”。`),
      note('发送“错题”回顾答错的题目和解析；发送“成绩”查看历次成绩。'),
    ],
    ok ? 'green' : 'red',
  );
}

/** The invitation a monthly exam push sends (for the scheduler's outbound queue). */
export function examInviteCard(exam: Exam, reminder = false): Card {
  const n = Array.isArray(exam.questions) ? exam.questions.length : exam.questions;
  return card(
    reminder ? `提醒：${exam.title}将于${chineseDay(exam.dueOn)}截止` : `请参加：${exam.title}`,
    [
      fields([
        ['题量', `${n} 题`],
        ['开放时间', `${chineseDay(exam.opensOn)} 至 ${chineseDay(exam.dueOn)}`],
        ['可参加次数', `${exam.attemptsAllowed} 次`],
      ]),
      markdown(`发送 **考试 ${escapeMarkdown(exam.id)}** 开始答题，每题作答后即可看到解析。`),
      reminder && note('您还没有完成这场考试，请在截止前参加。'),
    ],
    reminder ? 'orange' : 'blue',
  );
}

// ---- handlers -----------------------------------------------------------------------------

export function registerQuiz(bot: Bot, service = new QuizService(bot.db, bot.deps.settings.quiz, { timeZone: bot.timeZone })): QuizService {
  const finalCard = async (view: AttemptView) => scoreCard(view, view.attempt.passed ? undefined : await service.attemptsLeft(view));

  bot.command(
    { names: ['考试', 'quiz', '测验', '答题'], usage: '考试 [考试编号 | 交卷]', summary: '做一次廉洁从业知识测验（默认 10 题，每题附解析）；带编号则参加当月考试', group: '学习与考试',
      // A quiz card in a group shows the asker's answers as they go and ends with their score.
      confidential: true },
    async (ctx) => {
      const arg = ctx.args[0];
      if (arg === '交卷' || arg?.toLowerCase() === 'submit') {
        const view = await service.handIn(ctx.staff, ctx.now);
        if (!view) return '您当前没有进行中的考试。发送“考试”可以开始一次测验。';
        return finalCard(view);
      }
      const started = await service.start(ctx.staff, arg, ctx.now);
      const view = started.view;
      const idx = view.attempt.currentIndex;
      if (started.kind === 'resumed') {
        return questionCard(view, idx, bot.timeZone, [
          note(
            `您有一场未完成的“${view.title}”，已答 ${idx} 题，请从第 ${idx + 1} 题继续。${started.otherRequested ? '完成它（或发送“考试 交卷”）后才能开始新的考试。' : ''}`,
          ),
        ]);
      }
      if (started.expired) await ctx.reply(await finalCard(started.expired));
      const others = view.exam ? [] : service.openExamsFor(ctx.staff, ctx.now);
      return questionCard(view, idx, bot.timeZone, [
        note(`共 ${view.attempt.questionCount} 题，及格线 ${view.attempt.passMark} 分，限时至 ${chineseTime(view.attempt.expiresAt, bot.timeZone)}。选项顺序每次随机。`),
        ...others.map((e) => note(`另有“${e.title}”待参加（${chineseDay(e.dueOn)}截止）：发送“考试 ${e.id}”。`)),
      ]);
    },
  );

  const after = async (ctx: ActionContext, r: StepResult) => {
    const { view } = r;
    if (r.kind === 'ticked') return { card: questionCard(view, r.idx, bot.timeZone) };
    if (r.kind === 'expired') {
      await ctx.reply(await finalCard(view));
      return { toast: '答题时间已到，已按已作答的题目自动交卷。', card: timedOutCard(view, view.attempt.currentIndex) };
    }
    if (view.attempt.state === 'active') await ctx.reply(questionCard(view, view.attempt.currentIndex, bot.timeZone));
    else await ctx.reply(await finalCard(view));
    return { card: answeredCard(view, r.idx) };
  };

  // The buttons' twin for clients where card clicks do not arrive: 答 B / 答 ACD / 答 对.
  bot.command({ names: ['答', 'answer'], usage: '答 选项', summary: '用消息回答当前测验题，例如“答 B”“答 ACD”“答 对”', group: '学习与考试', confidential: true }, async (ctx) => {
    const r = await service.answerTyped(ctx.staff, ctx.rest, ctx.now);
    if (!r) return '您当前没有进行中的测验。发送“考试”开始一次测验。';
    const { view } = r;
    if (r.kind === 'expired') return finalCard(view);
    if (r.kind !== 'answered') return questionCard(view, view.attempt.currentIndex, bot.timeZone);
    await ctx.reply(answeredCard(view, r.idx));
    return view.attempt.state === 'active' ? questionCard(view, view.attempt.currentIndex, bot.timeZone) : finalCard(view);
  });

  bot.action(
    'quiz.answer',
    async (ctx) => {
      const v = answerSchema.parse(ctx.value);
      return after(ctx, await service.answer(ctx.staff, v.t, v.q, v.o, ctx.now));
    },
    { schema: answerSchema, confidential: true },
  );
  bot.action(
    'quiz.tick',
    async (ctx) => {
      const v = tickSchema.parse(ctx.value);
      return after(ctx, await service.tick(ctx.staff, v.t, v.q, v.o, v.s === 1, ctx.now));
    },
    { schema: tickSchema, confidential: true },
  );
  bot.action(
    'quiz.submit',
    async (ctx) => {
      const v = submitSchema.parse(ctx.value);
      return after(ctx, await service.submit(ctx.staff, v.t, v.q, ctx.now));
    },
    { schema: submitSchema, confidential: true },
  );

  const wrongCard = async (ctx: { staff: ActionContext['staff']; now: Date }, page: number): Promise<Card | string> => {
    const wrong = await service.wrongAnswers(ctx.staff, ctx.now);
    if (wrong.length === 0) return '您目前没有答错的题目，继续保持！发送“考试”再做一次测验。';
    const pages = Math.ceil(wrong.length / WRONG_PAGE_SIZE);
    const p = Math.min(page, pages - 1);
    const slice = wrong.slice(p * WRONG_PAGE_SIZE, (p + 1) * WRONG_PAGE_SIZE);
    const elements: CardElement[] = [];
    slice.forEach((w, i) => {
      const q = w.question;
      const chosen = w.selected ?? [];
      if (i > 0) elements.push(divider());
      elements.push(markdown(`**${p * WRONG_PAGE_SIZE + i + 1}.【${TYPE_NAMES[q.type]}】**${escapeMarkdown(q.stem)}`));
      elements.push(text(q.options.map((o, k) => `${q.answer.includes(k) ? '✅ ' : chosen.includes(k) ? '❌ ' : '▫️ '}${OPTION_LETTERS[k]}. ${o}`).join('\n')));
      elements.push(fields([['您当时的答案', chosen.length ? chosen.map((k) => OPTION_LETTERS[k]).join('') : '未作答'], ['正确答案', q.answer.map((k) => OPTION_LETTERS[k]).join('')]]));
      elements.push(markdown(`**解析**：${escapeMarkdown(q.explanation)}`));
      elements.push(note(`出处：${q.source}（${ruleLabel(q.rule, q.topic)}）`));
    });
    const nav = [
      ...(p > 0 ? [button('上一页', 'quiz.wrong', { p: p - 1 })] : []),
      ...(p + 1 < pages ? [button('下一页', 'quiz.wrong', { p: p + 1 }, { style: 'primary' })] : []),
    ];
    return card(`错题回顾 · 第 ${p + 1}/${pages} 页（共 ${wrong.length} 题）`, [...elements, nav.length > 0 && actions(...nav), note('选项按题库原顺序列出。')], 'orange');
  };

  bot.command({ names: ['错题', 'mistakes', '错题本'], usage: '错题', summary: '回顾自己答错的题目、正确答案和解析', group: '学习与考试', confidential: true }, (ctx) => wrongCard(ctx, 0));
  bot.action(
    'quiz.wrong',
    async (ctx) => {
      const out = await wrongCard(ctx, pageSchema.parse(ctx.value).p);
      return typeof out === 'string' ? { toast: out } : { card: out };
    },
    { schema: pageSchema, confidential: true },
  );

  bot.command({ names: ['成绩', 'scores', '考试成绩'], usage: '成绩', summary: '查看自己的历次测验成绩和每场考试的最好成绩', group: '学习与考试', confidential: true }, async (ctx) => {
    const { attempts, best } = await service.results(ctx.staff, ctx.now);
    const open = service.openExamsFor(ctx.staff, ctx.now).filter((e) => !best.some((b) => b.examId === e.id));
    if (attempts.length === 0) {
      return card('我的成绩', [text('您还没有参加过测验。发送“考试”开始第一次测验。'), ...open.map((e) => note(`“${e.title}”待参加（${chineseDay(e.dueOn)}截止）：发送“考试 ${e.id}”。`))], 'blue');
    }
    const resultText = (s: string, score: number | null, ok: boolean | null) => (s === 'active' ? '进行中' : `${score ?? 0} 分 · ${ok ? '通过' : '未通过'}${s === 'expired' ? '（超时）' : ''}`);
    return card(
      '我的成绩',
      [
        markdown('**每场考试的最好成绩**'),
        table(
          ['考试', '最好成绩', '次数', '结果'],
          best.map((b) => [b.title, `${b.best} 分`, b.allowed ? `${b.attempts}/${b.allowed}` : String(b.attempts), b.passed ? '通过' : '未通过']),
        ),
        markdown('**最近的测验**'),
        table(['开始时间', '考试', '成绩'], attempts.map((a) => [chineseTime(a.startedAt, bot.timeZone), a.title, resultText(a.state, a.score, a.passed)])),
        ...open.map((e) => note(`“${e.title}”待参加（${chineseDay(e.dueOn)}截止）：发送“考试 ${e.id}”。`)),
      ],
      'blue',
    );
  });

  bot.command(
    { names: ['考试情况', 'exams'], usage: '考试情况 [考试编号]', summary: '查看月度考试的参加和通过情况（按科室）', roles: ['leader', 'discipline', 'admin'], group: '学习与考试' /* per-department counts and means, no names */ },
    async (ctx) => {
      const exams = service.settings.exams;
      if (!ctx.args[0]) {
        if (exams.length === 0) return '目前没有配置月度考试。管理员可在 qinglian.yaml 的 quiz.exams 中添加。';
        const state = { upcoming: '未开始', open: '进行中', closed: '已截止' } as const;
        return card('月度考试', [
          table(['编号', '名称', '时间', '状态'], exams.map((e) => [e.id, e.title, `${chineseDay(e.opensOn)}–${chineseDay(e.dueOn)}`, state[examWindow(e, ctx.now, bot.timeZone)]])),
          note('发送“考试情况 编号”查看某场考试各科室的情况。'),
        ]);
      }
      const exam = service.exam(ctx.args[0]);
      if (!exam) throw new UserError(`没有编号为“${ctx.args[0]}”的考试。发送“考试情况”查看全部考试。`);
      const { departments, people } = await service.examProgress(exam, ctx.now);
      const took = people.filter((p) => p.result).length;
      const pct = (a: number, b: number) => (b === 0 ? '—' : `${Math.round((100 * a) / b)}%`);
      return card(`${exam.title} · 参加情况`, [
        fields([
          ['应参加', `${people.length} 人`],
          ['已参加', `${took} 人（${pct(took, people.length)}）`],
          ['已通过', `${people.filter((p) => p.result?.passed).length} 人`],
          ['截止', chineseDay(exam.dueOn)],
        ]),
        table(
          ['科室', '应参加', '已参加', '通过', '平均最好成绩'],
          departments.map((d) => [d.department, d.audience, `${d.took}（${pct(d.took, d.audience)}）`, d.passed, d.meanBest === null ? '—' : d.meanBest.toFixed(1)]),
        ),
      ]);
    },
  );
  if (hasScheduling(bot)) {
    addPushTarget(bot, {
      words: ['考试', 'exam'],
      label: '考试 [编号]',
      async run(ctx, args) {
        const exam = examToPush(bot, service, args[0], ctx.now);
        const r = await inviteToExam(bot, exam, await service.nonTakers(exam), ctx.staff.staffId);
        return resultCard(`已推送考试通知：${exam.title}`, r);
      },
      async preview(ctx, args) {
        const exam = examToPush(bot, service, args[0], ctx.now);
        const { outbound } = scheduling(bot);
        const pending = await service.nonTakers(exam);
        const sent = await outbound.status(`quiz.exam.${exam.id}.open`);
        return card(`预览：考试通知 · ${exam.title}（不会发送）`, [
          fields([...previewFields(outbound.preview(pending)), ['此前已推送', sent?.total ?? 0], ['截止', chineseDay(exam.dueOn)]]),
          note(`收件人是考试范围内尚未参加的人员。发送“推送 考试 ${exam.id}”即推送；此前已收到的人员不会重复收到。`),
        ]);
      },
    });
    const { scheduler } = scheduling(bot);
    scheduler.every('quiz.exams', dailyAt(bot.deps.settings.quiz.examPushTime), async ({ now }) => {
      const done = await runExamPushes(bot, service, now);
      if (done.length > 0) bot.log.info({ done }, 'quiz exam pushes');
    });
    // Attempts left alone past their limit are closed and scored here, and the person is told;
    // a click on an old card would close them too, but nobody may click again.
    scheduler.interval('quiz.expire', 60_000, async ({ now }) => {
      for (const view of await service.expireDue(now)) {
        const staff = await getStaff(bot.db, view.attempt.staffId);
        if (!staff?.active) continue;
        await bot.sendToStaff(staff, await finalCard(view), `quiz-expired-${view.attempt.id}`).catch((err: unknown) => bot.log.warn({ err, attemptId: view.attempt.id }, 'expired quiz score card not sent'));
      }
    });
  }
  return service;
}

/** The invitation campaign of an exam; the daily check and an administrator's 推送 share its key. */
function inviteToExam(bot: Bot, exam: Exam, recipients: Staff[], createdBy?: string): Promise<CampaignResult> {
  return scheduling(bot).outbound.createCampaign({
    key: `quiz.exam.${exam.id}.open`,
    kind: 'quiz.exam',
    title: `考试通知：${exam.title}`,
    recipients,
    render: () => examInviteCard(exam),
    ...(createdBy ? { createdBy } : {}),
  });
}

/** The exam an administrator means by `推送 考试 [编号]`: the named one, or the only one open. */
function examToPush(bot: Bot, service: QuizService, id: string | undefined, now: Date): Exam {
  const exams = service.settings.exams;
  if (id) {
    const exam = service.exam(id);
    if (!exam) throw new UserError(`没有编号为“${id}”的考试。${exams.length ? `已配置的考试：${exams.map((e) => e.id).join('、')}。` : ''}`);
    const w = examWindow(exam, now, bot.timeZone);
    if (w === 'upcoming') throw new UserError(`“${exam.title}”将于${chineseDay(exam.opensOn)}开放，开放当天会自动推送；开放前不能推送。`);
    if (w === 'closed') throw new UserError(`“${exam.title}”已于${chineseDay(exam.dueOn)}截止，不再推送。`);
    return exam;
  }
  const open = exams.filter((e) => examWindow(e, now, bot.timeZone) === 'open');
  if (open.length === 1) return open[0];
  if (open.length === 0) throw new UserError('当前没有开放中的考试。考试写在 qinglian.yaml 的 quiz.exams 中，开放当天会自动推送。');
  throw new UserError(`当前有 ${open.length} 场考试开放，请写明编号：${open.map((e) => `推送 考试 ${e.id}（${e.title}）`).join('；')}。`);
}

/**
 * The daily exam check: every open exam is pushed, through the outbound queue, to the audience
 * not yet invited who have not taken it (so late joiners get it too), and on the configured
 * days before the due date non-takers get a reminder. Campaign keys make both exactly-once.
 */
export async function runExamPushes(bot: Bot, service: QuizService, now: Date): Promise<string[]> {
  const { outbound, timeZone } = scheduling(bot);
  const today = dayOf(now, timeZone);
  const done: string[] = [];
  for (const exam of service.settings.exams) {
    if (examWindow(exam, now, timeZone) !== 'open') continue;
    const pending = await service.nonTakers(exam);
    const invite = await inviteToExam(bot, exam, pending);
    done.push(`invite ${exam.id} +${invite.added}`);
    if (today !== exam.opensOn && reminderDays(exam).includes(today)) {
      const daysLeft = daysBetween(today, exam.dueOn);
      const r = await outbound.createCampaign({
        key: `quiz.exam.${exam.id}.remind.${daysLeft}`,
        kind: 'quiz.exam.remind',
        title: `考试提醒：${exam.title}（还剩 ${daysLeft} 天）`,
        recipients: pending,
        render: () => examInviteCard(exam, true),
      });
      done.push(`remind ${exam.id} ${daysLeft}d +${r.added}`);
    }
  }
  return done;
}
