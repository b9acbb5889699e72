import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultBank, exportQuestionFile, importQuestionFile, loadDefaultBank } from '../src/domain/quiz/bank.js';
import { bankProblems, citesSomething, questionProblems, type Question } from '../src/domain/quiz/question.js';
import { QuestionImportError } from '../src/domain/quiz/transfer.js';
import { countQuestions, currentQuestions, questionVersions } from '../src/store/quiz.js';
import { freshDb } from './helpers/db.js';

const FIXTURE = new URL('./fixtures/quiz-questions.json', import.meta.url);
const fixture = (): Question[] => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Question[];

async function importError(p: Promise<unknown>): Promise<QuestionImportError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof QuestionImportError) return e;
    throw e;
  }
  throw new Error('expected the import to be refused');
}

describe('the shipped default bank', () => {
  const bank = loadDefaultBank();

  it('has at least 150 questions, every one passing the bank’s own validation', () => {
    expect(bank.length).toBeGreaterThanOrEqual(150);
    expect(bankProblems(bank)).toEqual([]);
  });

  it('cites a source for every explanation', () => {
    for (const q of bank) {
      expect(q.explanation.trim().length, q.id).toBeGreaterThan(10);
      expect(citesSomething(q.source), `${q.id}: ${q.source}`).toBe(true);
    }
  });

  it('covers all nine rules and all three question types', () => {
    expect(new Set(bank.filter((q) => q.rule !== null).map((q) => q.rule)).size).toBe(9);
    expect(new Set(bank.map((q) => q.type))).toEqual(new Set(['single', 'multiple', 'judge']));
  });
});

describe('question validation', () => {
  const good = fixture()[0];
  const reasons = (q: unknown) => questionProblems(q).map((p) => `${p.field}: ${p.reason}`);

  it('accepts a good question', () => {
    expect(questionProblems(good)).toEqual([]);
  });

  it('names each problem and its field', () => {
    expect(reasons({ ...good, answer: [0, 1] })).toEqual([expect.stringMatching(/^answer: 单选题只能有一个正确答案/)]);
    expect(reasons({ ...good, type: 'multiple', answer: [2] })).toEqual([expect.stringMatching(/^answer: 多选题至少有两个/)]);
    expect(reasons({ ...good, answer: [7] })).toEqual([expect.stringMatching(/^answer: 答案 7 超出了选项范围/)]);
    expect(reasons({ ...good, type: 'judge', options: ['对', '错'], answer: [0] })).toEqual([expect.stringMatching(/^options: 判断题的选项/)]);
    expect(reasons({ ...good, source: '' })).toEqual(['source: 出处不能为空']);
    expect(reasons({ ...good, source: '老师说的' })).toEqual([expect.stringMatching(/^source: 出处“老师说的”没有指明依据/)]);
    expect(reasons({ ...good, rule: 10 })).toEqual([expect.stringMatching(/^rule: /)]);
    expect(reasons({ ...good, options: ['甲', '甲', '乙'] })).toEqual([expect.stringMatching(/^options: 选项 B 与前面的选项重复/)]);
    expect(reasons({ ...good, id: '1 2' })).toEqual([expect.stringMatching(/^id: /)]);
  });

  it('finds duplicate ids across a bank', () => {
    expect(bankProblems([good, { ...good }])).toEqual([{ index: 1, id: good.id, problems: [{ field: 'id', reason: expect.stringContaining('重复') }] }]);
  });
});

