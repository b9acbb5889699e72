import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { auditHead, auditVerify } from './audit-cli.js';
import { ConfigError, loadConfig } from './config.js';
import { describeSummary, importRosterFile, RosterImportError } from './domain/roster.js';
import { importPlans, parsePlanFile, PlanImportError } from './domain/study.js';
import { describeImport, describeRetire, exportQuestionFile, importQuestionFile, retireQuestions } from './domain/quiz/bank.js';
import { UserError } from './errors.js';
import { QuestionImportError } from './domain/quiz/transfer.js';
import { parseMonth } from './domain/calendar.js';
import { AREA_ALIASES } from './domain/progress.js';
import { progressWorkbook } from './domain/progress-export.js';
import { createLogger } from './logger.js';
import { DataDirBusy } from './store/lock.js';
import { openStore } from './store/open.js';
import { exportData, importData, TransferError } from './store/transfer.js';
import { failedCount, formatChecklist } from './doctor/checklist.js';
import { runDingTalkDoctor } from './doctor/dingtalk.js';
import { runFeishuDoctor } from './doctor/feishu.js';
import { getStaff, listDepartments } from './store/staff.js';
import { CampaignFileError, parseCampaignFile, REPEATS } from './domain/rectification/campaign-file.js';
import { importCampaign } from './domain/rectification/workflow.js';

/**
 * Administrator commands run on the server: `npm run cli -- <area> <verb> [args]`.
 * Exit codes: 0 done, 1 the input was refused (reasons printed), 2 bad usage or config,
 * 3 the PGlite data directory is held by a running bot (nothing was opened or changed).
 */

const USAGE = `用法：npm run cli -- <命令>

  roster import 文件.csv|文件.xlsx [--dry-run]   导入人员名单（--dry-run 只检查并统计，不写入）
  study import 文件.yaml|文件.json [--dry-run]  导入按月的学习计划（覆盖同月份的计划；有错则整体不导入）
  questions import 文件.json|.csv|.xlsx [--dry-run]  导入题库（按题号新增或更新；有错则整体不导入）
  rectification import 活动.yaml|活动.xlsx [--dry-run]  导入自查自纠活动（按编号新增或更新；有错则整体不导入，指出行和列）
  questions export 文件.json|.csv|.xlsx         导出在用的题目
  questions retire 题号 [题号 ...]              停用题目（不再抽到；已答记录不变）
  questions restore 题号 [题号 ...]             恢复已停用的题目
  export 学习|考试|上报|上缴|问题清单 [月份] [--out=文件.xlsx]  导出某月进度表（与聊天中“导出”相同）
  data export 文件.jsonl                        导出全部数据（备份，或从 PGlite 迁移到 PostgreSQL）
  data import 文件.jsonl                        导入到一个空的数据库
  audit verify [--head=哈希或文件]              核对审计日志的哈希链，指出第一条被改动的记录
  audit head [--out=文件]                       输出链头（一行 JSON），--out 时追加保存到文件
  dingtalk doctor [工号] [--wait=秒]             检查钉钉应用的凭证、权限、卡片模板和长连接；给出工号时发一张测试卡片并等待点击
  feishu doctor [工号] [--wait=秒]               检查飞书应用的凭证、机器人和长连接；给出工号时发一张测试卡片并等待点击
`;

/** The store, marked as the CLI's in the PGlite lock; a stale lock's takeover is logged to stderr. */
function openForCli(env: Parameters<typeof openStore>[0] & { LOG_LEVEL: string }) {
  return openStore(env, { role: 'cli', logger: createLogger(env.LOG_LEVEL, process.stderr) });
}

type Command = (args: string[], flags: Set<string>) => Promise<number>;

