import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../src/bot/command-parser.js';
import { describeErrors, parseOneLine, validateDeclaration } from '../src/domain/declaration.js';
import { QuestionImportError } from '../src/domain/quiz/transfer.js';
import { parseQuestionFile } from '../src/domain/quiz/transfer.js';
import { validateRoster } from '../src/domain/roster.js';
import { FileFormatError, parseCsv } from '../src/domain/tabular.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const CJK = /[\u4e00-\u9fff]/;
// Strings that look like what people type: Chinese, digits, punctuation, markdown, control characters.
const chatText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.array(fc.constantFrom('上缴', '礼金', '500', '患者家属', '2026-11-20', '存入住院账户', '@清廉助手', ' ', '\u3000', '**', '[x](http://a)', '-1', '1e9', '0.001', '\n', '取消', '13800138000'), { maxLength: 12 }).map((a) => a.join(' ')),
);

describe('fuzzing the parsers (thousands of cases each)', () => {
  it('the command parser never throws and yields a word without spaces', () => {
    fc.assert(
      fc.property(chatText, (s) => {
        const p = parseCommand(s);
        if (p) {
          expect(p.word).not.toMatch(/\s/);
          expect(p.word.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the one-line declaration parser gives a valid record or Chinese messages naming fields', () => {
    fc.assert(
      fc.property(chatText, (s) => {
        const v = validateDeclaration(parseOneLine(s.split(/\s+/).filter(Boolean).slice(1)), { maxAmountYuan: 100000, today: '2026-11-25' });
        if (v.ok) {
          expect(Number(v.value.amount)).toBeGreaterThan(0);
          expect(v.value.receivedOn <= '2026-11-25').toBe(true);
        } else {
          const msg = describeErrors(v.errors);
          expect(msg).toMatch(CJK);
          expect(v.errors.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the roster validator reports every bad row with a line and never throws', () => {
    const cell = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'S0001', '张三', '眼科', 'staff|admin', '院领导', 'king', 'dt1'));
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 0, maxLength: 8 }), { maxLength: 20 }), fc.boolean(), (rows, withHeader) => {
        const body = rows.map((cells, i) => ({ line: i + 2, cells }));
        const input = withHeader ? [{ line: 1, cells: ['staff_id', 'name', 'department', 'roles'] }, ...body] : body.map((r) => ({ ...r, line: r.line - 1 }));
        const { entries, problems } = validateRoster(input);
        for (const p of problems) expect(p.reason).toMatch(CJK);
        if (problems.length === 0) expect(entries.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('the CSV reader either reads or says which line is broken', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          for (const r of parseCsv(s)) expect(r.line).toBeGreaterThan(0);
        } catch (e) {
          expect(e).toBeInstanceOf(FileFormatError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the question importer refuses bad files with reasons and never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.json({ maxDepth: 3 }),
          fc.array(fc.record({ id: fc.string({ maxLength: 6 }), type: fc.constantFrom('single', 'multiple', 'judge', 'essay'), stem: fc.string({ maxLength: 20 }), options: fc.array(fc.string({ maxLength: 8 }), { maxLength: 6 }), answer: fc.array(fc.integer({ min: -2, max: 7 }), { maxLength: 4 }) }), { maxLength: 5 }).map((a) => JSON.stringify(a)),
        ),
        fc.constantFrom('q.json', 'q.csv'),
        async (text, name) => {
          try {
            await parseQuestionFile(name, Buffer.from(text));
          } catch (e) {
            expect(e).toBeInstanceOf(QuestionImportError);
            expect((e as Error).message).toMatch(CJK);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('fuzzing every card action payload through the whole bot', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'fuzz_actions', backend: 'pglite' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('answers any payload on any registered action with a toast or a card, never a crash', async () => {
    const bot = t.app.bot;
    const actionIds = [...(bot as unknown as { actions: Map<string, unknown> }).actions.keys()];
    expect(actionIds.length).toBeGreaterThan(5);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const value = fc.dictionary(
        fc.constantFrom('a', 'id', 'v', 'i', 'o', 'n', 'step', 'attempt', 'f', 'd', 'x'),
        fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -5, max: 1e9 }), fc.boolean(), fc.constantFrom('1', 'HB-2026-000001', 'D-1', '../../etc', "' OR 1=1 --")),
        { maxKeys: 5 },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...actionIds, 'no.such.action'), value, fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }), { nil: undefined }), fc.constantFrom('S0001', 'S0003', 'S0040', 'S0036', 'S0005'), async (actionId, v, form, user) => {
          const r = await bot.onAction({
            kind: 'action',
            platform: 'sandbox',
            eventId: `fz_${Math.random().toString(36).slice(2)}`,
            platformUserId: user,
            conversation: { type: 'direct', platformUserId: user },
            messageId: 'm_fuzz',
            actionId,
            value: v,
            ...(form ? { form } : {}),
            receivedAt: new Date(),
          });
          expect(typeof r).toBe('object');
          if (r.toast !== undefined) {
            expect(r.toast).toMatch(CJK);
            expect(r.toast).not.toMatch(/参考编号/); // a bug answer would carry a reference id
          }
        }),
        { numRuns: 1500 },
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  }, 240_000);
});
