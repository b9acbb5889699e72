import { z } from 'zod';
import { renderBarChart } from '../cards/chart-png.js';
import type { Card } from '../cards/model.js';
import {
  NOTICE_DISCARD_ACTION,
  NOTICE_FILE_ACTION,
  NOTICE_PUBLISH_ACTION,
  NOTICE_QUESTIONS_ACTION,
  NOTICE_READ_ACTION,
  noticeCard,
  noticeDepartmentsCard,
  noticeListCard,
  noticePreviewCard,
  noticePublishedCard,
  noticeRatesCard,
  noticeReminderText,
  ruleQuestionsCard,
} from '../cards/notice.js';
import { hasScheduling, scheduling } from '../scheduler/index.js';
import type { CampaignResult } from '../scheduler/outbound.js';
import { arg, no, ok, opt, type Parsed } from '../src/bot/args.js';
import type { Bot } from '../src/bot/bot.js';
import type { CommandContext, HandlerContext } from '../src/bot/context.js';
import { monthKey, monthLabel, monthOf, monthRange, parseMonth, shortDateTimeLabel, type Month } from '../src/domain/calendar.js';
import { audienceOf, parseAudience } from '../src/domain/notice/audience.js';
import { noticeWorkbook } from '../src/domain/notice/export.js';
import { BODY_MAX, FILE_MAX_BYTES, noticeNumber, parseKind, parseNoticeNumber, rateValue, shownCount, shownRate, TITLE_MAX } from '../src/domain/notice/notice.js';
import type { QuizService } from '../src/domain/quiz/service.js';
import { FileTooLargeError, PlatformError, UserError } from '../src/errors.js';
import type { Notice, NoticeAudience } from '../src/store/notices.js';
import type { Staff } from '../src/store/staff.js';
import { previewFields } from '../cards/push.js';

/**
 * 通报 with read receipts. The discipline office composes one (`发布通报`, a dialogue), checks
 * the preview with its audience size and confirms; the bot pushes it once per person through
 * the outbound queue; each recipient confirms 已阅 on the card or by message; whoever has not
 * read it after `notice.remindAfterHours` is reminded once. `通报` lists one's own notices.
 * Per-person receipts are shown to the discipline office only; others see counts.
 */

// ---- arguments ------------------------------------------------------------------------------

const NOTICE_HINT = '用法：“通报”查看收到的通报，“通报 编号”查看某一份，例如“通报 12”。';
const READ_HINT = '用法：“已阅 编号”，例如“已阅 12”；只有一份未阅通报时可只回复“已阅”。';

/** TB-12 or 12. */
const noticeId = arg('id', '编号', (i) => {
  const id = parseNoticeNumber(i.word);
  return id ? ok(id) : no();
});

/** `进度 通报 [编号 | 月份]`: a month is written with 年/月 or as YYYY-MM / YYYYMM; any other number is a notice's. */
const noticeOrMonth = arg('target', '编号|月份', (i, env): Parsed<{ id?: string; month?: Month }> => {
  const id = parseNoticeNumber(i.word);
  if (id && !/^20\d{2}-?\d{1,2}$/.test(i.word)) return ok({ id });
  const m = parseMonth(i.word, env.now, env.timeZone);
  return m.ok ? ok({ month: m.month }) : no(`请写通报编号或月份（例如 2026-11）。${m.message}`);
});

const COMPOSE_DIALOGUE = 'notice.compose';

export const noticeKeys = {
  push: (id: string) => `notice.${id}.push`,
  remind: (id: string) => `notice.${id}.remind`,
};

/** A sweep's claim on a reminder lasts this long; a crashed sweep's claim is taken over after it. */
const REMIND_LEASE_MS = 10 * 60_000;

/**
 * The feature's behaviour, built once per bot at registration: the Db is taken from the bot
 * here and reaches the database only through src/store/notices.ts.
 */
