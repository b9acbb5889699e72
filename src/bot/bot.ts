import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ZodError, type ZodType, type z } from 'zod';
import type { Card, FormInput } from '../../cards/model.js';
import { isCard } from '../../cards/model.js';
import type { Settings } from '../config.js';
import { CapabilitiesChanged, FormError, PlatformError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ROLE_NAMES, type Role } from '../domain/roles.js';
import type { Db } from '../store/db.js';
import { createRepositories, type Repositories } from '../store/repositories.js';
import { findStaffByPlatformId, getStaff, type Staff } from '../store/staff.js';
import type { ActionResult, CardAction, ChatPlatform, Conversation, EventSink, IncomingMessage, PlatformName, SentMessage } from '../platform/types.js';
import { smallTalkReply, quoteTyped } from './small-talk.js';
import { closest, parseCommand, type ParsedCommand } from './command-parser.js';
import { count, matchArgs, usageOf, word, type ArgList, type Params } from './args.js';
import type { ActionContext, ActionReply, CommandContext, CommandReply, HandlerContext } from './context.js';
import { CANCEL_WORDS, firstOpenStep, type DialogueSpec, type DialogueState } from './dialogue.js';
import { capabilitiesOf, dialogueInstead, fitCard, FORM_BY_DIALOGUE, FORM_FILL } from './degrade.js';
import { stepsFromForm } from './form-dialogue.js';
import { mimeOf } from '../platform/mime.js';
import { cleanAction, cleanMessage, noticeOnFirstReply, noticeOnResult } from './incoming-text.js';
import { Dedupe } from './state/dedupe.js';
import { DialogueStore, UNREADABLE } from './state/dialogues.js';
import { FormStore } from './state/forms.js';
import { RedisStateStore } from './state/redis.js';
import type { StateStore } from './state/store.js';
import { LockUnavailable, UserLock } from './state/user-lock.js';
import { TypedButtons, TYPED_CLICK_HINT, TYPED_CLICK_WORDS } from './typed-buttons.js';
import { Metrics } from '../metrics.js';

export interface CommandSpec<A extends ArgList = ArgList> {
  /**
   * The first name is shown in help; all are accepted (Chinese and English). A name of two
   * words (`推送 学习`) is a subcommand: its usage joins the line of the first word's command.
   */
  names: string[];
  /** What it takes after its name (src/bot/args.ts); the usage is generated from it. */
  args?: A;
  /** The arguments may come in any order (`进度 2026-11 学习 外科`). */
  anyOrder?: boolean;
  /** An example shown with the usage when a word cannot be placed. */
  example?: string;
  /** Said instead of the usage when a word cannot be placed (a friendlier pointer). */
  hint?: string;
  summary: string;
  /** Roles allowed to run it; absent = everyone on the roster. */
  roles?: Role[];
  /** Help groups commands under these headings. */
  group: string;
  /**
   * Its answers are personal or confidential (declarations, scores, personal data): asked in a
   * group, the group gets a short note and the answer goes to the asker's one-to-one chat.
   */
  confidential?: boolean;
  /** Listed in 帮助 on the line of the command with this name, its usage joined with " | ". */
  partOf?: string;
}

/** A first word that only leads to subcommands (`推送 学习`, `推送 考试`): it answers with their usage. */
export interface CommandGroupSpec {
  names: string[];
  summary: string;
  group: string;
  roles?: Role[];
  /** What the first word is followed by, for "没有“学校”这项推送内容". */
  noun: string;
  /** Said after the usage line, given the subcommands' usages. */
  hint?: (usages: string[]) => string;
}

/** A command as 帮助 lists it: its usage generated, its subcommands on its line. */
export interface HelpLine {
  names: string[];
  usage: string;
  summary: string;
  group: string;
}

type CommandHandler = (ctx: CommandContext<Record<string, unknown>>) => Promise<CommandReply>;
interface CommandEntry {
  spec: CommandSpec;
  handler?: CommandHandler;
  group?: CommandGroupSpec;
}
type ActionHandler = (ctx: ActionContext) => Promise<ActionReply>;

interface ActionOptions<S extends ZodType = ZodType<Record<string, unknown>>> {
  /** Checked before the handler runs; the handler receives what it parses to. */
  schema?: S;
  roles?: Role[];
  /** Like CommandSpec.confidential: clicked in a group, the group card is left as it was. */
  confidential?: boolean;
}

interface ActionEntry extends ActionOptions {
  handler: ActionHandler;
}

/** The first word of a subcommand's name (`推送` of `推送 学习`), if it is one. */
function parentOf(name: string): string | undefined {
  const i = name.indexOf(' ');
  return i > 0 ? name.slice(0, i) : undefined;
}

/** The help line a command is listed on when not its own (`partOf`, or its first word). */
function lineOf(spec: CommandSpec): string | undefined {
  return spec.partOf ?? parentOf(spec.names[0]!);
}

/** Whether the roles allow it; no roles = everyone on the roster. */
function mayRun(spec: CommandSpec, staff: Staff): boolean {
  return !spec.roles || spec.roles.some((r) => staff.roles.includes(r));
}

