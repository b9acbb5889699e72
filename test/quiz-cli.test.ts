import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, PG_URL, uniqueName } from './helpers/db.js';

const run = promisify(execFile);
const schema = uniqueName('quiz_cli');
const dir = mkdtempSync(join(tmpdir(), 'quiz-cli-'));
const env = { ...process.env, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, CONFIG_FILE: '/nonexistent/qinglian.yaml', LOG_LEVEL: 'silent' };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('npx', ['tsx', 'src/cli.ts', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('npm run cli -- questions import|export', () => {
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('exports the default bank, refuses a bad file with every problem, imports a good one', async () => {
    const out = join(dir, 'bank.xlsx');
    const exported = await cli('questions', 'export', out);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/已导出 \d+ 道在用的题/);
    expect(existsSync(out)).toBe(true);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'id,type,topic,stem,A,B,answer,explanation,source\nZ1,single,主题,题干？,甲,乙,C,解析,《九项准则》第一条\nZ2,judge,主题,题干。,,,错误,解析,\n');
    const refused = await cli('questions', 'import', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('题库没有任何改动');
    expect(refused.stderr).toContain('第 2 行，列 answer');
    expect(refused.stderr).toContain('第 3 行，列 source：出处不能为空');

    const good = join(dir, 'good.json');
    writeFileSync(good, readFileSync(new URL('./fixtures/quiz-questions.json', import.meta.url)));
    const ok = await cli('questions', 'import', good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('新增 4 道');
  }, 120_000);

  it('retires and restores questions by id; an unknown id changes nothing', async () => {
    const unknown = await cli('questions', 'retire', 'Q0003', 'NO-SUCH');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('题库中没有这些题号：NO-SUCH。没有做任何改动。');

    const retired = await cli('questions', 'retire', 'Q0003', 'Q0004');
    expect(retired.code).toBe(0);
    expect(retired.stdout).toContain('已停用 2 道题：Q0003、Q0004。');

    const out = join(dir, 'after-retire.json');
    const exported = await cli('questions', 'export', out);
    expect(exported.stdout).toContain('另有 2 道已停用的题未导出');
    const ids = (JSON.parse(readFileSync(out, 'utf8')) as { id: string }[]).map((q) => q.id);
    expect(ids).not.toContain('Q0003');
    expect(ids).toContain('Q0005');

    const restored = await cli('questions', 'restore', 'Q0003');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('已恢复 1 道题：Q0003。');
    const usage = await cli('questions', 'retire');
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('请写出要停用');
  }, 120_000);
});
