import { randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importQuestionFile } from '../src/domain/quiz/bank.js';
import { QuestionImportError } from '../src/domain/quiz/transfer.js';
import { importRosterFile, RosterImportError } from '../src/domain/roster.js';
import { parsePlanFile, PlanImportError } from '../src/domain/study.js';
import { getStaff } from '../src/store/staff.js';
import { freshDb } from './helpers/db.js';

/** 13.10: files saved by Excel or Notepad on Chinese Windows, in every encoding they come in. */

const ROSTER = ['staff_id,name,department,roles,dingtalk_user_id,feishu_user_id', 'E0001,欧阳娜,心血管内科,staff,,', 'E0002,司马健,普外科,dept_head,,'].join('\r\n');
const QUESTIONS = ['id,type,rule,topic,stem,A,B,C,D,answer,explanation,source', 'G0001,单选,1,提成,医务人员可以收取开单提成吗？,可以,不可以,,,B,开单提成违反准则。,《九项准则》第一条'].join('\r\n');
const PLAN = 'plans:\n  - month: 2027-03\n    topic: 廉洁行医专题\n    keyPoints: [不收红包, 不拿回扣]\n';

const utf16le = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(s, 'utf16le')]);
const utf8bom = (s: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s, 'utf8')]);
/** Two good lines, then bytes that are neither UTF-8 nor GB18030 on line 3. */
const brokenLine3 = (s: string) => {
  const [a, b] = s.split(/\r?\n/);
  const noise = Buffer.from([...randomBytes(48)].filter((x) => x !== 0x0a && x !== 0x0d));
  return Buffer.concat([Buffer.from(`${a}\n${b}\n`, 'utf8'), Buffer.from([0xff, 0xfe, 0xff]), noise]);
};

async function refusal<E extends Error>(p: Promise<unknown>, type: new (...a: never[]) => E): Promise<E> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(type);
  return e as E;
}

describe('13.10 imported files in GBK, UTF-16 and UTF-8 with a BOM', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pglite', 'encodings');
  });
  afterAll(async () => {
    await db?.dispose();
  });

  const department = async (id: string) =>
    (await db.query<{ name: string }>('SELECT d.name FROM staff s JOIN departments d ON d.id = s.department_id WHERE s.staff_id = $1', [id])).rows[0]?.name;

  it.each([
    ['GBK (Excel on Chinese Windows)', iconv.encode(ROSTER, 'gbk')],
    ['GB18030', iconv.encode(ROSTER, 'gb18030')],
    ['UTF-16 LE with a BOM', utf16le(ROSTER)],
    ['UTF-8 with a BOM', utf8bom(ROSTER)],
    ['UTF-8', Buffer.from(ROSTER, 'utf8')],
  ])('13.10 a roster CSV in %s imports with correct Chinese names and departments', async (_label, data) => {
    const summary = await importRosterFile(db, '名单.csv', data);
    expect(summary).toBeDefined();
    expect((await getStaff(db, 'E0001'))?.name).toBe('欧阳娜');
    expect(await department('E0001')).toBe('心血管内科');
    expect((await getStaff(db, 'E0002'))?.name).toBe('司马健');
    expect(await department('E0002')).toBe('普外科');
    const depts = (await db.query<{ name: string }>('SELECT name FROM departments ORDER BY name')).rows.map((r) => r.name);
    expect(depts.every((n) => !n.includes('\ufffd') && /^[\u4e00-\u9fff]+$/.test(n))).toBe(true);
  });

  it('13.10 a roster CSV that is neither is refused naming the line, and nothing changes', async () => {
    const before = (await db.query<{ n: string }>('SELECT count(*)::text AS n FROM staff')).rows[0].n;
    const e = await refusal(importRosterFile(db, '名单.csv', brokenLine3(ROSTER)), RosterImportError);
    expect(e.message).toContain('第 3 行无法识别编码，请用 Excel“另存为 CSV UTF-8”后重新导入');
    const random = await refusal(importRosterFile(db, '名单.csv', randomBytes(4096)), RosterImportError);
    expect(random.message).toMatch(/第 \d+ 行无法识别编码/);
    expect((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM staff')).rows[0].n).toBe(before);
  });

  it.each([
    ['GBK', iconv.encode(QUESTIONS, 'gbk')],
    ['UTF-16 LE with a BOM', utf16le(QUESTIONS)],
    ['UTF-8 with a BOM', utf8bom(QUESTIONS)],
  ])('13.10 a question bank CSV in %s imports with its Chinese text', async (_label, data) => {
    await importQuestionFile(db, '题库.csv', data);
    const r = await db.query<{ stem: string; topic: string }>(
      `SELECT v.stem, v.topic FROM quiz_questions q JOIN quiz_question_versions v ON v.question_id = q.id AND v.version = q.version WHERE q.id = 'G0001'`,
    );
    expect(r.rows[0]).toEqual({ stem: '医务人员可以收取开单提成吗？', topic: '提成' });
  });

  it('13.10 a question bank (CSV or JSON) that is neither is refused naming the line', async () => {
    const csv = await refusal(importQuestionFile(db, '题库.csv', brokenLine3(QUESTIONS)), QuestionImportError);
    expect(csv.message).toContain('第 3 行无法识别编码');
    const json = await refusal(importQuestionFile(db, '题库.json', Buffer.concat([Buffer.from('[\n{\n'), Buffer.from([0xff, 0x81, 0x20])])), QuestionImportError);
    expect(json.message).toContain('第 3 行无法识别编码');
    // A GBK JSON bank is read too.
    const gbkJson = iconv.encode(
      JSON.stringify([{ id: 'G0002', type: 'judge', rule: 2, topic: '回扣', stem: '可以收取回扣。', options: ['正确', '错误'], answer: [1], explanation: '违反准则。', source: '《九项准则》第二条' }]),
      'gbk',
    );
    await importQuestionFile(db, '题库.json', gbkJson);
    expect((await db.query<{ stem: string }>(`SELECT stem FROM quiz_question_versions WHERE question_id = 'G0002'`)).rows[0]?.stem).toBe('可以收取回扣。');
  });

  it.each([
    ['GBK', iconv.encode(PLAN, 'gbk')],
    ['UTF-16 LE with a BOM', utf16le(PLAN)],
    ['UTF-8 with a BOM', utf8bom(PLAN)],
  ])('13.10 a study plan in %s is read with its Chinese text', (_label, data) => {
    const [plan] = parsePlanFile('计划.yaml', data);
    expect(plan).toMatchObject({ month: '2027-03', topic: '廉洁行医专题', keyPoints: ['不收红包', '不拿回扣'] });
  });

  it('13.10 a study plan that is neither is refused naming the line', () => {
    let e: unknown;
    try {
      parsePlanFile('计划.yaml', Buffer.concat([Buffer.from('plans:\n  - month: 2027-03\n    topic: '), Buffer.from([0xff, 0xfe, 0x81, 0x20])]));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(PlanImportError);
    expect((e as PlanImportError).message).toContain('计划.yaml：第 3 行无法识别编码');
  });
});