export const NOT_ON_ROSTER =
  '您好，我是清廉助手。系统的人员名单里还没有您的账号，暂时无法为您服务。请联系医院的管理员（通常在信息科或医务科），把您加入人员名单后再试。';
export const TEMPORARILY_UNAVAILABLE = '抱歉，系统暂时无法处理您的请求，您的操作没有生效，请稍后再试。';
export const STALE_ACTION = '这个按钮已失效或不属于您，请重新发起（发送“帮助”查看可用命令）。';
/** A stored dialogue step from an older version of the dialogue (or unreadable): restarted, never mis-mapped. */
export const DIALOGUE_CHANGED = '抱歉，您正在填写的内容在系统更新后有所调整，之前的填写进度已无法继续，已填写的内容没有保存。请重新发起，按新的步骤填写。';
/** What a group sees when someone there asks for confidential content. */
export const SENT_PRIVATELY = '该内容涉及个人或保密信息，已通过私聊发送给您，请在与清廉助手的单聊中查看。';

/** The form-filling dialogue every platform without form inputs falls back to. */
export const FORM_DIALOGUE = 'form';

export interface BotDeps {
  db: Db;
  redis: Redis;
  settings: Settings;
  redisPrefix: string;
  logger: Logger;
  now?: () => Date;
  metrics?: Metrics;
  /** BOT_TIMEZONE: what "today" and "this month" mean for every feature. */
  timeZone?: string;
  /** Where state between events lives; default Redis under `redisPrefix`, shared by every replica. */
  state?: StateStore;
}

/**
 * The router: normalised events in, handlers called, replies out. It owns dedupe, per-user
 * ordering, identity and dialogues, so handlers see only their feature.
 */
export class Bot implements EventSink {
  readonly commands: CommandEntry[] = [];
  private byName = new Map<string, CommandEntry>();
  private actions = new Map<string, ActionEntry>();
  private dialogues = new Map<string, DialogueSpec>();
  private platforms = new Map<PlatformName, ChatPlatform>();
  private userLock: UserLock;
  readonly state: StateStore;
  private forms: FormStore;
  readonly dedupe: Dedupe;
  readonly dialogueStore: DialogueStore;
  readonly now: () => Date;
  readonly metrics: Metrics;
  readonly timeZone: string;
  readonly typedButtons: TypedButtons;
  /** What handlers reach the database through (src/store/repositories.ts). */
  readonly repos: Repositories;
  private accepting = true;

  constructor(readonly deps: BotDeps) {
    this.metrics = deps.metrics ?? new Metrics();
    this.timeZone = deps.timeZone ?? 'Asia/Shanghai';
    this.state = deps.state ?? new RedisStateStore(deps.redis, deps.redisPrefix);
    this.dedupe = new Dedupe(this.state, deps.settings.dedupe.ttlSeconds);
    this.dialogueStore = new DialogueStore(this.state, deps.settings.dialogue.timeoutMinutes * 60);
    this.forms = new FormStore(this.state);
    this.userLock = new UserLock(this.state);
    this.now = deps.now ?? (() => new Date());
    this.typedButtons = new TypedButtons(this.state);
    this.repos = createRepositories(deps.db, { settings: deps.settings, timeZone: this.timeZone });
    this.registerFormDialogue();
    this.registerTypedClicks();
  }

  get db(): Db {
    return this.deps.db;
  }
  get log(): Logger {
    return this.deps.logger;
  }

  addPlatform(p: ChatPlatform): void {
    this.platforms.set(p.name, p);
  }
  platform(name: PlatformName): ChatPlatform | undefined {
    return this.platforms.get(name);
  }
  allPlatforms(): ChatPlatform[] {
    return [...this.platforms.values()];
  }
  /** The bytes of a file a user sent; its ref (`<platform>:…`) names the platform that holds it. */
  async fetchFile(ref: string, maxBytes: number): Promise<{ data: Buffer; mime: string }> {
    const p = this.platforms.get(ref.split(':')[0] as PlatformName);
    if (!p) throw new PlatformError(`no running platform for file ${ref.split(':')[0]}`, ref.split(':')[0], 'no_platform', false);
    return p.downloadFile(ref, maxBytes);
  }

  command<A extends ArgList = []>(spec: CommandSpec<A>, handler: (ctx: CommandContext<Params<A>>) => Promise<CommandReply>): this {
    // Stored untyped: the router matches the words against the entry's own args first.
    return this.addCommand({ spec: spec as CommandSpec, handler: handler as unknown as CommandHandler });
  }

  commandGroup(spec: CommandGroupSpec): this {
    return this.addCommand({ spec: { names: spec.names, summary: spec.summary, group: spec.group, ...(spec.roles ? { roles: spec.roles } : {}) }, group: spec });
  }

  private addCommand(entry: CommandEntry): this {
    for (const n of entry.spec.names) {
      const key = n.toLowerCase();
      if (this.byName.has(key)) throw new Error(`command name registered twice: ${n}`);
      this.byName.set(key, entry);
    }
    this.commands.push(entry);
    return this;
  }