describe('import and export (PGlite)', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pglite', 'quiz_bank');
  });
  afterAll(async () => {
    await db.dispose();
  });

  it('loads the default bank once, and a second start changes nothing', async () => {
    const first = await ensureDefaultBank(db);
    expect(first?.added.length).toBe(loadDefaultBank().length);
    expect(await ensureDefaultBank(db)).toBeUndefined();
    expect(await countQuestions(db)).toBe(loadDefaultBank().length);
  });

  it('reports every bad CSV row with line, column and reason, and imports nothing', async () => {
    const before = await countQuestions(db);
    const csv = [
      'id,type,rule,topic,stem,A,B,C,D,answer,explanation,source',
      'N0001,single,1,提成,好的题目？,甲,乙,丙,丁,B,因为乙。,《九项准则》第一条',
      'N0002,单选,11,提成,"多行\n题干？",甲,乙,,,Z,解析,《九项准则》第一条',
      'N0003,判断,,举报,举报人信息要保密。,,,,,正确,解析,',
      'N0001,多选,2,骗保,重复的题号？,甲,乙,丙,,A,解析,《九项准则》第二条',
      'N0005,essay,2,骗保,题型不对,甲,乙,,,A,解析,《九项准则》第二条',
    ].join('\n');
    const err = await importError(importQuestionFile(db, 'bad.csv', Buffer.from(csv)));
    const got = err.problems.map((p) => [p.line, p.column, p.reason]);
    expect(got).toEqual([
      [3, 'rule', expect.stringContaining('准则条目 "11" 无效')],
      [3, 'answer', expect.stringContaining('答案 "Z" 无效')],
      [5, 'source', '出处不能为空'],
      [6, 'answer', expect.stringContaining('多选题至少有两个正确答案')],
      [6, 'id', expect.stringContaining('题号 N0001 重复')],
      [7, 'type', expect.stringContaining('题型 "essay" 无效')],
    ]);
    expect(err.message).toContain('第 3 行，列 rule：');
    expect(await countQuestions(db)).toBe(before);
  });

  it('reports unknown and missing columns in the header', async () => {
    const err = await importError(importQuestionFile(db, 'h.csv', Buffer.from('id,kind,stem\nX1,single,题？\n')));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        { line: 1, column: 'kind', reason: expect.stringContaining('未知的列名') },
        { line: 1, column: 'answer', reason: '缺少必需的列' },
        { line: 1, column: 'source', reason: '缺少必需的列' },
      ]),
    );
  });

  it('reports a bad JSON question at the line where it starts', async () => {
    const qs: unknown[] = fixture();
    qs[2] = { ...(qs[2] as object), answer: [] };
    const text = JSON.stringify(qs, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"T0003"')) ; // the id line follows the "{" line
    const err = await importError(importQuestionFile(db, 'x.json', Buffer.from(text)));
    expect(err.problems).toEqual([{ line, column: 'answer', reason: expect.stringContaining('答案不能为空') }]);
    const syntax = await importError(importQuestionFile(db, 'x.json', Buffer.from('[\n{"id": "A",\n]')));
    expect(syntax.problems[0].reason).toContain('不是有效的 JSON');
  });

  it('refuses an unsupported file type', async () => {
    const err = await importError(importQuestionFile(db, 'bank.txt', Buffer.from('x')));
    expect(err.problems[0].reason).toContain('不支持的文件类型');
  });

  it('adds new questions; re-importing the same file changes nothing', async () => {
    const data = readFileSync(FIXTURE);
    const first = await importQuestionFile(db, 'fixture.json', data);
    expect(first.added).toEqual(['T0001', 'T0002', 'T0003', 'T0004']);
    const again = await importQuestionFile(db, 'fixture.json', data);
    expect(again).toMatchObject({ added: [], updated: [], unchanged: 4 });
  });

  it('updates by id as a new version and keeps the old one', async () => {
    const qs = fixture();
    qs[0] = { ...qs[0], stem: '（修订）患者家属硬塞红包，医生应当？' };
    const dry = await importQuestionFile(db, 'fixture.json', Buffer.from(JSON.stringify(qs)), { dryRun: true });
    expect(dry.updated).toEqual(['T0001']);
    expect((await currentQuestions(db)).find((q) => q.id === 'T0001')?.version).toBe(1);
    const s = await importQuestionFile(db, 'fixture.json', Buffer.from(JSON.stringify(qs)));
    expect(s.updated).toEqual(['T0001']);
    const current = (await currentQuestions(db)).find((q) => q.id === 'T0001')!;
    expect(current.version).toBe(2);
    expect(current.stem).toContain('修订');
    const [v1] = await questionVersions(db, [{ id: 'T0001', version: 1 }]);
    expect(v1.stem).toBe(fixture()[0].stem);
  });

  it('exports CSV and XLSX that re-import unchanged, and reads XLSX problems with their row numbers', async () => {
    for (const name of ['bank.csv', 'bank.xlsx', 'bank.json']) {
      const out = await exportQuestionFile(db, name);
      expect(out.count).toBe(await countQuestions(db));
      const back = await importQuestionFile(db, name, out.data, { dryRun: true });
      expect(back, name).toMatchObject({ added: [], updated: [], unchanged: out.count });
    }
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('题库');
    ws.addRow(['题号', '题型', '准则', '主题', '题干', '选项A', '选项B', '答案', '解析', '出处']);
    ws.addRow(['X0001', '判断', 5, '隐私', '可以随意查询熟人的病历。', '正确', '错误', '错误', '违反保密准则。', '《九项准则》第五条']);
    ws.addRow(['X0002', '单选', 5, '隐私', '', '甲', '乙', 'A', '解析。', '《九项准则》第五条']);
    const err = await importError(importQuestionFile(db, 'x.xlsx', Buffer.from(await wb.xlsx.writeBuffer())));
    expect(err.problems).toEqual([{ line: 3, column: 'stem', reason: '题干不能为空' }]);
  });

  it('does not reload the default bank over an administrator’s change', async () => {
    const q = (await currentQuestions(db)).find((x) => x.id === 'Q0001')!;
    await importQuestionFile(db, 'one.json', Buffer.from(JSON.stringify([{ ...q, topic: '管理员改过' }])));
    expect(await ensureDefaultBank(db)).toBeUndefined();
    expect((await currentQuestions(db)).find((x) => x.id === 'Q0001')?.topic).toBe('管理员改过');
  });
});