function createNoticeFeature(bot: Bot) {
  // ---- pushes -------------------------------------------------------------------------------

  /** `readAt` undefined: not a recipient (the discipline office looking); null: not read yet. */
  async function viewFor(n: Notice, readAt?: Date | null): Promise<Card> {
    const fileName = await bot.repos.notices.noticeFileName(n.fileId);
    return noticeCard({ notice: n, timeZone: bot.timeZone, readAt, recipient: readAt !== undefined, ...(fileName ? { fileName } : {}) });
  }

  /** The push to every recipient; idempotent by campaign key, so the sweep may repeat it after a crash. */
  async function pushNotice(id: string): Promise<CampaignResult> {
    const n = await bot.repos.notices.getNotice(id);
    if (!n || n.state !== 'published') throw new Error(`notice ${id} is not published`);
    const body = await viewFor(n, null);
    const r = await scheduling(bot).outbound.createCampaign({
      key: noticeKeys.push(id),
      kind: 'notice.push',
      title: `通报：${n.title}`,
      recipients: await bot.repos.notices.recipientStaff(id),
      createdBy: n.createdBy,
      render: () => body,
    });
    await bot.repos.notices.markPushed(id, bot.now());
    return r;
  }

  /**
   * Pushes a crash left unqueued, and the reminders that are due: each claimed by one sweep
   * (replicas run it too), sent under one campaign key, then marked done.
   */
  async function runNoticeSweep(now: Date): Promise<string[]> {
    const done: string[] = [];
    for (const id of await bot.repos.notices.unpushedIds()) {
      const r = await pushNotice(id);
      done.push(`push ${id} +${r.added}`);
    }
    for (const id of await bot.repos.notices.dueReminderIds(now, REMIND_LEASE_MS)) {
      if (!(await bot.repos.notices.claimReminder(id, now, REMIND_LEASE_MS))) continue;
      const n = await bot.repos.notices.getNotice(id);
      if (!n) continue;
      const unread = await bot.repos.notices.recipientStaff(id, { unreadOnly: true });
      const r = await scheduling(bot).outbound.createCampaign({
        key: noticeKeys.remind(id),
        kind: 'notice.remind',
        title: `通报提醒：${n.title}`,
        recipients: unread,
        render: () => noticeReminderText(n),
      });
      await bot.repos.notices.markReminded(id, now);
      done.push(`remind ${id} +${r.added}`);
    }
    return done;
  }

  // ---- compose ------------------------------------------------------------------------------

  const NO_FILE_WORDS = new Set(['无', '没有', '不需要', '不用', '否', 'no', 'none']);

  function registerCompose(): void {
    bot.dialogue({
      name: COMPOSE_DIALOGUE,
      cancelMessage: '已取消，通报没有保存，也没有发送给任何人。',
      steps: () => [
        {
          key: 'title',
          prompt: () => `请回复通报标题（不超过 ${TITLE_MAX} 字）。`,
          parse: (t) => (!t ? { ok: false, message: '标题不能为空，请回复通报标题。' } : t.length > TITLE_MAX ? { ok: false, message: `标题有 ${t.length} 字，请缩短到 ${TITLE_MAX} 字以内。` } : { ok: true, value: t }),
        },
        {
          key: 'body',
          prompt: () => `请回复通报正文（不超过 ${BODY_MAX} 字）。`,
          parse: (t) => (!t ? { ok: false, message: '正文不能为空，请回复通报正文。' } : t.length > BODY_MAX ? { ok: false, message: `正文有 ${t.length} 字，请缩短到 ${BODY_MAX} 字以内，或把全文作为附件发送。` } : { ok: true, value: t }),
        },
        {
          key: 'audience',
          prompt: () => '请回复通报范围：“全院”，或科室名称、角色名称（可多个，用空格或顿号隔开，例如“心血管内科 普外科”或“科室负责人”）。',
          parse: async (t) => {
            const a = parseAudience(t, await bot.repos.notices.departmentNames());
            return a.ok ? { ok: true, value: a.audience } : a;
          },
        },
        {
          key: 'kind',
          prompt: () => '这是普通通报，还是典型案例警示教育通报？回复“普通”，或“警示”加九项准则的条目序号（例如“警示 3”），警示通报会附上该条的题目与解析。',
          parse: (t) => {
            const k = parseKind(t);
            return k.ok ? { ok: true, value: { kind: k.kind, rule: k.rule } } : k;
          },
        },
        {
          key: 'file',
          prompt: () => '如需附上文件（不超过 20 MB），请直接发送文件；不需要请回复“无”。',
          parse: async (t, data, files) => {
            if (!files?.length) return NO_FILE_WORDS.has(t.toLowerCase()) ? { ok: true, value: null } : { ok: false, message: '请直接发送一个文件，或回复“无”。' };
            if (files.length > 1) return { ok: false, message: '每份通报只能附一个文件，请只发送一个（可先打包成一个压缩文件）。' };
            const f = files[0];
            try {
              const got = await bot.fetchFile(f.ref, FILE_MAX_BYTES);
              const id = await bot.repos.notices.saveNoticeFile({ name: f.name, mime: got.mime, data: got.data, uploadedBy: String(data.__author) });
              return { ok: true, value: { id, name: f.name } };
            } catch (e) {
              if (e instanceof FileTooLargeError) return { ok: false, message: `“${f.name}”超过 20 MB，没有附上。请压缩后重新发送，或回复“无”。` };
              if (!(e instanceof PlatformError)) throw e;
              bot.log.warn({ platform: e.platform, code: e.code }, 'notice file download failed');
              return { ok: false, message: `暂时无法取回“${f.name}”，请稍后重新发送，或回复“无”。` };
            }
          },
        },
      ],
      complete: async (ctx, data) => {
        const kind = data.kind as { kind: 'general' | 'warning'; rule: number | null };
        const file = data.file as { id: string; name: string } | null;
        const id = await bot.repos.notices.composeDraft({
          kind: kind.kind,
          rule: kind.rule,
          title: String(data.title),
          body: String(data.body),
          fileId: file?.id ?? null,
          audience: data.audience as NoticeAudience,
          createdBy: ctx.staff.staffId,
          at: ctx.now,
        });
        return previewCard((await bot.repos.notices.getNotice(id))!);
      },
    });
  }

  async function previewCard(n: Notice): Promise<Card> {
    const people = audienceOf(n.audience, await bot.repos.notices.activeStaff());
    const p = scheduling(bot).outbound.preview(people);
    const fileName = await bot.repos.notices.noticeFileName(n.fileId);
    return noticePreviewCard(n, { total: p.total, reach: previewFields(p).slice(1) }, fileName);
  }

  async function ownDraft(staff: Staff, id: string): Promise<Notice> {
    const n = await bot.repos.notices.getNotice(id);
    if (!n || n.createdBy !== staff.staffId) throw new UserError('找不到这份通报草稿（只有起草人可以发布或放弃）。请发送“发布通报”重新起草。');
    return n;
  }

  // ---- reading -------------------------------------------------------------------------------

  /** The notice as this person may see it: a recipient, or the discipline office; else not found. */
  async function visibleNotice(ctx: HandlerContext, id: string): Promise<{ notice: Notice; readAt: Date | null | undefined }> {
    const n = await bot.repos.notices.getNotice(id);
    const receipt = n?.state === 'published' ? await bot.repos.notices.receiptOf(id, ctx.staff.staffId) : undefined;
    if (!n || n.state !== 'published' || (!receipt && !ctx.hasRole('discipline'))) throw new UserError(`没有找到发给您的编号为 ${id} 的通报。发送“通报”查看您收到的全部通报。`);
    return { notice: n, readAt: receipt ? receipt.readAt : undefined };
  }

  async function read(ctx: HandlerContext, id: string, via: 'card' | 'message'): Promise<{ text: string; card: Card }> {
    const n = await bot.repos.notices.getNotice(id);
    if (!n || n.state !== 'published') throw new UserError(`没有找到编号为 ${id} 的通报。发送“通报”查看您收到的全部通报。`);
    const out = await bot.repos.notices.confirmRead(id, ctx.staff.staffId, via, ctx.now);
    // Only the actor's own row is ever touched: whoever clicks or types is the one who read.
    if (out.kind === 'not_recipient') throw new UserError('这份通报不是发给您的，无法确认已阅；每人只能为自己确认。');
    const text = out.kind === 'read' ? `已确认阅读《${n.title}》，谢谢！` : `您已于${shortDateTimeLabel(out.at, bot.timeZone)}确认阅读《${n.title}》，无需重复确认。`;
    return { text, card: await viewFor(n, out.at) };
  }

  // ---- progress and export (called from handlers/progress.ts) ------------------------------

  function scopeOf(ctx: CommandContext): { departmentId?: number; full: boolean } {
    const full = ctx.hasRole('discipline');
    if (ctx.hasRole('leader', 'discipline')) return { full };
    if (ctx.hasRole('dept_head')) return { departmentId: ctx.staff.departmentId, full };
    throw new UserError('抱歉，通报阅读情况仅限院领导、纪检监察室和科室负责人查看。');
  }

  /** A hidden rate has no honest bar: no chart rather than a misleading one. */
  function chart(labels: string[], values: (number | null)[]): Buffer | undefined {
    if (values.length === 0 || values.some((v) => v === null)) return undefined;
    return renderBarChart({ labels, values: values as number[], target: 100 });
  }


  async function publishedNotice(id: string): Promise<Notice> {
    const n = await bot.repos.notices.getNotice(id);
    if (!n || n.state !== 'published') throw new UserError(`没有编号为 ${id} 的已发布通报。发送“进度 通报”查看本月的通报。`);
    return n;
  }

  /** `进度 通报 [编号 | 月份]`. */
  async function noticeProgress(ctx: CommandContext, a: { id?: string; month?: Month }): Promise<Card | string> {
    const scope = scopeOf(ctx);
    if (a.id) {
      const n = await publishedNotice(a.id);
      const rows = await bot.repos.notices.readsByDepartment(n.id, scope.departmentId);
      const unread = scope.full ? (await bot.repos.notices.receipts(n.id)).filter((r) => !r.readAt) : undefined;
      return noticeDepartmentsCard(n, rows, scope.full, unread);
    }
    const month = a.month ?? monthOf(ctx.now, bot.timeZone);
    const rows = await bot.repos.notices.noticeRates(monthRange(month, bot.timeZone), scope.departmentId);
    const title = `通报阅读情况 · ${monthLabel(month)}${scope.departmentId !== undefined ? ` · ${ctx.staff.department}` : ''}`;
    if (rows.length === 0) return `${monthLabel(month)}没有发布通报。`;
    return noticeRatesCard(title, rows, scope.full, chart(rows.map((r) => r.title), rows.map((r) => rateValue(r.read, r.total, scope.full))));
  }

  /** `导出 通报 [编号 | 月份]`: the workbook; per-person receipts only for the discipline office. */
  async function noticeExport(ctx: CommandContext, a: { id?: string; month?: Month }): Promise<string> {
    const scope = scopeOf(ctx);
    const base = { generatedAt: ctx.now, timeZone: bot.timeZone, full: scope.full };
    let file: { name: string; data: Buffer };
    if (a.id) {
      const n = await publishedNotice(a.id);
      file = await noticeWorkbook({ ...base, notice: n, departments: await bot.repos.notices.readsByDepartment(n.id, scope.departmentId), ...(scope.full ? { receipts: await bot.repos.notices.receipts(n.id) } : {}) });
    } else {
      const month = a.month ?? monthOf(ctx.now, bot.timeZone);
      file = await noticeWorkbook({ ...base, month, rates: await bot.repos.notices.noticeRates(monthRange(month, bot.timeZone), scope.departmentId) });
    }
    await ctx.replyFile(file.name, file.data);
    bot.log.info({ area: 'notice', notice: a.id ?? null, month: a.month ? monthKey(a.month) : null }, 'notice progress exported');
    return `已生成 ${file.name}，请查收。`;
  }

  return { viewFor, pushNotice, runNoticeSweep, registerCompose, previewCard, ownDraft, visibleNotice, read, noticeProgress, noticeExport };
}