  action<S extends ZodType = ZodType<Record<string, unknown>>>(actionId: string, handler: (ctx: ActionContext<z.output<S>>) => Promise<ActionReply>, opts: ActionOptions<S> = {}): this {
    if (this.actions.has(actionId)) throw new Error(`action registered twice: ${actionId}`);
    // Stored untyped: the router parses with the entry's own schema before calling its handler.
    this.actions.set(actionId, { ...opts, handler: handler as ActionHandler } as ActionEntry);
    return this;
  }

  dialogue(spec: DialogueSpec): this {
    this.dialogues.set(spec.name, spec);
    return this;
  }

  /** Whether a card action was declared confidential (for tests and the form dialogue). */
  isConfidentialAction(actionId: string): boolean {
    return this.actions.get(actionId)?.confidential === true;
  }

  /** Commands a staff member may run, for help: one line per first word, subcommands on it. */
  commandsFor(staff: Staff): HelpLine[] {
    // A line is shown for what this person may run on it: a leader who may not 上报 still sees 上报 查看.
    return this.commands
      .filter((c) => lineOf(c.spec) === undefined)
      .map((c) => ({ names: c.spec.names, usage: this.usages(c, staff).join(' | '), summary: c.spec.summary, group: c.spec.group }))
      .filter((l) => l.usage);
  }

  /** A command's own usage (if it runs on its own) and its subcommands', those `staff` may run when given. */
  private usages(entry: CommandEntry, staff?: Staff): string[] {
    const name = entry.spec.names[0]!;
    const may = (s: CommandSpec) => !staff || mayRun(s, staff);
    const subs = this.commands.filter((c) => lineOf(c.spec) === name && may(c.spec));
    return [...(entry.handler && may(entry.spec) ? [usageOf(name, entry.spec.args)] : []), ...subs.map((k) => usageOf(k.spec.names[0]!, k.spec.args))];
  }

  // ---- events -------------------------------------------------------------------------

  /** Stops taking new events (graceful shutdown); platforms will redeliver what they do not get acknowledged. */
  stopAccepting(): void {
    this.accepting = false;
  }

  async onMessage(msg: IncomingMessage): Promise<void> {
    if (!this.accepting) throw new Error('bot is shutting down');
    this.metrics.eventsReceived.inc({ platform: msg.platform, kind: 'message' });
    const userKey = `${msg.platform}:${msg.platformUserId}`;
    let first: boolean;
    let ticket = 0;
    try {
      first = await this.dedupe.first(msg.platform, msg.eventId, msg.platformMessageId);
      // The place in this user's line is taken on arrival, so replicas keep arrival order.
      if (first) ticket = await this.userLock.enter(userKey);
    } catch (e) {
      // Redis is away: without dedupe and dialogue state nothing can be handled safely, so
      // nothing is; the user is told so and retries. Acknowledged rather than thrown, so a
      // late redelivery does not act on a message the user was told did not take effect.
      if (msg.conversation.type === 'group' && !msg.mentioned) return;
      this.log.error({ err: (e as Error).message, platform: msg.platform, eventId: msg.eventId }, 'Redis unavailable; message answered as temporarily unavailable');
      await this.platforms.get(msg.platform)?.sendText({ conversation: msg.conversation }, TEMPORARILY_UNAVAILABLE).catch(() => {});
      return;
    }
    if (!first) {
      this.metrics.eventsDuplicate.inc({ platform: msg.platform, kind: 'message' });
      this.log.info({ platform: msg.platform, eventId: msg.eventId, platformMessageId: msg.platformMessageId }, 'duplicate message dropped');
      return;
    }
    try {
      await this.userLock.run(userKey, ticket, async () => {
        try {
          await this.handleMessage(msg);
        } catch (e) {
          // A crash must not eat the event: let the platform's redelivery try again.
          await this.dedupe.release(msg.platform, msg.eventId, msg.platformMessageId).catch(() => {});
          throw e;
        }
      });
    } catch (e) {
      if (!(e instanceof LockUnavailable)) throw e;
      // Nothing of the message ran; as with Redis away, the user is told and may send it again.
      await this.dedupe.release(msg.platform, msg.eventId, msg.platformMessageId).catch(() => {});
      if (msg.conversation.type === 'group' && !msg.mentioned) return;
      this.log.error({ err: e.message, platform: msg.platform, eventId: msg.eventId }, 'per-user lock unavailable; message answered as temporarily unavailable');
      await this.platforms.get(msg.platform)?.sendText({ conversation: msg.conversation }, TEMPORARILY_UNAVAILABLE).catch(() => {});
    }
  }

