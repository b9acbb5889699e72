import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const NO_FILE = { CONFIG_FILE: '/nonexistent/qinglian.yaml' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...NO_FILE, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

function yaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qinglian-cfg-'));
  const file = join(dir, 'qinglian.yaml');
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('has defaults that work for a typical hospital', () => {
    const c = loadConfig(NO_FILE);
    expect(c.env).toMatchObject({ PORT: 3000, BOT_TIMEZONE: 'Asia/Shanghai', REDIS_URL: 'redis://127.0.0.1:6379', DATA_DIR: './data' });
    expect(c.env.DATABASE_URL).toBeUndefined();
    expect(c.settings.quiz.passMark).toBe(80);
    expect(c.settings.report.deadlineDay).toBe(20);
    expect(c.settings.study.pushTime).toBe('09:05');
  });

  it('names the key, the value and what is expected for a wrong type', () => {
    expect(problems({ PORT: 'abc' })).toEqual(['PORT: got "abc", expected a number']);
  });

  it('names the key, the value and the bound for an out-of-range value', () => {
    expect(problems({ PORT: '70000' })).toEqual(['PORT: got "70000", expected a value of at most 65535']);
    expect(problems({ BOT_TIMEZONE: 'Mars/Olympus' })).toEqual(['BOT_TIMEZONE: got "Mars/Olympus", expected an IANA time zone such as Asia/Shanghai']);
    expect(problems({ LOG_LEVEL: 'loud' })[0]).toMatch(/^LOG_LEVEL: got "loud", expected one of "fatal", "error"/);
  });

  it('reports a missing half of a credential pair', () => {
    expect(problems({ FEISHU_APP_ID: 'cli_0123456789abcdef' })).toEqual(['FEISHU_APP_ID / FEISHU_APP_SECRET: got only one of them, expected both or neither']);
  });

  it('reports every problem at once, including those in qinglian.yaml with their path', () => {
    const file = yaml('quiz:\n  passMark: 120\nstudy:\n  pushTime: "9 am"\nsurprise: 1\n');
    const p = problems({ CONFIG_FILE: file, REDIS_URL: 'http://localhost' });
    expect(p).toContain('REDIS_URL: got "http://localhost", expected a redis:// or rediss:// URL');
    expect(p).toContain(`${file}.quiz.passMark: got "120", expected a value of at most 100`);
    expect(p).toContain(`${file}.study.pushTime: got "9 am", expected a time HH:MM`);
    expect(p).toContain(`${file}: unknown key(s) surprise; remove them or check the spelling`);
  });

  it('16 ships the rule that rectified problems cannot outnumber those found, and checks configured rules name configured figures', () => {
    expect(loadConfig(NO_FILE).settings.report.rules).toEqual([{ figure: '已完成整改数', lte: '本月自查发现问题数' }]);
    // Other figures and no rules: the shipped rule is about names this hospital does not use.
    expect(loadConfig({ ...NO_FILE, CONFIG_FILE: yaml('report:\n  figures: [甲, 乙]\n') }).settings.report.rules).toEqual([]);
    const ok = yaml('report:\n  figures: [甲, 乙]\n  rules:\n    - { figure: 乙, lte: 甲 }\n');
    expect(loadConfig({ ...NO_FILE, CONFIG_FILE: ok }).settings.report.rules).toEqual([{ figure: '乙', lte: '甲' }]);
    const bad = yaml('report:\n  figures: [甲, 乙]\n  rules:\n    - { figure: 丙, lte: 甲 }\n');
    expect(problems({ CONFIG_FILE: bad })).toEqual([`${bad}.report.rules.0.figure: got "丙", expected one of report.figures (甲, 乙)`]);
  });

  it('says when the file is not YAML', () => {
    const file = yaml('quiz: [unclosed\n');
    expect(problems({ CONFIG_FILE: file })[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid YAML`));
  });

  it('treats empty environment values as unset', () => {
    expect(loadConfig({ ...NO_FILE, DATABASE_URL: '', PORT: '' }).env.PORT).toBe(3000);
  });
});
