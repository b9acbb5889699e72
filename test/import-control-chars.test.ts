import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importQuestionFile } from '../src/domain/quiz/bank.js';
import { importRosterFile } from '../src/domain/roster.js';
import { parsePlanFile } from '../src/domain/study.js';
import { getStaff } from '../src/store/staff.js';
import { freshDb } from './helpers/db.js';

/**
 * 13.11 for files: what an administrator imports is cleaned like what staff type. A NUL or a
 * bidirectional override in a roster cell, or an escaped \u0000 in a JSON bank, used to reach
 * PostgreSQL, which refuses NUL in text (22021) and fails the whole import.
 */
describe('13.11 control and bidi characters in imported files (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  beforeAll(async () => {
    db = await freshDb('pg', 'import_ctl');
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('13.11 a roster CSV with NUL and a bidi override in cells imports cleaned', async () => {
    const csv = ['staff_id,name,department,roles,dingtalk_user_id,feishu_user_id', 'E0101,欧阳\u0000娜,心血管\u202e内科,staff,,'].join('\n');
    await importRosterFile(db, '名单.csv', Buffer.from(csv, 'utf8'));
    expect((await getStaff(db, 'E0101'))?.name).toBe('欧阳娜');
    expect((await getStaff(db, 'E0101'))?.department).toBe('心血管内科');
  });

  it('13.11 a JSON question bank with an escaped \\u0000 imports cleaned', async () => {
    const bank = [
      { id: 'C0001', type: 'single', rule: 1, topic: '提成', stem: '医务人员可以收取开单\\u0000提成吗？', options: ['可以', '不可以\\u0000'], answer: [1], explanation: '开单提成违反准则。', source: '《九项准则》第一条' },
    ];
    const json = JSON.stringify(bank).replace(/\\\\u0000/g, '\\u0000');
    expect(json).toContain('\\u0000');
    await importQuestionFile(db, '题库.json', Buffer.from(json, 'utf8'));
    const row = (await db.query<{ stem: string; options: string }>("SELECT stem, options::text AS options FROM quiz_question_versions WHERE question_id = 'C0001'")).rows[0];
    expect(row?.stem).toBe('医务人员可以收取开单提成吗？');
    expect(row?.options).toBe('["可以", "不可以"]');
  });

  it('13.11 a study plan whose YAML carries an escaped control character is cleaned', () => {
    const plans = parsePlanFile('计划.yaml', 'plans:\n  - month: 2027-03\n    topic: "廉洁\\0行医\\u202e专题"\n');
    expect(plans[0].topic).toBe('廉洁行医专题');
  });
});