  async onAction(action: CardAction): Promise<ActionResult> {
    if (!this.accepting) return { toast: '系统正在重启，请稍后再点一次。' };
    this.metrics.eventsReceived.inc({ platform: action.platform, kind: 'action' });
    const userKey = `${action.platform}:${action.platformUserId}`;
    let first: boolean;
    let ticket = 0;
    try {
      first = await this.dedupe.first(action.platform, action.eventId);
      if (first) ticket = await this.userLock.enter(userKey);
    } catch (e) {
      // As for messages: nothing has been done, and the click can simply be repeated.
      this.log.error({ err: (e as Error).message, platform: action.platform, eventId: action.eventId }, 'Redis unavailable; card action answered as temporarily unavailable');
      return { toast: TEMPORARILY_UNAVAILABLE };
    }
    if (!first) {
      this.metrics.eventsDuplicate.inc({ platform: action.platform, kind: 'action' });
      this.log.info({ platform: action.platform, eventId: action.eventId }, 'duplicate action dropped');
      return {};
    }
    try {
      return await this.userLock.run(userKey, ticket, async () => {
        const result = await this.handleAction(action);
        const platform = this.platforms.get(action.platform);
        return result.card && platform ? { ...result, card: await this.prepareCard(platform, result.card) } : result;
      });
    } catch (e) {
      if (!(e instanceof LockUnavailable)) throw e;
      await this.dedupe.release(action.platform, action.eventId).catch(() => {});
      this.log.error({ err: e.message, platform: action.platform, eventId: action.eventId }, 'per-user lock unavailable; card action answered as temporarily unavailable');
      return { toast: TEMPORARILY_UNAVAILABLE };
    }
  }

  /** Waits for the work already queued (graceful shutdown). */
  drain(): Promise<void> {
    return this.userLock.drain();
  }

  async identify(platform: PlatformName, platformUserId: string): Promise<Staff | undefined> {
    if (platform === 'sandbox') {
      const s = await getStaff(this.db, platformUserId);
      return s?.active ? s : undefined;
    }
    return findStaffByPlatformId(this.db, platform, platformUserId);
  }

  private async handleMessage(incoming: IncomingMessage): Promise<void> {
    const { msg, notice } = cleanMessage(incoming);
    const platform = this.requirePlatform(msg.platform);
    const target = { conversation: msg.conversation };
    if (msg.conversation.type === 'group' && !msg.mentioned) return;
    let staff: Staff | undefined;
    try {
      staff = await this.identify(msg.platform, msg.platformUserId);
    } catch (e) {
      await platform.sendText(target, TEMPORARILY_UNAVAILABLE).catch(() => {});
      throw e;
    }
    if (!staff) {
      this.log.info({ platform: msg.platform, eventId: msg.eventId }, 'message from a user not on the roster');
      await platform.sendText(target, NOT_ON_ROSTER);
      return;
    }
    const ctx = this.baseContext(staff, msg.platform, msg.conversation, msg.eventId);
    // Where answers and errors go: the conversation asked in, or the asker's private chat.
    let run = ctx;
    let confidential = false;
    // What masking changed is said with the first answer, wherever the answers go.
    let flushNotice = async (): Promise<void> => {};
    const answering = (c: HandlerContext): HandlerContext => {
      flushNotice = noticeOnFirstReply(c, notice);
      return c;
    };
    const started = Date.now();
    let state: DialogueState | typeof UNREADABLE | undefined;
    try {
      state = await this.dialogueStore.get(staff.staffId);
    } catch (e) {
      // Redis went away after the dedupe check; nothing has happened yet.
      this.log.error({ err: (e as Error).message, platform: msg.platform, eventId: msg.eventId }, 'Redis unavailable; message answered as temporarily unavailable');
      await platform.sendText(target, TEMPORARILY_UNAVAILABLE).catch(() => {});
      return;
    }
    try {
      if (state === UNREADABLE) {
        await this.dialogueStore.clear(staff.staffId);
        await ctx.reply(DIALOGUE_CHANGED);
        return;
      }
      if (state) {
        confidential = state.confidential === true;
        run = answering(await this.contextFor(ctx, msg.platformUserId, confidential));
        await this.continueDialogue(run, state, msg.text, msg.files);
        return;
      }
      if (msg.files?.length && !msg.text.trim()) {
        await ctx.reply('如需为上缴申报附上照片或文件，请在申报卡片上点“添加照片或文件”。');
        return;
      }
      const parsed = parseCommand(msg.text);
      if (!parsed) {
        await ctx.reply('请发送命令，例如“帮助”查看您可以使用的全部命令。');
        return;
      }
      const found = this.findCommand(parsed);
      const entry = found?.entry;
      const labelled = !entry && msg.conversation.type === 'direct' ? await this.typedButtons.byLabel(msg.platform, msg.platformUserId, msg.text) : undefined;
      if (labelled) {
        await this.replyTyped(ctx, await this.actAs(ctx, 'label', labelled.actionId, labelled.value ?? {}));
        return;
      }
      if (!found || !entry) {
        await ctx.reply(smallTalkReply(msg.text, staff) ?? this.unknownCommandText(parsed.word, staff));
        return;
      }
      if (!mayRun(entry.spec, staff)) {
        await ctx.reply(`抱歉，“${entry.spec.names[0]}”仅限${entry.spec.roles!.map((r) => ROLE_NAMES[r]).join('、')}使用。发送“帮助”查看您可以使用的命令。`);
        return;
      }
      if (!entry.handler) {
        await ctx.reply(this.groupAnswer(entry, parsed.word, found.args[0], staff));
        return;
      }
      // A confidential command's usage answer goes privately too: it may quote what was typed.
      confidential = entry.spec.confidential === true;
      run = answering(await this.contextFor(ctx, msg.platformUserId, confidential));
      const sub = lineOf(entry.spec) !== undefined;
      const departments = entry.spec.args?.some((a) => a.departments) ? await this.repos.staff.listDepartments() : [];
      const matched = matchArgs(entry.spec.args ?? [], found.args, found.raw, { now: this.now(), timeZone: this.timeZone, departments }, {
        usage: sub ? usageOf(entry.spec.names[0]!, entry.spec.args) : this.usages(entry).join(' | '),
        ...(entry.spec.anyOrder ? { anyOrder: true } : {}),
        ...(entry.spec.example ? { example: entry.spec.example } : {}),
        ...(entry.spec.hint ? { hint: entry.spec.hint } : {}),
      });
      if (!matched.ok) {
        await run.reply(matched.message);
        return;
      }
      const timer = this.metrics.handlerSeconds.startTimer({ kind: 'command', name: entry.spec.names[0] });
      const out = await entry.handler({ ...run, word: parsed.word, params: matched.params }).catch((e: unknown) => {
        timer({ outcome: e instanceof UserError ? 'refused' : 'error' });
        throw e;
      });
      if (out) await run.reply(out);
      timer({ outcome: 'ok' });
      // Who asked for confidential content is itself confidential (a declarant, a score).
      this.log.info({ platform: msg.platform, command: entry.spec.names[0], ...(confidential ? {} : { staffId: staff.staffId }), ms: Date.now() - started }, 'command handled');
    } catch (e) {
      await this.replyError(run, e, { eventId: msg.eventId }, confidential);
    } finally {
      await flushNotice().catch(() => {});
    }
  }

