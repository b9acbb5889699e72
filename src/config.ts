import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ROLES } from './domain/roles.js';
import { isTimeZone } from './domain/calendar.js';
import { decodeKey } from './domain/tipoff/sealing.js';

/**
 * One schema for everything the bot can be told: environment variables for the deployment
 * (where Redis is, which platforms) and `qinglian.yaml` for the hospital's own settings.
 * Every feature keeps its settings under its own key with defaults for a typical hospital.
 */

// 0 asks the OS for a free port (tests).
const port = z.coerce.number().int('a whole number').min(0).max(65535);
const optionalString = z.string().trim().min(1).optional();

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]+$/, 'letters, digits, _ : . -').default('qinglian'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  DATABASE_OWNER_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  BOT_TIMEZONE: z
    .string()
    .refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CONFIG_FILE: z.string().min(1).default('./qinglian.yaml'),
  PUBLIC_URL: z.string().url().optional(),
  SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  // Off: this process declares no calendar jobs (study pushes, reminders…); housekeeping still runs.
  SCHEDULED_JOBS: z.enum(['on', 'off']).default('on'),
  // Start in production even when Redis would lose or evict queued jobs (not recommended).
  ALLOW_VOLATILE_REDIS: z.enum(['true', 'false']).default('false'),
  // How long a SIGTERM waits for work in flight before the process exits anyway.
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int('a whole number').min(1).max(600).default(25),

  DINGTALK_CLIENT_ID: optionalString,
  DINGTALK_CLIENT_SECRET: optionalString,
  DINGTALK_ROBOT_CODE: optionalString,
  DINGTALK_CARD_TEMPLATE_ID: optionalString,
  DINGTALK_API_BASE: z.string().url().default('https://api.dingtalk.com'),
  DINGTALK_OAPI_BASE: z.string().url().default('https://oapi.dingtalk.com'),

  FEISHU_APP_ID: optionalString,
  FEISHU_APP_SECRET: optionalString,
  FEISHU_DOMAIN: z.string().url().default('https://open.feishu.cn'),

  // 线索反映: the key that seals reporters' identities (base64 of 32 bytes), and keys rotated out.
  TIPOFF_KEY: optionalString.refine((s) => s === undefined || decodeKey(s) !== undefined, 'base64 of exactly 32 bytes (openssl rand -base64 32)'),
  TIPOFF_OLD_KEYS: optionalString.refine(
    (s) => s === undefined || s.split(',').map((x) => x.trim()).filter(Boolean).every((x) => decodeKey(x) !== undefined),
    'comma-separated base64 keys of exactly 32 bytes each',
  ),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time HH:MM');
const isoDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a date YYYY-MM-DD');

/** A monthly exam: who must take it, when, how many questions, how many tries. */
export const examSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and -'),
    title: z.string().trim().min(1).max(60),
    // A number draws that many across the rules; a list names the questions (ids).
    questions: z.union([z.number().int().min(1).max(100), z.array(z.string().min(1)).min(1).max(100)]).default(20),
    // Draw only from these rules of the 九项准则 (absent: all rules and related documents).
    rules: z.array(z.number().int().min(1).max(9)).optional(),
    audience: z
      .object({ departments: z.array(z.string().min(1)).optional(), roles: z.array(z.enum(ROLES)).optional() })
      .strict()
      .prefault({}),
    opensOn: isoDate,
    dueOn: isoDate,
    attemptsAllowed: z.number().int().min(1).max(20).default(1),
    passMark: z.number().int().min(0).max(100).optional(),
    timeLimitMinutes: z.number().int().min(1).max(24 * 60).optional(),
    remindDaysBeforeDue: z.array(z.number().int().min(0).max(27)).default([3, 1]),
  })
  .strict()
  .refine((e) => e.dueOn >= e.opensOn, { message: 'dueOn on or after opensOn', path: ['dueOn'] });

const rateWindow = z.object({ max: z.number().int().min(1), seconds: z.number().positive() }).strict();

/** One month's study task, from qinglian.yaml (study.plans) or `cli study import`. */
export const studyPlanSchema = z
  .object({
    month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month YYYY-MM'),
    topic: z.string().trim().min(1).max(80),
    summary: z.string().trim().max(2000).optional(),
    keyPoints: z.array(z.string().trim().min(1).max(200)).max(20).optional(),
    source: z.string().trim().max(200).optional(),
    material: z
      .object({ text: z.string().trim().max(4000).optional(), url: z.string().url().optional() })
      .strict()
      .optional(),
    // Absent or empty: everyone on the roster.
    audience: z
      .object({ departments: z.array(z.string().min(1)).optional(), roles: z.array(z.enum(ROLES)).optional() })
      .strict()
      .optional(),
    pushDay: z.number().int().min(1).max(28).optional(),
    pushTime: hhmm.optional(),
    dueOn: isoDate.optional(),
    reminderDaysBeforeDue: z.array(z.number().int().min(0).max(27)).optional(),
  })
  .strict();

