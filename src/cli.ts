import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import { describeSummary, importRosterFile, RosterImportError } from './domain/roster.js';
import { openStore } from './store/open.js';

/**
 * Administrator commands run on the server: `npm run cli -- <area> <verb> [args]`.
 * Exit codes: 0 done, 1 the input was refused (reasons printed), 2 bad usage or config.
 */

const USAGE = `用法：npm run cli -- <命令>

  roster import 文件.csv|文件.xlsx [--dry-run]   导入人员名单（--dry-run 只检查并统计，不写入）
`;

type Command = (args: string[], flags: Set<string>) => Promise<number>;

const commands: Record<string, Command> = {
  'roster import': async (args, flags) => {
    const file = args[0];
    if (!file) {
      console.error('请指定要导入的文件，例如：npm run cli -- roster import examples/roster.csv');
      return 2;
    }
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      console.error(`无法读取文件 ${file}，请检查路径。`);
      return 2;
    }
    const db = await openStore(loadConfig().env);
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
    else console.error('执行失败：', err instanceof Error ? err.message : err);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