  private async handleAction(incoming: CardAction): Promise<ActionResult> {
    const { action, notice } = cleanAction(incoming);
    let staff: Staff | undefined;
    try {
      staff = await this.identify(action.platform, action.platformUserId);
    } catch (e) {
      // The database is unreachable: nothing was changed, so the user can simply try again.
      const ref = randomUUID().slice(0, 8);
      this.log.error({ err: e, ref, actionId: action.actionId }, 'could not identify the sender of a card action');
      await this.dedupe.release(action.platform, action.eventId).catch(() => {});
      return { toast: `${TEMPORARILY_UNAVAILABLE}（参考编号 ${ref}）` };
    }
    if (!staff) return { toast: NOT_ON_ROSTER };
    const entry = this.actions.get(action.actionId);
    if (!entry) {
      this.log.warn({ platform: action.platform, actionId: action.actionId }, 'unknown card action');
      return { toast: STALE_ACTION };
    }
    if (entry.roles && !entry.roles.some((r) => staff.roles.includes(r))) return { toast: '抱歉，您没有权限执行这个操作。' };
    let value: Record<string, unknown> = action.value ?? {};
    if (entry.schema) {
      const parsed = entry.schema.safeParse(value);
      if (!parsed.success) {
        this.log.warn({ platform: action.platform, actionId: action.actionId }, 'card action payload rejected');
        return { toast: STALE_ACTION };
      }
      value = parsed.data;
    }
    const confidential = entry.confidential === true;
    const privately = confidential && action.conversation.type === 'group';
    const base = this.baseContext(staff, action.platform, action.conversation, action.eventId, confidential);
    const ctx = privately ? this.privateContext(base, action.platformUserId) : base;
    const timer = this.metrics.handlerSeconds.startTimer({ kind: 'action', name: action.actionId });
    try {
      const out = await this.settleAction(ctx, await entry.handler({ ...ctx, messageId: action.messageId, actionId: action.actionId, value, form: action.form }));
      timer({ outcome: 'ok' });
      const shown = noticeOnResult(out, notice);
      if (!privately) return shown;
      // The group's card stays as it was; what the click shows goes to the clicker alone (a
      // toast too: typed clicks turn it into a group message).
      if (shown.toast) await ctx.reply(shown.toast);
      if (shown.card) await ctx.reply(shown.card);
      return { toast: SENT_PRIVATELY };
    } catch (e) {
      timer({ outcome: e instanceof UserError ? 'refused' : 'error' });
      if (e instanceof UserError && privately) {
        await ctx.reply(e.message);
        return { toast: SENT_PRIVATELY };
      }
      if (e instanceof FormError) return { toast: e.message, fieldErrors: e.fields };
      if (e instanceof UserError) return { toast: e.message };
      if (e instanceof ZodError) {
        // A payload that passed the action's schema but not the handler's own parse: stale or forged.
        this.log.warn({ platform: action.platform, actionId: action.actionId }, 'card action payload rejected by its handler');
        return { toast: STALE_ACTION };
      }
      const ref = randomUUID().slice(0, 8);
      this.log.error({ err: e, ref, actionId: action.actionId, ...(confidential ? {} : { staffId: staff.staffId }) }, 'card action failed');
      return { toast: `抱歉，处理时出现问题（参考编号 ${ref}），请稍后再试或联系管理员。` };
    }
  }

  private unknownCommandText(word: string, staff: Staff): string {
    const names = this.commandsFor(staff).flatMap((s) => s.names);
    const guess = closest(word, names);
    // A long paste is quoted by its start only: the answer is about the command, not the text.
    const shown = quoteTyped(word);
    return guess ? `没有“${shown}”这个命令。您是想发送“${guess}”吗？发送“帮助”可查看全部命令。` : `没有“${shown}”这个命令。发送“帮助”可查看您可以使用的全部命令。`;
  }