/** Shipped with the default figures: rectified problems cannot outnumber those found. */
export const DEFAULT_REPORT_RULES: { figure: string; lte: string }[] = [{ figure: '已完成整改数', lte: '本月自查发现问题数' }];

export const fileSchema = z
  .object({
    hospital: z.object({ name: z.string().min(1).default('示例人民医院') }).prefault({}),
    dialogue: z
      .object({ timeoutMinutes: z.number().int().min(1).max(24 * 60).default(30) })
      .prefault({}),
    dedupe: z
      .object({
        // DingTalk redelivers unacknowledged callbacks for minutes; a day is far beyond both platforms.
        ttlSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(24 * 3600),
      })
      .prefault({}),
    study: z
      .object({
        // Also the time of the daily check that sends reminders and the overdue lists.
        pushTime: hhmm.default('09:05'),
        pushDay: z.number().int().min(1).max(28).default(1),
        reminderDaysBeforeDue: z.array(z.number().int().min(0).max(27)).default([7, 3, 1]),
        // Plans by month (YYYY-MM); a month without one uses the shipped twelve-month plan.
        plans: z.array(studyPlanSchema).default([]),
      })
      .prefault({}),
    report: z
      .object({
        deadlineDay: z.number().int().min(1).max(28).default(20),
        reminderDaysBefore: z.array(z.number().int().min(0).max(27)).default([5, 2, 0]),
        reminderTime: hhmm.default('09:05'),
        departments: z.array(z.string().min(1)).optional(),
        // The named statistics a department reports each month (numbers, all optional).
        figures: z.array(z.string().trim().min(1).max(30)).max(10).default(['本月自查发现问题数', '已完成整改数', '主动上缴“红包”回扣件数', '开展专题教育次数']),
        // Who gets the list of departments still missing the day after the deadline.
        escalateTo: z.array(z.enum(ROLES)).min(1).default(['leader', 'discipline']),
        // Figures that may not contradict each other: `figure` may not be greater than `lte`.
        // Unset: the shipped rules whose two figures are both in `figures` (a hospital that
        // renamed its figures is not refused for a rule about names it no longer has).
        rules: z
          .array(z.object({ figure: z.string().trim().min(1), lte: z.string().trim().min(1) }).strict())
          .max(20)
          .optional()
          // Shown as the default in docs/configuration.md: what an unset list means with the default figures.
          .meta({ default: DEFAULT_REPORT_RULES }),
      })
      .superRefine((r, ctx) => {
        r.rules?.forEach((rule, i) => {
          for (const side of ['figure', 'lte'] as const) {
            if (!r.figures.includes(rule[side])) ctx.addIssue({ code: 'custom', path: ['rules', i, side], message: `one of report.figures (${r.figures.join(', ')})` });
          }
          if (rule.figure === rule.lte) ctx.addIssue({ code: 'custom', path: ['rules', i, 'lte'], message: 'a figure other than `figure`' });
        });
      })
      .transform((r) => ({ ...r, rules: r.rules ?? DEFAULT_REPORT_RULES.filter((x) => r.figures.includes(x.figure) && r.figures.includes(x.lte)) }))
      .prefault({}),
    outbound: z
      .object({
        attempts: z.number().int().min(1).max(20).default(6),
        backoffMs: z.number().int().min(100).max(600_000).default(2_000),
        concurrency: z.number().int().min(1).max(200).default(20),
        // Send at this share of a platform's quota, leaving room for clock skew between us and it.
        margin: z.number().min(0.5).max(1).default(0.95),
        // Platform quotas for the message-send APIs; each window must hold (max sends per `seconds`).
        // DingTalk: standard-edition orgs get 20 calls/s per app per API (open.dingtalk.com,
        // 调用频率限制; 专业版 40, 专属版 60). Feishu: im/v1/messages create is limited to
        // 1000/min and 50/s per app (open.feishu.cn, 发送消息 频率限制; 频控策略 says either limit triggers 429).
        rateLimits: z
          .object({
            dingtalk: z.array(rateWindow).default([{ max: 20, seconds: 1 }]),
            feishu: z.array(rateWindow).default([{ max: 50, seconds: 1 }, { max: 1000, seconds: 60 }]),
            sandbox: z.array(rateWindow).default([]),
          })
          .prefault({}),
      })
      .prefault({}),
    quiz: z
      .object({
        questionsPerQuiz: z.number().int().min(1).max(50).default(10),
        passMark: z.number().int().min(0).max(100).default(80),
        timeLimitMinutes: z.number().int().min(1).max(24 * 60).default(30),
        // When the daily check pushes open exams (to staff not yet invited) and reminders.
        examPushTime: hhmm.default('09:10'),
        exams: z
          .array(examSchema)
          .default([])
          .refine((list) => new Set(list.map((e) => e.id)).size === list.length, 'unique exam ids'),
      })
      .prefault({}),
    declaration: z
      .object({
        maxAmountYuan: z.number().positive().default(1_000_000),
        reminderHours: z.number().positive().default(48),
      })
      .prefault({}),
    tipoff: z
      .object({
        // Working days each state may last before its handler is reminded.
        deadlines: z
          .object({
            received: z.number().int().min(1).max(365).default(3),
            preliminary: z.number().int().min(1).max(365).default(15),
            verifying: z.number().int().min(1).max(365).default(30),
            disposing: z.number().int().min(1).max(365).default(15),
            replying: z.number().int().min(1).max(365).default(5),
            replied: z.number().int().min(1).max(365).default(5),
          })
          .strict()
          .prefault({}),
        // 实名 reports: working days from filing by which the reporter must have had the reply.
        feedbackDays: z.number().int().min(1).max(365).default(30),
        // Working days past a deadline before the head of the discipline office is told.
        escalateAfterDays: z.number().int().min(0).max(60).default(2),
        // Whose head gets escalations: the dept_head of this department who holds the discipline role.
        disciplineDepartment: z.string().trim().min(1).default('纪检监察室'),
        holidays: z.array(isoDate).default([]),
        workingWeekends: z.array(isoDate).default([]),
        // 举报 查询: lookups a staff member may make per hour, right or wrong.
        queriesPerHour: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .prefault({}),
    notice: z
      .object({
        // Hours after a 通报 is published before those who have not confirmed 已阅 are reminded (once).
        remindAfterHours: z.number().int().min(1).max(30 * 24).default(24),
      })
      .prefault({}),
  })
  .strict();

export type Env = z.infer<typeof envSchema>;
export type Settings = z.infer<typeof fileSchema>;
export interface Config {
  env: Env;
  settings: Settings;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** Reads a value at a path so the message can show what was actually given. */
function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return `${issue.origin === 'array' ? 'at most' : 'a value of at most'} ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : ''}`;
    case 'too_small':
      return `${issue.origin === 'array' ? 'at least' : 'a value of at least'} ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : ''}`;
    case 'invalid_type':
      return issue.expected === 'number' || issue.expected === 'int' ? 'a number' : `a value of type ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'a URL' : issue.message;
    default:
      return issue.message;
  }
}

function problemsOf(error: z.ZodError, root: unknown, prefix: string): string[] {
  return error.issues.map((issue) => {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return `${key || '(top level)'}: unknown key(s) ${issue.keys.join(', ')}; remove them or check the spelling`;
    }
    const given = valueAt(root, issue.path);
    return `${key}: got ${describeValue(given)}, expected ${expectation(issue)}`;
  });
}

export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  // Empty strings in env files mean "not set", not "set to empty".
  const cleaned = Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const envResult = envSchema.safeParse(cleaned);
  if (!envResult.success) problems.push(...problemsOf(envResult.error, cleaned, ''));

  const file = envResult.success ? envResult.data.CONFIG_FILE : (cleaned.CONFIG_FILE ?? './qinglian.yaml');
  let raw: unknown = {};
  if (existsSync(file)) {
    try {
      raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      problems.push(`${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const fileResult = fileSchema.safeParse(raw);
  if (!fileResult.success) problems.push(...problemsOf(fileResult.error, raw, file));

  const env = envResult.data;
  if (env) {
    if (Boolean(env.DINGTALK_CLIENT_ID) !== Boolean(env.DINGTALK_CLIENT_SECRET)) {
      problems.push('DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET: got only one of them, expected both or neither');
    }
    if (Boolean(env.FEISHU_APP_ID) !== Boolean(env.FEISHU_APP_SECRET)) {
      problems.push('FEISHU_APP_ID / FEISHU_APP_SECRET: got only one of them, expected both or neither');
    }
  }
  if (problems.length > 0 || !envResult.success || !fileResult.success) throw new ConfigError(problems);
  return { env: envResult.data, settings: fileResult.data };
}