/** The leadership overview's line: the month's notices read rate in the viewer's scope. */
export async function noticeOverviewLine(bot: Bot, month: Month, departmentId: number | undefined, full: boolean): Promise<{ published: number; line: [string, string] }> {
  const rows = await bot.repos.notices.noticeRates(monthRange(month, bot.timeZone), departmentId);
  if (rows.length === 0) return { published: 0, line: ['通报阅读', '本月未发布通报'] };
  const total = rows.reduce((s, r) => s + r.total, 0);
  const readN = rows.reduce((s, r) => s + r.read, 0);
  return { published: rows.length, line: ['通报阅读', `${rows.length} 份，阅读率 ${shownRate(readN, total, full)}（${shownCount(readN, full)}/${shownCount(total, full)}）`] };
}

// ---- registration --------------------------------------------------------------------------

const ref = z.object({ n: z.coerce.string().regex(/^\d{1,18}$/) }).strict();

export function registerNotice(bot: Bot, quiz: QuizService): void {
  if (!hasScheduling(bot)) return;
  const feature = createNoticeFeature(bot);
  const { viewFor, visibleNotice, read, ownDraft, pushNotice, runNoticeSweep, registerCompose } = feature;
  registerCompose();

  bot.command(
    { names: ['通报', 'notices'], args: [opt(noticeId)], hint: NOTICE_HINT, summary: '查看收到的通报（最近的在前）和自己的阅读状态；带编号查看全文', group: '通报',
      // The list carries the asker's own read state, which is theirs and the discipline office's only.
      confidential: true },
    async (ctx) => {
      if (ctx.params.id) {
        const { notice, readAt } = await visibleNotice(ctx, ctx.params.id);
        return viewFor(notice, readAt);
      }
      const items = await bot.repos.notices.noticesFor(ctx.staff.staffId, { limit: 20 });
      if (items.length === 0) return '您还没有收到过通报。';
      return noticeListCard(items, bot.timeZone);
    },
  );

  bot.command(
    { names: ['已阅', 'read'], args: [opt(noticeId)], hint: READ_HINT, summary: '确认已阅读某份通报（与通报卡片上的“已阅”按钮相同）', group: '通报', confidential: true },
    async (ctx) => {
      let id = ctx.params.id;
      if (!id) {
        const unread = await bot.repos.notices.noticesFor(ctx.staff.staffId, { unreadOnly: true, limit: 10 });
        if (unread.length === 0) return '您没有未阅的通报。发送“通报”查看收到的全部通报。';
        if (unread.length > 1) return `您有 ${unread.length} 份未阅通报，请写明编号，例如“已阅 ${unread[0].notice.id}”：\n${unread.map((x) => `${x.notice.id}：${x.notice.title}`).join('\n')}`;
        id = unread[0].notice.id;
      }
      return (await read(ctx, id, 'message')).text;
    },
  );

  bot.command(
    { names: ['发布通报', 'newnotice'], hint: '“发布通报”不需要参数，发送后按提示逐项填写即可。', summary: '起草并发布一份通报（可附文件、按科室或角色选择范围），发布前可预览人数', roles: ['discipline'], group: '通报' },
    async (ctx) => {
      // A draft is not for a group's eyes, and a dialogue there would take the group's next messages.
      if (ctx.conversation.type === 'group') return '起草通报请在与清廉助手的单聊中进行：请私聊发送“发布通报”。';
      await ctx.startDialogue(COMPOSE_DIALOGUE, { data: { __author: ctx.staff.staffId } });
    },
  );

  // The notice figures are this feature's own, under the progress and export commands.
  const figures = { args: [opt(noticeOrMonth)], roles: ['leader' as const, 'discipline' as const, 'dept_head' as const], group: '进度与导出', confidential: true };
  bot.command({ names: ['进度 通报', '进度 notice', '进度 notices'], summary: '通报阅读率', example: '进度 通报 12', ...figures }, (ctx) => feature.noticeProgress(ctx, ctx.params.target ?? {}));
  bot.command({ names: ['导出 通报', '导出 notice', '导出 notices'], summary: '导出通报阅读情况', example: '导出 通报 2026-11', ...figures }, (ctx) => feature.noticeExport(ctx, ctx.params.target ?? {}));

  bot.action(
    NOTICE_READ_ACTION,
    async (ctx) => {
      const r = await read(ctx, ctx.value.n, 'card');
      return { toast: r.text, card: r.card };
    },
    { schema: ref, confidential: true },
  );

  bot.action(
    NOTICE_FILE_ACTION,
    async (ctx) => {
      const { notice } = await visibleNotice(ctx, ctx.value.n);
      const f = notice.fileId ? await bot.repos.notices.noticeFile(notice.fileId) : undefined;
      if (!f) throw new UserError('这份通报没有附件。');
      await ctx.replyFile(f.name, f.data, f.mime);
      return { toast: `已发送附件“${f.name}”。` };
    },
    { schema: ref, confidential: true },
  );

  bot.action(
    NOTICE_QUESTIONS_ACTION,
    async (ctx) => {
      const { notice } = await visibleNotice(ctx, ctx.value.n);
      if (notice.kind !== 'warning' || !notice.rule) throw new UserError('这份通报没有关联九项准则的题目。');
      await quiz.ensureBank();
      await ctx.reply(ruleQuestionsCard(notice.rule, await bot.repos.notices.ruleQuestions(notice.rule)));
      return { toast: '已发送相关题目与解析。' };
    },
    { schema: ref, confidential: true },
  );

  bot.action(
    NOTICE_PUBLISH_ACTION,
    async (ctx) => {
      const n = await ownDraft(ctx.staff, ctx.value.n);
      if (n.state === 'published') return { toast: `这份通报已于此前发布（编号 ${noticeNumber(n.id)}），不会重复发送。` };
      if (n.state === 'discarded') throw new UserError('这份通报草稿已放弃，不能发布。请发送“发布通报”重新起草。');
      const people = audienceOf(n.audience, await bot.repos.notices.activeStaff());
      if (people.length === 0) throw new UserError('这个范围内目前没有在册人员，不能发布。请放弃后重新起草。');
      const remindAfterHours = bot.deps.settings.notice.remindAfterHours;
      const published = await bot.repos.notices.publishNotice({ id: n.id, authorId: ctx.staff.staffId, at: ctx.now, remindAfterHours, recipients: people.map((s) => ({ staffId: s.staffId, departmentId: s.departmentId })) });
      // A second click (or a replica's) lost the guarded update: the first one pushes.
      if (!published) return { toast: '这份通报已经发布，不会重复发送。' };
      bot.log.info({ notice: n.id, recipients: people.length }, 'notice published');
      const r = await pushNotice(n.id);
      const after = (await bot.repos.notices.getNotice(n.id))!;
      return { toast: `已发布，正在发送给 ${people.length} 人。`, card: noticePublishedCard(after, { recipients: people.length, unreachable: r.unreachable }, remindAfterHours) };
    },
    { schema: ref, roles: ['discipline'] },
  );

  bot.action(
    NOTICE_DISCARD_ACTION,
    async (ctx) => {
      const n = await ownDraft(ctx.staff, ctx.value.n);
      if (n.state === 'published') throw new UserError('这份通报已经发布，不能放弃。');
      if (n.state === 'draft') await bot.repos.notices.discardNotice(n.id, ctx.staff.staffId);
      return { toast: '已放弃这份通报草稿，没有发送给任何人。' };
    },
    { schema: ref, roles: ['discipline'] },
  );

  // A calendar job (off with SCHEDULED_JOBS=off, like the other reminders): every five minutes,
  // off the full and half hours when the platforms are busiest.
  scheduling(bot).scheduler.every('notice.sweep', '2-59/5 * * * *', async ({ now }) => {
    const done = await runNoticeSweep(now);
    if (done.length) bot.log.info({ steps: done }, 'notice sweep');
  });
}