  /** The command a message names: a subcommand (`推送 学习`) before its first word alone. */
  private findCommand(p: ParsedCommand): { entry: CommandEntry; args: string[]; raw: string[] } | undefined {
    const raw = p.rest ? p.rest.split(' ') : [];
    const entry = this.byName.get(p.word);
    // `测验 交卷` is `考试 交卷`: a subcommand is found under any name of its first word.
    const second = p.args[0]?.toLowerCase();
    const sub = second ? (this.byName.get(`${p.word} ${second}`) ?? (entry ? this.byName.get(`${entry.spec.names[0]!.toLowerCase()} ${second}`) : undefined)) : undefined;
    if (sub) return { entry: sub, args: p.args.slice(1), raw: raw.slice(1) };
    return entry && { entry, args: p.args, raw };
  }

  /** `推送` alone, or `推送 学校`: what may follow it, with the closest guess. */
  private groupAnswer(entry: CommandEntry, typed: string, next: string | undefined, staff: Staff): string {
    const name = entry.spec.names[0]!;
    const subs = this.commands.filter((c) => parentOf(c.spec.names[0]!) === name && mayRun(c.spec, staff));
    const usages = this.usages(entry, staff);
    const second = subs.flatMap((c) => c.spec.names.filter((n) => n.split(' ')[0]!.toLowerCase() === typed).map((n) => n.split(' ')[1]!));
    const guess = next ? closest(next.toLowerCase(), second) : undefined;
    const group = entry.group!;
    const lead = next ? `没有“${quoteTyped(next)}”这项${group.noun}。${guess ? `您是想发送“${typed} ${guess}”吗？` : ''}` : '';
    return `${lead}${group.hint ? group.hint(usages) : `用法：${usages.join(' | ')}。`}`;
  }

  private async replyError(ctx: HandlerContext, e: unknown, logCtx: Record<string, unknown>, confidential: boolean): Promise<void> {
    if (e instanceof UserError) {
      await ctx.reply(e.message);
      return;
    }
    const ref = randomUUID().slice(0, 8);
    this.log.error({ err: e, ref, ...logCtx, ...(confidential ? {} : { staffId: ctx.staff.staffId }) }, 'handler failed');
    await ctx.reply(`抱歉，处理时出现问题（参考编号 ${ref}），请稍后再试或联系管理员。`);
  }

  // ---- dialogues ----------------------------------------------------------------------

  private async continueDialogue(ctx: HandlerContext, state: DialogueState, text: string, files?: { name: string; ref: string }[]): Promise<void> {
    const spec = this.dialogues.get(state.name);
    const answer = text.replace(/\u3000/g, ' ').trim();
    if (!spec) {
      await this.dialogueStore.clear(ctx.staff.staffId);
      await ctx.reply('之前的对话已失效，请重新发起。');
      return;
    }
    if (CANCEL_WORDS.has(answer.toLowerCase())) {
      await this.dialogueStore.clear(ctx.staff.staffId);
      await ctx.reply(spec.cancelMessage ?? '已取消，之前填写的内容没有保存。');
      return;
    }
    if (state.version !== (spec.version ?? 1)) {
      // The steps may have moved since this state was written: its step number means nothing now.
      await this.dialogueStore.clear(ctx.staff.staffId);
      await ctx.reply(DIALOGUE_CHANGED);
      return;
    }
    const steps = spec.steps(state.initial);
    const step = steps[state.step];
    if (!step) {
      await this.dialogueStore.clear(ctx.staff.staffId);
      return;
    }
    const parsed = await step.parse(answer, state.data, files?.length ? files : undefined);
    if (!parsed.ok) {
      await ctx.reply(spec.hints === false ? parsed.message : `${parsed.message}\n（回复“取消”可结束填写）`);
      return;
    }
    const data = { ...state.data, [step.key]: parsed.value };
    const next = firstOpenStep(steps, state.step + 1, data);
    if (next < steps.length) {
      await this.dialogueStore.set(ctx.staff.staffId, { ...state, step: next, data });
      await ctx.reply(steps[next].prompt(data));
      return;
    }
    await this.dialogueStore.clear(ctx.staff.staffId);
    const out = await spec.complete(ctx, data);
    if (out) await ctx.reply(out);
  }

  async startDialogue(ctx: HandlerContext, name: string, initial: Record<string, unknown> = {}, confidential = false): Promise<SentMessage | void> {
    const spec = this.dialogues.get(name);
    if (!spec) throw new Error(`unknown dialogue ${name}`);
    const steps = spec.steps(initial);
    const data = { ...((initial.data as Record<string, unknown>) ?? {}) };
    const first = firstOpenStep(steps, 0, data);
    if (first >= steps.length) {
      const out = await spec.complete(ctx, data);
      if (out) await ctx.reply(out);
      return;
    }
    await this.dialogueStore.set(ctx.staff.staffId, { name, version: spec.version ?? 1, step: first, data, initial, ...(confidential ? { confidential } : {}) });
    const prompt = steps[first].prompt(data);
    return ctx.reply(spec.hints === false ? prompt : `${prompt}\n（逐项填写，随时回复“取消”可结束）`);
  }