/** The file named by the first argument, or undefined after saying what is missing (exit 2). */
function inputFile(args: string[], example: string): { file: string; data: Buffer } | undefined {
  const file = args[0];
  if (!file) {
    console.error(`请指定文件，例如：npm run cli -- ${example}`);
    return undefined;
  }
  try {
    return { file, data: readFileSync(file) };
  } catch {
    console.error(`无法读取文件 ${file}，请检查路径。`);
    return undefined;
  }
}

const commands: Record<string, Command> = {
  'audit verify': auditVerify,
  'audit head': auditHead,
  export: async (args, flags) => {
    const area = AREA_ALIASES[(args[0] ?? '').toLowerCase()];
    if (!area) {
      console.error('请指定要导出的内容：学习、考试、上报、上缴 或 问题清单，例如：npm run cli -- export 学习 2026-11');
      return 2;
    }
    const config = loadConfig();
    const month = parseMonth(args[1] ?? '本月', new Date(), config.env.BOT_TIMEZONE);
    if (!month.ok) {
      console.error(month.message);
      return 2;
    }
    const db = await openForCli(config.env);
    try {
      const file = await progressWorkbook({ db, settings: config.settings, timeZone: config.env.BOT_TIMEZONE }, area, month.month);
      const out = [...flags].find((f) => f.startsWith('--out='))?.slice('--out='.length) ?? file.name;
      writeFileSync(out, file.data);
      console.log(`已写入 ${out}`);
      return 0;
    } finally {
      await db.close();
    }
  },
  'questions import': async (args, flags) => {
    const input = inputFile(args, 'questions import 题库.xlsx');
    if (!input) return 2;
    const { file, data } = input;
    const db = await openForCli(loadConfig().env);
    try {
      console.log(describeImport(await importQuestionFile(db, file, data, { dryRun: flags.has('--dry-run'), actor: 'cli' })));
      return 0;
    } catch (e) {
      if (e instanceof QuestionImportError) {
        console.error(`导入失败，题库没有任何改动。共 ${e.problems.length} 处问题：\n${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      await db.close();
    }
  },
  'questions export': async (args) => {
    const file = args[0];
    if (!file || !/\.(json|csv|xlsx)$/i.test(file)) {
      console.error('请指定输出文件（.json、.csv 或 .xlsx），例如：npm run cli -- questions export 题库.xlsx');
      return 2;
    }
    const db = await openForCli(loadConfig().env);
    try {
      const { data, count, retired } = await exportQuestionFile(db, file);
      writeFileSync(file, data);
      console.log(`已导出 ${count} 道在用的题到 ${file}（修改后可用 questions import 导回，按题号更新）。${retired ? `另有 ${retired} 道已停用的题未导出。` : ''}`);
      return 0;
    } finally {
      await db.close();
    }
  },
  'questions retire': (args) => retireCommand(args, false),
  'questions restore': (args) => retireCommand(args, true),
  'data export': async (args) => {
    if (!args[0]) {
      console.error('请指定输出文件，例如：npm run cli -- data export backup.jsonl');
      return 2;
    }
    const db = await openForCli(loadConfig().env);
    const out = createWriteStream(args[0]);
    let n = 0;
    try {
      for await (const line of exportData(db)) {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
        n++;
      }
    } finally {
      out.end();
      await once(out, 'finish');
      await db.close();
    }
    console.log(`已导出 ${n - 1} 行数据到 ${args[0]}`);
    return 0;
  },
  'dingtalk doctor': async (args, flags) => {
    const { env } = loadConfig();
    if (!env.DINGTALK_CLIENT_ID || !env.DINGTALK_CLIENT_SECRET) {
      console.error('未配置钉钉应用：请先设置 DINGTALK_CLIENT_ID 和 DINGTALK_CLIENT_SECRET（钉钉开发者后台 → 应用 → 凭证与基础信息）。');
      return 2;
    }
    const who = await doctorTarget(args[0], 'dingtalk');
    if (typeof who === 'number') return who;
    const checks = await runDingTalkDoctor({
      clientId: env.DINGTALK_CLIENT_ID,
      clientSecret: env.DINGTALK_CLIENT_SECRET,
      robotCode: env.DINGTALK_ROBOT_CODE ?? env.DINGTALK_CLIENT_ID,
      apiBase: env.DINGTALK_API_BASE,
      oapiBase: env.DINGTALK_OAPI_BASE,
      ...(env.DINGTALK_CARD_TEMPLATE_ID ? { templateId: env.DINGTALK_CARD_TEMPLATE_ID } : {}),
      ...(who ? { testUserId: who.userId, testUserLabel: who.label } : {}),
      clickWaitMs: waitSeconds(flags) * 1000,
      logger: createLogger('silent'),
      onTestCardSent: () => console.log(`已给 ${who?.label ?? ''} 发送测试卡片，请在 ${waitSeconds(flags)} 秒内点“我收到了”……`),
    });
    console.log(formatChecklist(`钉钉接入检查（Client ID ${env.DINGTALK_CLIENT_ID}）`, checks));
    return failedCount(checks) ? 1 : 0;
  },
  'feishu doctor': async (args, flags) => {
    const { env } = loadConfig();
    if (!env.FEISHU_APP_ID || !env.FEISHU_APP_SECRET) {
      console.error('未配置飞书应用：请先设置 FEISHU_APP_ID 和 FEISHU_APP_SECRET（飞书开发者后台 → 应用 → 凭证与基础信息）。');
      return 2;
    }
    const who = await doctorTarget(args[0], 'feishu');
    if (typeof who === 'number') return who;
    const checks = await runFeishuDoctor({
      appId: env.FEISHU_APP_ID,
      appSecret: env.FEISHU_APP_SECRET,
      domain: env.FEISHU_DOMAIN,
      ...(who ? { testUserId: who.userId, testUserLabel: who.label } : {}),
      clickWaitMs: waitSeconds(flags) * 1000,
      onTestCardSent: () => console.log(`已给 ${who?.label ?? ''} 发送测试卡片，请在 ${waitSeconds(flags)} 秒内点“我收到了”……`),
    });
    console.log(formatChecklist(`飞书接入检查（App ID ${env.FEISHU_APP_ID}）`, checks));
    return failedCount(checks) ? 1 : 0;
  },
  'data import': async (args) => {
    if (!args[0]) {
      console.error('请指定导出文件，例如：npm run cli -- data import backup.jsonl');
      return 2;
    }
    const db = await openForCli(loadConfig().env);
    try {
      // readline drops lines emitted before its iterator exists, so create the iterator now,
      // before the transaction's first await.
      const lines = createInterface({ input: createReadStream(args[0]), crlfDelay: Infinity })[Symbol.asyncIterator]();
      const counts = await importData(db, { [Symbol.asyncIterator]: () => lines });
      console.log(`导入完成：${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join('，') || '没有数据行'}`);
      return 0;
    } catch (e) {
      if (e instanceof TransferError) {
        console.error(`导入失败，目标数据库没有改动：${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      await db.close();
    }
  },
  'study import': async (args, flags) => {
    const input = inputFile(args, 'study import 学习计划.yaml');
    if (!input) return 2;
    const { file, data } = input;
    let plans;
    try {
      plans = parsePlanFile(file, data);
    } catch (e) {
      if (e instanceof PlanImportError) {
        console.error(`导入失败，学习计划没有任何改动。共 ${e.problems.length} 处问题：\n${e.message}`);
        return 1;
      }
      throw e;
    }
    if (flags.has('--dry-run')) {
      console.log(`检查通过：${plans.length} 个月的学习计划（${plans.map((p) => p.month).join('、')}），未写入。`);
      return 0;
    }
    const db = await openForCli(loadConfig().env);
    try {
      const months = await importPlans(db, plans, 'cli');
      console.log(`已导入 ${months.length} 个月的学习计划：${months.join('、')}。`);
      return 0;
    } finally {
      await db.close();
    }
  },
  'rectification import': async (args, flags) => {
    const input = inputFile(args, 'rectification import examples/rectification/baoji-2023-special-rectification.yaml');
    if (!input) return 2;
    const db = await openForCli(loadConfig().env);
    try {
      const spec = await parseCampaignFile(input.file, input.data, (await listDepartments(db)).map((d) => d.name));
      const what = `“${spec.title}”（编号 ${spec.id}，${spec.items.length} 个检查项，${spec.departments === 'all' ? '全院各科室' : `${spec.departments.length} 个科室`}，${REPEATS[spec.repeat]}，共 ${spec.rounds} 轮，首轮 ${spec.startsOn} 开始、${spec.dueOn} 截止）`;
      if (flags.has('--dry-run')) {
        console.log(`检查通过：${what}，未写入。`);
        return 0;
      }
      const r = await importCampaign(db, spec, 'cli');
      console.log(`已${r.created ? '导入' : '更新'}自查自纠活动${what}。到开始日期后自动推送给各目标科室的负责人和报告联络员；也可在聊天中发送“开展自查 ${spec.id}”立即开始。`);
      return 0;
    } catch (e) {
      if (e instanceof CampaignFileError) {
        console.error(`导入失败，没有任何改动。共 ${e.problems.length} 处问题：\n${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      await db.close();
    }
  },
  'roster import': async (args, flags) => {
    const input = inputFile(args, 'roster import examples/roster.csv');
    if (!input) return 2;
    const { file, data } = input;
    const db = await openForCli(loadConfig().env);
    try {
      const summary = await importRosterFile(db, file, data, { dryRun: flags.has('--dry-run'), actor: 'cli' });
      console.log(describeSummary(summary));
      return 0;
    } catch (e) {
      if (e instanceof RosterImportError) {
        console.error(`导入失败，名单没有任何改动。共 ${e.problems.length} 处问题：\n${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      await db.close();
    }
  },
};

function waitSeconds(flags: Set<string>): number {
  const raw = [...flags].find((f) => f.startsWith('--wait='))?.slice('--wait='.length);
  const n = Number(raw ?? 120);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 600) : 120;
}

/** The platform user id of the staff member named by 工号, read from the roster; a number is an exit code. */
async function doctorTarget(staffId: string | undefined, platform: 'dingtalk' | 'feishu'): Promise<{ userId: string; label: string } | undefined | number> {
  if (!staffId) return undefined;
  const db = await openStore(loadConfig().env);
  try {
    const s = await getStaff(db, staffId);
    const userId = s && (platform === 'dingtalk' ? s.dingtalkUserId : s.feishuUserId);
    if (!s || !userId) {
      console.error(s ? `人员名单中 ${staffId}（${s.name}）没有${platform === 'dingtalk' ? '钉钉' : '飞书'}账号，请在名单中补上后重新导入。` : `人员名单中没有工号 ${staffId}，请核对工号（先用 npm run cli -- roster import 导入名单）。`);
      return 1;
    }
    return { userId, label: `${s.name}（${staffId}）` };
  } finally {
    await db.close();
  }
}

async function retireCommand(ids: string[], restore: boolean): Promise<number> {
  const db = await openForCli(loadConfig().env);
  try {
    console.log(describeRetire(await retireQuestions(db, ids, { restore, actor: 'cli' })));
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const words = argv.filter((a) => !a.startsWith('--'));
  for (const key of Object.keys(commands)) {
    const parts = key.split(' ');
    if (parts.every((p, i) => words[i] === p)) return commands[key](words.slice(parts.length), flags);
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(`配置有误：\n${err.message}`);
    else if (err instanceof DataDirBusy) console.error(`没有执行：${err.message}`);
    else console.error('执行失败：', err instanceof Error ? err.message : err);
    process.exit(err instanceof ConfigError ? 2 : err instanceof DataDirBusy ? 3 : 1);
  },
);
