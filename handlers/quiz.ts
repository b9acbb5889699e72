import { z } from 'zod';
import {
  answeredCard,
  examInviteCard,
  examListCard,
  examProgressCard,
  examPushPreviewCard,
  handInConfirmCard,
  myScoresCard,
  questionCard,
  resumedQuestionCard,
  scoreCard,
  startedQuestionCard,
  timedOutCard,
  wrongAnswersCard,
} from '../cards/quiz.js';
import type { Card } from '../cards/model.js';
import { flag, opt, text, word } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import type { ActionContext } from '../src/bot/context.js';
import { dailyAt, hasScheduling, scheduling } from '../scheduler/index.js';
import { UserError } from '../src/errors.js';
import { chineseDay, dayOf, examWindow, reminderDays, type Exam } from '../src/domain/quiz/exams.js';
import { daysBetween } from '../src/domain/calendar.js';
import { OPTION_LETTERS } from '../src/domain/quiz/question.js';
import { QuizService, type AttemptView, type StepResult } from '../src/domain/quiz/service.js';
import { type Staff } from '../src/store/staff.js';
import type { CampaignResult } from '../scheduler/outbound.js';
import { previewFields, resultCard } from '../cards/push.js';
import { addPushTarget } from './push.js';

/**
 * 以考促学 in chat. `考试` starts a quiz; each question is a card (cards/quiz.ts) and every
 * click is re-checked against the attempt in the database. The clicked card is updated in
 * place with the verdict and explanation; the next question arrives as a new card.
 */

const position = z.coerce.number().int().min(0).max(OPTION_LETTERS.length - 1);
const ref = { t: z.coerce.string().regex(/^\d{1,18}$/), q: z.coerce.number().int().min(0).max(200) };
const answerSchema = z.object({ ...ref, o: position });
const tickSchema = z.object({ ...ref, o: position, s: z.coerce.number().int().min(0).max(1) });
const submitSchema = z.object(ref);
const attemptSchema = z.object({ t: ref.t });
const examSchema = z.object({ e: z.string().regex(/^[A-Za-z0-9_.-]{1,60}$/) });
const NO_ACTIVE = '您当前没有进行中的考试。发送“考试”可以开始一次测验。';
const pageSchema = z.object({ p: z.coerce.number().int().min(0).max(1000) });

// ---- handlers -----------------------------------------------------------------------------