  /** Runs an action for the sender of a message, as if they had clicked (typed buttons, form dialogues). */
  private actAs(ctx: HandlerContext, via: string, actionId: string, value: Record<string, unknown>, form?: Record<string, string>): Promise<ActionResult> {
    return this.handleAction({
      kind: 'action',
      platform: ctx.platform,
      eventId: `${ctx.eventId}:${via}`,
      platformUserId: platformUserIdOf(ctx),
      conversation: ctx.conversation,
      messageId: '',
      actionId,
      value: value as Record<string, string>,
      ...(form ? { form } : {}),
      receivedAt: this.now(),
    });
  }

  /** `点 CODE N`: the button a card named, run as if clicked, by whoever typed it. */
  private registerTypedClicks(): void {
    const spec = { names: TYPED_CLICK_WORDS, args: [word('code', '代码'), count('n', '序号')], hint: TYPED_CLICK_HINT, summary: '按卡片上的提示，用消息代替点击按钮', group: '通用' };
    this.command(spec, async (ctx) => {
      const b = await this.typedButtons.resolve(ctx.params.code, ctx.params.n);
      if (typeof b === 'string') return b;
      const result = await this.actAs(ctx, 'typed', b.actionId, b.value ?? {});
      // No card to update in place: what a click would have shown comes as new messages.
      if (result.card) {
        if (result.toast) await ctx.reply(result.toast);
        return result.card;
      }
      return result.toast ?? '已处理。';
    });
  }

  /** What a click would have shown, as messages: there is no card to update in place. */
  private async replyTyped(ctx: HandlerContext, result: ActionResult): Promise<void> {
    if (result.toast) await ctx.reply(result.toast);
    if (result.card) await ctx.reply(result.card);
    if (!result.toast && !result.card) await ctx.reply('已处理。');
  }

