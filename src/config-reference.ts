import { z } from 'zod';
import { envSchema, fileSchema } from './config.js';

/**
 * The configuration reference in docs/configuration.md is generated from the zod schemas,
 * so it cannot drift from what the bot accepts: `npm run docs:config` writes it and a test
 * fails when the committed file differs.
 */

/** What each environment variable is for; a test fails when one is missing here. */
export const ENV_HELP: Record<string, string> = {
  NODE_ENV: '运行环境；`production` 时对 Redis 持久化要求更严格',
  REDIS_URL: 'Redis 地址（队列、去重、对话状态）',
  REDIS_PREFIX: 'Redis 键前缀；多套部署共用一个 Redis 时各自设置',
  DATABASE_URL: 'PostgreSQL 连接串；不设置时使用内嵌 PGlite（保存在 DATA_DIR）',
  DATABASE_OWNER_URL: '表所有者角色的 PostgreSQL 连接串；设置后迁移以它执行，并授予 DATABASE_URL 的角色所需权限（审计日志只可读和追加），见 docs/operations.md“数据库角色”',
  DATABASE_SCHEMA: 'PostgreSQL schema；多家医院共用一个数据库时各自设置',
  DATA_DIR: 'PGlite 数据目录',
  PORT: 'HTTP 端口（健康检查、指标、沙盒）；0 表示随机端口',
  HOST: 'HTTP 监听地址；容器中设为 0.0.0.0',
  BOT_TIMEZONE: '所有排程和“本月”所用的时区',
  LOG_LEVEL: '日志级别',
  CONFIG_FILE: '医院设置文件（YAML）的路径；文件不存在时使用全部默认值',
  PUBLIC_URL: '外部可访问的地址（沙盒下载链接等）',
  SANDBOX: '本地沙盒（无需登录）：auto = 没有平台凭据时启用，但 NODE_ENV=production 时没有凭据则拒绝启动；on = 总是启用（生产环境中警告并在 /healthz 注明）',
  SCHEDULED_JOBS: '按日历运行的任务（学习推送、提醒、催报）；off = 本进程不登记这些任务（试运行环境、测试），内部维护任务照常',
  ALLOW_VOLATILE_REDIS: '生产环境中 Redis 不持久化或会淘汰键时仍然启动（不建议）',
  SHUTDOWN_TIMEOUT_SECONDS: '收到 SIGTERM 后等待进行中工作的最长秒数',
  DINGTALK_CLIENT_ID: '钉钉应用的 Client ID（AppKey）',
  DINGTALK_CLIENT_SECRET: '钉钉应用的 Client Secret（AppSecret）',
  DINGTALK_ROBOT_CODE: '钉钉机器人编码；默认等于 Client ID',
  DINGTALK_CARD_TEMPLATE_ID: '医院自己的钉钉卡片模板 ID（导入随附的 config/dingtalk/qinglian-card-template.json 后得到，表单可在卡片里填写）；不设时用钉钉公共卡片模板，表单改为在对话中逐项填写',
  DINGTALK_API_BASE: '钉钉新版 OpenAPI 地址（含 Stream 网关）；测试时指向本地仿真服务',
  DINGTALK_OAPI_BASE: '钉钉旧版 OAPI 地址（媒体上传）',
  FEISHU_APP_ID: '飞书应用的 App ID（cli_ 开头）',
  FEISHU_APP_SECRET: '飞书应用的 App Secret',
  FEISHU_DOMAIN: '飞书开放平台地址；Lark 用 https://open.larksuite.com',
  TIPOFF_KEY: '线索反映中举报人身份的加密密钥（32 字节的 base64，`openssl rand -base64 32`）；生产环境不设置时不受理线索反映，开发和沙盒中自动生成到 DATA_DIR/tipoff.key',
  TIPOFF_OLD_KEYS: '轮换下来的旧密钥（逗号分隔的 base64），只用于打开旧记录，见 docs/operations.md“线索密钥轮换”',
};

type Json = {
  type?: string | string[];
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, Json>;
  items?: Json;
  anyOf?: Json[];
  required?: string[];
};

function describeType(s: Json): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' / ');
  if (s.anyOf) return s.anyOf.map(describeType).join(' 或 ');
  const t = Array.isArray(s.type) ? s.type.join('|') : (s.type ?? '');
  const bounds = [s.minimum !== undefined ? `≥ ${s.minimum}` : '', s.maximum !== undefined ? `≤ ${s.maximum}` : ''].filter(Boolean).join('，');
  const base = { integer: '整数', number: '数字', string: '文本', boolean: '是/否', array: `列表（${s.items ? describeType(s.items) : ''}）`, object: '对象' }[t] ?? t;
  return [base, bounds, s.format === 'uri' ? 'URL' : '', s.pattern ? `格式 \`${s.pattern}\`` : ''].filter(Boolean).join('，');
}

const fmtDefault = (v: unknown): string => (v === undefined ? '—' : `\`${JSON.stringify(v)}\``);

function walk(s: Json, path: string, rows: string[]): void {
  if (s.type === 'object' && s.properties) {
    for (const [k, child] of Object.entries(s.properties)) walk(child, path ? `${path}.${k}` : k, rows);
    return;
  }
  rows.push(`| \`${path}\` | ${describeType(s).replace(/\|/g, '\\|')} | ${fmtDefault(s.default).replace(/\|/g, '\\|')} |`);
}

export function configReference(): string {
  const env = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const file = z.toJSONSchema(fileSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const envRows = Object.entries(env.properties ?? {}).map(
    ([k, s]) => `| \`${k}\` | ${(ENV_HELP[k] ?? '').replace(/\|/g, '\\|')} | ${describeType(s).replace(/\|/g, '\\|')} | ${fmtDefault(s.default).replace(/\|/g, '\\|')} |`,
  );
  const fileRows: string[] = [];
  walk(file, '', fileRows);
  return [
    '# 配置参考 / Configuration reference',
    '',
    '> 本文件由 `npm run docs:config` 根据 `src/config.ts` 中的 zod 架构生成，请勿手工修改。',
    '> Generated from the zod schemas in `src/config.ts` by `npm run docs:config`; do not edit by hand.',
    '',
    '填错任何一项时，机器人会拒绝启动，并指出键名、给定的值和期望的格式。',
    '',
    '## 环境变量 / Environment variables',
    '',
    '| 变量 | 作用 | 取值 | 默认值 |',
    '| --- | --- | --- | --- |',
    ...envRows,
    '',
    '## 医院设置文件 `qinglian.yaml`',
    '',
    '只写需要修改的项；未写的项使用默认值。键的路径用点号表示层级，例如 `quiz.passMark` 写作：',
    '',
    '```yaml',
    'quiz:',
    '  passMark: 85',
    '```',
    '',
    '| 键 | 取值 | 默认值 |',
    '| --- | --- | --- |',
    ...fileRows,
    '',
  ].join('\n');
}