export function registerQuiz(bot: Bot, service: QuizService = bot.repos.quizService): QuizService {
  const finalCard = async (view: AttemptView) => scoreCard(view, view.attempt.passed ? undefined : await service.attemptsLeft(view));

  bot.command(
    { names: ['考试', 'quiz', '测验', '答题'], args: [opt(word('exam', '考试编号'))], summary: '做一次廉洁从业知识测验（默认 10 题，每题附解析）；带编号则参加当月考试', group: '学习与考试',
      // A quiz card in a group shows the asker's answers as they go and ends with their score.
      confidential: true },
    async (ctx) => begin(ctx, ctx.params.exam),
  );
  bot.command(
    { names: ['考试 交卷', '考试 submit'], args: [opt(flag('confirmed', ['确认', 'confirm']))], summary: '交卷', group: '学习与考试', confidential: true },
    async (ctx) => {
      const active = await service.activeView(ctx.staff);
      if (!active) return NO_ACTIVE;
      const unanswered = active.attempt.items.filter((i) => i.selected === null).length;
      if (unanswered > 0 && !ctx.params.confirmed && ctx.now < active.attempt.expiresAt) return handInConfirmCard(active, unanswered);
      const view = await service.handIn(ctx.staff, ctx.now);
      if (!view) return NO_ACTIVE;
      return finalCard(view);
    },
  );

  bot.action(
    'quiz.handin',
    async (ctx) => {
      // Only the attempt the card was made for: an old confirmation never hands in a newer attempt.
      const active = await service.activeView(ctx.staff);
      if (!active || active.attempt.id !== ctx.value.t) return { toast: '这场测验已经结束，这张卡片上的操作不再生效。' };
      const view = await service.handIn(ctx.staff, ctx.now);
      if (!view) return { toast: NO_ACTIVE };
      return { card: await finalCard(view) };
    },
    { schema: attemptSchema, confidential: true },
  );
  bot.action(
    'quiz.resume',
    async (ctx) => {
      const active = await service.activeView(ctx.staff);
      if (!active || active.attempt.id !== ctx.value.t) return { toast: '这场测验已经结束，这张卡片上的操作不再生效。' };
      await ctx.reply(questionCard(active, active.attempt.currentIndex, bot.timeZone));
      return { toast: '已回到当前题目。' };
    },
    { schema: attemptSchema, confidential: true },
  );
  bot.action(
    'quiz.begin',
    async (ctx) => {
      const out = await begin(ctx, ctx.value.e);
      await ctx.reply(out);
      return { toast: '已开始答题，题目已发送。' };
    },
    { schema: examSchema, confidential: true },
  );

  /** `考试 [编号]` and the invitation's 开始答题: start, or show again the attempt under way. */
  async function begin(ctx: { staff: Staff; now: Date; reply: ActionContext['reply'] }, arg: string | undefined): Promise<Card> {
    const started = await service.start(ctx.staff, arg, ctx.now);
    const view = started.view;
    if (started.kind === 'resumed') return resumedQuestionCard(view, started.otherRequested, bot.timeZone);
    if (started.expired) await ctx.reply(await finalCard(started.expired));
    const others = view.exam ? [] : service.openExamsFor(ctx.staff, ctx.now);
    return startedQuestionCard(view, others, bot.timeZone);
  }

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
  bot.command({ names: ['答', 'answer'], args: [text('answer', '选项')], example: '答 B', summary: '用消息回答当前测验题，例如“答 B”“答 ACD”“答 对”', group: '学习与考试', confidential: true }, async (ctx) => {
    const r = await service.answerTyped(ctx.staff, ctx.params.answer, ctx.now);
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
      const v = ctx.value;
      return after(ctx, await service.answer(ctx.staff, v.t, v.q, v.o, ctx.now));
    },
    { schema: answerSchema, confidential: true },
  );
  bot.action(
    'quiz.tick',
    async (ctx) => {
      const v = ctx.value;
      return after(ctx, await service.tick(ctx.staff, v.t, v.q, v.o, v.s === 1, ctx.now));
    },
    { schema: tickSchema, confidential: true },
  );
  bot.action(
    'quiz.submit',
    async (ctx) => {
      const v = ctx.value;
      return after(ctx, await service.submit(ctx.staff, v.t, v.q, ctx.now));
    },
    { schema: submitSchema, confidential: true },
  );

  const wrongCard = async (ctx: { staff: ActionContext['staff']; now: Date }, page: number): Promise<Card | string> => {
    const wrong = await service.wrongAnswers(ctx.staff, ctx.now);
    if (wrong.length === 0) return '您目前没有答错的题目，继续保持！发送“考试”再做一次测验。';
    return wrongAnswersCard(wrong, page);
  };

  bot.command({ names: ['错题', 'mistakes', '错题本'], summary: '回顾自己答错的题目、正确答案和解析', group: '学习与考试', confidential: true }, (ctx) => wrongCard(ctx, 0));
  bot.action(
    'quiz.wrong',
    async (ctx) => {
      const out = await wrongCard(ctx, ctx.value.p);
      return typeof out === 'string' ? { toast: out } : { card: out };
    },
    { schema: pageSchema, confidential: true },
  );

  bot.command({ names: ['成绩', 'scores', '考试成绩'], summary: '查看自己的历次测验成绩和每场考试的最好成绩', group: '学习与考试', confidential: true }, async (ctx) => {
    const { attempts, best } = await service.results(ctx.staff, ctx.now);
    const open = service.openExamsFor(ctx.staff, ctx.now).filter((e) => !best.some((b) => b.examId === e.id));
    return myScoresCard(attempts, best, open, bot.timeZone);
  });

  bot.command(
    { names: ['考试情况', 'exams'], args: [opt(word('exam', '考试编号'))], summary: '查看月度考试的参加和通过情况（按科室）', roles: ['leader', 'discipline', 'admin'], group: '学习与考试' /* per-department counts and means, no names */ },
    async (ctx) => {
      const exams = service.settings.exams;
      const id = ctx.params.exam;
      if (!id) {
        if (exams.length === 0) return '目前没有配置月度考试。管理员可在 qinglian.yaml 的 quiz.exams 中添加。';
        return examListCard(exams, ctx.now, bot.timeZone);
      }
      const exam = service.exam(id);
      if (!exam) throw new UserError(`没有编号为“${id}”的考试。发送“考试情况”查看全部考试。`);
      const { departments, people } = await service.examProgress(exam, ctx.now);
      return examProgressCard(exam, departments, people);
    },
  );
  if (hasScheduling(bot)) {
    addPushTarget(bot, {
      words: ['考试', 'exam'],
      args: [opt(word('exam', '编号'))],
      async run(ctx) {
        const exam = examToPush(bot, service, ctx.params.exam, ctx.now);
        const r = await inviteToExam(bot, exam, await service.nonTakers(exam), ctx.staff.staffId);
        return resultCard(`已推送考试通知：${exam.title}`, r);
      },
      async preview(ctx) {
        const exam = examToPush(bot, service, ctx.params.exam, ctx.now);
        const { outbound } = scheduling(bot);
        const pending = await service.nonTakers(exam);
        const sent = await outbound.status(`quiz.exam.${exam.id}.open`);
        return examPushPreviewCard(exam, previewFields(outbound.preview(pending)), sent?.total ?? 0);
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
        const staff = await bot.repos.staff.getStaff(view.attempt.staffId);
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