  /**
   * A form card on a platform without form inputs: the renderer shows a button that starts
   * this dialogue, which asks each input in turn and then calls the form's own action with
   * the answers, so the handler sees exactly what a form submission would give it.
   */
  private registerFormDialogue(): void {
    this.dialogue({
      name: FORM_DIALOGUE,
      steps: (initial) => stepsFromForm((initial.inputs as FormInput[]) ?? [], this.now, this.timeZone),
      complete: async (ctx, data) => {
        const form = Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('__')).map(([k, v]) => [k, String(v)]));
        const result = await this.actAs(ctx, 'form', String(data.__actionId ?? ''), (data.__value as Record<string, unknown>) ?? {}, form);
        if (result.card) await ctx.reply(result.card);
        else if (result.toast) await ctx.reply(result.toast);
      },
    });
    this.action(FORM_FILL, async (ctx) => {
      const spec = await this.forms.get(String(ctx.value.f ?? ''));
      if (!spec) return { toast: '这张表单已过期，请重新发起。' };
      // The form's own action decides: a confidential form is filled in privately.
      const confidential = this.isConfidentialAction(spec.actionId);
      const privately = confidential && ctx.conversation.type === 'group';
      await this.startDialogue(privately ? this.privateContext(ctx, platformUserIdOf(ctx)) : ctx, FORM_DIALOGUE, {
        inputs: spec.inputs,
        data: { __actionId: spec.actionId, __value: spec.value ?? {} },
      }, confidential);
      return { toast: privately ? '这张表单涉及保密信息，请在与清廉助手的单聊中逐项填写。' : FORM_BY_DIALOGUE };
    });
  }

  // ---- sending ------------------------------------------------------------------------

  private requirePlatform(name: PlatformName): ChatPlatform {
    const p = this.platforms.get(name);
    if (!p) throw new Error(`platform ${name} is not running`);
    return p;
  }

  /** Sends a card or text to a conversation on a platform, degrading forms where needed. */
  async send(platformName: PlatformName, conversation: Conversation, content: Card | string, idempotencyKey?: string): Promise<SentMessage> {
    const platform = this.requirePlatform(platformName);
    const target = { conversation, ...(idempotencyKey ? { idempotencyKey } : {}) };
    if (!isCard(content)) return platform.sendText(target, content);
    await this.rememberButtons(platformName, conversation, content);
    try {
      return await platform.sendCard(target, await this.prepareCard(platform, content));
    } catch (e) {
      // Capabilities move one way (down), so fitting once more is enough.
      if (!(e instanceof CapabilitiesChanged)) throw e;
      return platform.sendCard(target, await this.prepareCard(platform, content));
    }
  }

  /** The latest buttons in someone's one-to-one chat, so typing a label does what clicking it does. */
  private async rememberButtons(platform: PlatformName, conversation: Conversation, card: Card): Promise<void> {
    if (conversation.type !== 'direct') return;
    // A lost memo only means the label is read as text: never worth failing the send for.
    await this.typedButtons.rememberLast(platform, conversation.platformUserId, card).catch((err: unknown) => this.log.warn({ err }, 'last buttons not remembered'));
  }

  /**
   * Where a staff member is reached: the first running platform they have an account on
   * (DingTalk, then Feishu), else the sandbox when it runs. Undefined when unreachable.
   */
  reachFor(staff: Staff): { platform: PlatformName; conversation: Conversation } | undefined {
    const dt = this.platforms.get('dingtalk');
    if (dt && staff.dingtalkUserId) return { platform: 'dingtalk', conversation: { type: 'direct', platformUserId: staff.dingtalkUserId } };
    const fs = this.platforms.get('feishu');
    if (fs && staff.feishuUserId) return { platform: 'feishu', conversation: { type: 'direct', platformUserId: staff.feishuUserId } };
    if (this.platforms.has('sandbox')) return { platform: 'sandbox', conversation: { type: 'direct', platformUserId: staff.staffId } };
    return undefined;
  }

  /** Sends to a staff member's one-to-one chat with the bot; undefined when they cannot be reached. */
  async sendToStaff(staff: Staff, content: Card | string, idempotencyKey?: string): Promise<{ platform: PlatformName; messageId: string } | undefined> {
    const reach = this.reachFor(staff);
    if (!reach) return undefined;
    const sent = await this.send(reach.platform, reach.conversation, content, idempotencyKey);
    return { platform: reach.platform, messageId: sent.messageId };
  }

  async updateCard(platformName: PlatformName, messageId: string, card: Card): Promise<void> {
    const platform = this.requirePlatform(platformName);
    await platform.updateCard(messageId, await this.prepareCard(platform, card));
  }

  /** The card as the platform can show it: decided in the degrade stage (src/bot/degrade.ts), nowhere else. */
  prepareCard(platform: ChatPlatform, card: Card): Promise<Card> {
    return fitCard(platform, card, { forms: this.forms, typedButtons: this.typedButtons, log: this.log });
  }

  /**
   * A reply from a handler: a card whose form has the feature's own dialogue, where forms
   * cannot be shown, starts that dialogue instead (see dialogueInstead).
   */
  private async replyAs(ctx: HandlerContext, content: Card | string): Promise<SentMessage> {
    const platform = this.requirePlatform(ctx.platform);
    if (!isCard(content)) return platform.sendText({ conversation: ctx.conversation }, content);
    await this.rememberButtons(ctx.platform, ctx.conversation, content);
    for (let again = false; ; again = true) {
      const instead = dialogueInstead(capabilitiesOf(platform), content);
      if (instead) return (await ctx.startDialogue(instead.name, instead.initial)) ?? { messageId: '' };
      try {
        return await platform.sendCard({ conversation: ctx.conversation }, await this.prepareCard(platform, content));
      } catch (e) {
        // Capabilities move one way (down), so deciding once more is enough.
        if (!(e instanceof CapabilitiesChanged) || again) throw e;
      }
    }
  }

  /** An action's answer fitted to where it was clicked: a form card may become a dialogue, a card to send goes out. */
  private async settleAction(ctx: HandlerContext, out: ActionReply): Promise<ActionResult> {
    if (!out) return {};
    const { send, ...result } = out;
    const caps = capabilitiesOf(this.requirePlatform(ctx.platform));
    const cardInstead = result.card && dialogueInstead(caps, result.card);
    const instead = cardInstead || (send && dialogueInstead(caps, send));
    if (!instead) {
      if (send) await ctx.reply(send);
      return result;
    }
    await ctx.startDialogue(instead.name, instead.initial);
    // What the click says follows what happened: the questions come in the chat.
    const { card: _form, ...rest } = result;
    return { ...(cardInstead ? rest : result), toast: instead.notice ?? FORM_BY_DIALOGUE };
  }

  private baseContext(staff: Staff, platform: PlatformName, conversation: Conversation, eventId: string, confidential = false): HandlerContext {
    const ctx: HandlerContext = {
      staff,
      platform,
      conversation,
      eventId,
      now: this.now(),
      reply: (content) => this.replyAs(ctx, content),
      replyFile: (name, data, mime) => this.requirePlatform(platform).sendFile({ conversation }, { name, data, mime: mime ?? mimeOf(name) }),
      hasRole: (...roles) => roles.some((r) => staff.roles.includes(r)),
      startDialogue: (name, initial) => this.startDialogue(ctx, name, initial, confidential),
    };
    return ctx;
  }

  /**
   * The same asker, answered in their one-to-one chat on the same platform. Handlers see a
   * direct conversation, so everything they send (cards, files, dialogue prompts) goes there.
   */
  private privateContext(ctx: HandlerContext, platformUserId: string): HandlerContext {
    return this.baseContext(ctx.staff, ctx.platform, { type: 'direct', platformUserId }, ctx.eventId, true);
  }

  /** Decided once here for every command: confidential content asked in a group goes privately. */
  private async contextFor(ctx: HandlerContext, platformUserId: string, confidential: boolean): Promise<HandlerContext> {
    if (!confidential) return ctx;
    if (ctx.conversation.type !== 'group') return this.baseContext(ctx.staff, ctx.platform, ctx.conversation, ctx.eventId, true);
    await ctx.reply(SENT_PRIVATELY);
    return this.privateContext(ctx, platformUserId);
  }
}

function platformUserIdOf(ctx: HandlerContext): string {
  if (ctx.platform === 'sandbox') return ctx.staff.staffId;
  const id = ctx.platform === 'dingtalk' ? ctx.staff.dingtalkUserId : ctx.staff.feishuUserId;
  return id ?? ctx.staff.staffId;
}
