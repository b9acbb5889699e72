import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_WIDTH } from '../cards/chart-png.js';
import type { Card } from '../cards/model.js';
import { viewReport } from '../handlers/report.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

// A fixed "now" in Shanghai's November 2026; the fixture below is counted by hand.
const NOW = new Date('2026-11-25T04:00:00Z');

const json = (c: Card | undefined) => JSON.stringify(c ?? {});
const fieldsOf = (c: Card) => Object.fromEntries(c.elements.flatMap((e) => (e.type === 'fields' ? e.fields.map((f) => [f.label, f.value]) : [])));
const tableOf = (c: Card) => c.elements.find((e) => e.type === 'table') as { columns: string[]; rows: string[][] };

describe('进度 and 导出 against a hand-computed fixture', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'progress', now: () => NOW });
    const db = t.app.db;
    const dept = async (name: string) => (await db.query<{ id: number }>('SELECT id FROM departments WHERE name = $1', [name])).rows[0].id;
    // Study, November: 心血管内科 3 of 7, 普外科 1 of 7, 纪检监察室 3 of 3 → 7 of 42. October: 1 of 42.
    for (const s of ['S0001', 'S0003', 'S0004', 'S0009', 'S0040', 'S0041', 'S0042']) {
      await db.query(`INSERT INTO study_completions (month, staff_id, completed_at) VALUES ('2026-11', $1, '2026-11-10T02:00:00Z')`, [s]);
    }
    await db.query(`INSERT INTO study_completions (month, staff_id, completed_at) VALUES ('2026-10', 'S0001', '2026-10-10T02:00:00Z')`);
    // Exams finished in November: S0001 passes; S0003 fails then passes; S0009 fails → 3 took, 2 passed.
    const cardio = await dept('心血管内科');
    const surgery = await dept('普外科');
    const attempt = async (staff: string, d: number, score: number, finishedAt: string) =>
      db.query(
        `INSERT INTO quiz_attempts (staff_id, department_id, state, question_count, pass_mark, started_at, expires_at, finished_at, correct_count, score, passed)
         VALUES ($1, $2, 'finished', 10, 80, $3::timestamptz - interval '10 minutes', $3::timestamptz + interval '20 minutes', $3::timestamptz, $4, $5, $5 >= 80)`,
        [staff, d, finishedAt, Math.round(score / 10), score],
      );
    await attempt('S0001', cardio, 90, '2026-11-03T03:00:00Z');
    await attempt('S0003', cardio, 60, '2026-11-04T03:00:00Z');
    await attempt('S0003', cardio, 85, '2026-11-05T03:00:00Z');
    await attempt('S0009', surgery, 70, '2026-11-06T03:00:00Z');
    await attempt('S0009', surgery, 95, '2026-10-31T15:30:00Z'); // 23:30 on 31 October in Shanghai: October's
    // Reports: 5 departments have a report owner; 心血管内科 on time, 药剂科 late.
    const pharmacy = await dept('药剂科');
    await db.query(
      `INSERT INTO report_submissions (month, department_id, version, summary, figures, submitted_by, submitted_at, late) VALUES ('2026-11', $1, 1, '本月开展专题学习一次', $2, 'S0004', '2026-11-18T02:00:00Z', false)`,
      [cardio, JSON.stringify({ 已完成整改数: 2, 本月自查发现问题数: 3, 开展专题教育次数: 1 })],
    );
    await db.query(`INSERT INTO report_submissions (month, department_id, version, summary, submitted_by, submitted_at, late) VALUES ('2026-11', $1, 1, '逾期提交', 'S0028', '2026-11-21T02:00:00Z', true)`, [pharmacy]);
    // Declarations received in November: two registered (500.00 + 300.50), one still pending;
    // and one received in October but registered in November (16: counted as 当月办理登记).
    const decl = async (staff: string, d: number, kind: string, amount: string, state: string, handling: string, receivedOn = '2026-11-12', registeredAt = '2026-11-20T02:00:00Z') =>
      db.query(
        `INSERT INTO declarations (declarant_id, department_id, state, kind, amount, received_on, giver, handling, description, registered_at)
         VALUES ($1, $2, $3, $4, $5, $7, 'family', $6, '', CASE WHEN $3 = 'registered' THEN $8::timestamptz END)`,
        [staff, d, state, kind, amount, handling, receivedOn, registeredAt],
      );
    await decl('S0006', cardio, 'cash', '500.00', 'registered', 'to_finance');
    await decl('S0012', surgery, 'gift', '300.50', 'registered', 'returned');
    await decl('S0017', await dept('儿科'), 'cash', '200.00', 'pending_dept', 'to_finance');
    await decl('S0007', cardio, 'cash', '100.00', 'registered', 'to_finance', '2026-10-28', '2026-11-24T02:00:00Z');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('shows leadership the hospital overview against last month', async () => {
    const [r] = await ask(t, 'S0005', '进度');
    const f = fieldsOf(r.card!);
    expect(r.card!.title).toBe('全院清廉建设进度 · 2026年11月');
    expect(f['学习完成率']).toBe('16.7%（7/42）（较上月↑14.3个百分点）');
    expect(f['考试参加率']).toBe('7.1%（3/42）（较上月↑4.8个百分点）');
    expect(f['考试通过率']).toBe('66.7%（参加者中 2 人通过）（较上月↓33.3个百分点）');
    expect(f['月度上报']).toBe('已交 2/5，逾期 1，未交 3（上月已交 0/5）');
    expect(f['上缴登记']).toBe('收到 3 件，已登记 2 件，800.50 元（上月收到 1 件，已登记 1 件，100 元）');
    expect(f['当月办理登记']).toBe('3 件（上月 0 件）');
  });

  it('gives a detail table sorted worst first, with a chart that is a valid PNG of the expected size', async () => {
    const [r] = await ask(t, 'S0040', '进度 学习 本月');
    const tbl = tableOf(r.card!);
    expect(tbl.rows.map((x) => [x[1], x[4]])).toEqual([
      ['财务科', '0.0%'], ['儿科', '0.0%'], ['药剂科', '0.0%'], ['医保办', '0.0%'], ['医务科', '0.0%'],
      ['普外科', '14.3%'], ['心血管内科', '42.9%'], ['纪检监察室', '100.0%'],
    ]);
    const img = r.card!.elements.find((e) => e.type === 'image') as { url: string };
    const png = Buffer.from(await (await fetch(`${t.url}${img.url}`)).arrayBuffer());
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(CHART_WIDTH);
    // Eight departments lie flat, one row of at least 20 logical px (40 px at 2×) each.
    expect(png.readUInt32BE(20)).toBeGreaterThan(8 * 40);
  });

  it('lists one department’s people, and each area in detail', async () => {
    const [study] = await ask(t, 'S0005', '进度 学习 2026年11月 心血管内科');
    expect(tableOf(study.card!).rows.map((x) => `${x[0]}:${x[2]}`)).toEqual(['S0005:未学习', 'S0006:未学习', 'S0007:未学习', 'S0008:未学习', 'S0001:已学习', 'S0003:已学习', 'S0004:已学习']);
    const [exam] = await ask(t, 'S0005', '进度 考试 11月 普外科');
    expect(tableOf(exam.card!).rows.find((x) => x[0] === 'S0009')).toEqual(['S0009', '张立军', '未通过', '1 次，最高 70 分']);
    const [report] = await ask(t, 'S0005', '进度 上报');
    expect(tableOf(report.card!).rows.map((x) => `${x[0]}:${x[1]}`).sort()).toEqual(['医保办:未提交', '医务科:未提交', '普外科:未提交', '心血管内科:按时提交', '药剂科:逾期提交'].sort());
    const [decl] = await ask(t, 'S0005', '进度 上缴');
    // 16: leadership sees small counts as "<3" and no amount behind them; the discipline office the figures.
    expect(fieldsOf(decl.card!)).toMatchObject({ 登记件数: '<3', 登记金额: '—', 审批中: '<3' });
    expect(json(decl.card)).not.toMatch(/S0006|谢婉清|S0012|邓佳慧|800\.50/);
    const [exact] = await ask(t, 'S0040', '进度 上缴');
    expect(fieldsOf(exact.card!)).toMatchObject({ 收到件数: '3', 登记件数: '2', 登记金额: '800.50 元', 审批中: '1', 当月办理登记: '3' });
    expect(tableOf(exact.card!).rows.find((x) => x[0] === '心血管内科')).toEqual(['心血管内科', '1', '1', '500', '0', '2']);
  });

  it('limits a department head to their own department and refuses everyone else politely', async () => {
    const [own] = await ask(t, 'S0003', '进度');
    expect(own.card!.title).toBe('心血管内科清廉建设进度 · 2026年11月');
    expect(fieldsOf(own.card!)['学习完成率']).toBe('42.9%（3/7）（较上月↑28.6个百分点）');
    const [other] = await ask(t, 'S0003', '进度 学习 普外科');
    expect(other.text).toBe('抱歉，科室负责人只能查看本科室（心血管内科）的进度。');
    const [staff] = await ask(t, 'S0001', '进度');
    expect(staff.text).toBe('抱歉，“进度”仅限院领导、纪检监察、科室负责人使用。发送“帮助”查看您可以使用的命令。');
    const [mine] = await ask(t, 'S0001', '我的进度');
    expect(fieldsOf(mine.card!)).toMatchObject({ 本月测验: '已通过（1 次，最高 90 分）', 我的申报: '无' });
    expect(fieldsOf(mine.card!)['本月学习']).toMatch(/^已学习/);
  });

  it('explains a month or an argument it cannot read, and says when a month has no data', async () => {
    const [bad] = await ask(t, 'S0005', '进度 考试 2026年13月');
    expect(bad.text).toContain('月份“2026年13月”不存在');
    const [empty] = await ask(t, 'S0005', '进度 2025-01');
    expect(empty.text).toBe('2025年1月全院还没有任何数据。');
    // 16: a month not yet begun says so, instead of a table of 0%.
    const [future] = await ask(t, 'S0005', '进度 学习 2027-03');
    expect(future.text).toBe('2027年3月尚未开始，暂无进度。');
    const [next] = await ask(t, 'S0005', '进度 2026-12');
    expect(next.text).toBe('2026年12月尚未开始，暂无进度。');
    const exported = await ask(t, 'S0005', '导出 考试 2027-03');
    expect(exported.map((m) => [m.text, m.fileUrl])).toEqual([['2027年3月尚未开始，暂无进度。', undefined]]);
  });

  it('16 says which department a partial name was taken for, and asks for the full name when several fit', async () => {
    const [one] = await ask(t, 'S0005', '进度 学习 外科');
    expect(one.card!.title).toBe('学习进度 · 2026年11月 · 普外科');
    expect(one.card!.elements[0]).toEqual({ type: 'note', text: '按“外科”匹配到科室：普外科' });
    const [exact] = await ask(t, 'S0005', '进度 学习 普外科');
    expect(json(exact.card)).not.toContain('匹配到科室');
    const [file] = (await ask(t, 'S0005', '导出 学习 外科', 2)).filter((m) => !m.fileUrl);
    expect(file.text).toMatch(/^按“外科”匹配到科室：普外科\n已生成 /);
    await t.app.db.query(`INSERT INTO departments (name) VALUES ('心胸外科')`);
    try {
      const [many] = await ask(t, 'S0005', '进度 学习 外科');
      expect(many.text).toContain('“外科”对应多个科室：普外科、心胸外科，请写完整名称。');
    } finally {
      await t.app.db.query(`DELETE FROM departments WHERE name = '心胸外科'`);
    }
  });

  it('exports a workbook whose cells match the figures', async () => {
    const replies = await ask(t, 'S0005', '导出 学习 2026-11', 2);
    const file = replies.find((m) => m.fileUrl)!;
    const data = Buffer.from(await (await fetch(`${t.url}${file.fileUrl}`)).arrayBuffer());
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    const summary = wb.getWorksheet('汇总')!;
    expect(summary.getCell('A1').value).toBe('学习情况 · 2026年11月');
    expect(summary.getRow(3).values).toEqual([undefined, '科室', '应学人数', '已学习', '未学习', '完成率']);
    const rows = summary.getSheetValues().slice(4).map((r) => (r as unknown[]).slice(1));
    expect(rows).toContainEqual(['心血管内科', 7, 3, 4, 3 / 7]);
    expect(rows).toContainEqual(['纪检监察室', 3, 3, 0, 1]);
    // 16: rates are numbers under a percent format, and a 全院 line sums the departments.
    const cardio = summary.getColumn(1).values.indexOf('心血管内科');
    expect(summary.getCell(cardio, 5)).toMatchObject({ type: ExcelJS.ValueType.Number, numFmt: '0.0%' });
    expect(rows.at(-1)).toEqual(['全院', 42, 7, 35, 7 / 42]);
    expect(summary.getCell(summary.rowCount, 5).numFmt).toBe('0.0%');
    expect(summary.views[0]).toMatchObject({ state: 'frozen', ySplit: 3 });
    const detail = wb.getWorksheet('明细')!;
    expect(detail.rowCount).toBe(43);
    // The summary carries the chat card's chart, the same bytes, right of the table.
    const [card] = await ask(t, 'S0005', '进度 学习 2026-11');
    const img = card.card!.elements.find((e) => e.type === 'image') as { url: string };
    const chatPng = Buffer.from(await (await fetch(`${t.url}${img.url}`)).arrayBuffer());
    const images = summary.getImages();
    expect(images).toHaveLength(1);
    expect(images[0].range.tl.nativeCol).toBe(6);
    expect(Buffer.from(wb.getImage(Number(images[0].imageId)).buffer as unknown as Uint8Array).equals(chatPng)).toBe(true);
    expect(detail.getImages()).toHaveLength(0);
    // A completion time is a real date (10:00 in Shanghai) with its year, not the text "11/10 10:00".
    const done = detail.getRow(detail.getColumn(2).values.indexOf('S0001'));
    expect(done.getCell(5).type).toBe(ExcelJS.ValueType.Date);
    expect(done.getCell(5).value).toEqual(new Date(Date.UTC(2026, 10, 10, 10, 0)));
    expect(done.getCell(5).numFmt).toBe('yyyy-mm-dd hh:mm');
    const [decl] = (await ask(t, 'S0005', '导出 上缴', 2)).filter((m) => m.fileUrl);
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load((await (await fetch(`${t.url}${decl.fileUrl}`)).arrayBuffer()) as ArrayBuffer);
    expect(wb2.getWorksheet('汇总')!.getRow(5).values).toEqual([undefined, 2, 800.5, 1]);
    const byDept = wb2.getWorksheet('按科室')!;
    expect(byDept.getRow(byDept.rowCount).values).toEqual([undefined, '全院', 2, 800.5, 1]);
    expect(byDept.getCell(byDept.rowCount, 3).numFmt).toBe('#,##0.00');
  });

  it('16 a study completed after the due date (in Shanghai) shows as 逾期 in 进度 学习 and 导出 学习', async () => {
    // 01:00 on 1 December in Shanghai, still 30 November in UTC: late against November's due date (the 30th).
    await t.app.db.query(`UPDATE study_completions SET completed_at = '2026-11-30T17:00:00Z' WHERE month = '2026-11' AND staff_id = 'S0004'`);
    try {
      const [study] = await ask(t, 'S0005', '进度 学习 2026-11 心血管内科');
      const status = Object.fromEntries(tableOf(study.card!).rows.map((x) => [x[0], x[2]]));
      expect(status).toMatchObject({ S0001: '已学习', S0003: '已学习', S0004: '已学习（逾期）', S0005: '未学习' });
      const [file] = (await ask(t, 'S0005', '导出 学习 2026-11', 2)).filter((m) => m.fileUrl);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load((await (await fetch(`${t.url}${file.fileUrl}`)).arrayBuffer()) as ArrayBuffer);
      const detail = wb.getWorksheet('明细')!;
      expect(detail.getRow(1).values).toEqual([undefined, '科室', '工号', '姓名', '状态', '完成时间', '是否逾期']);
      const row = (id: string) => (detail.getRow(detail.getColumn(2).values.indexOf(id)).values as unknown[]).slice(4);
      expect(row('S0004')).toEqual(['已学习（逾期）', new Date(Date.UTC(2026, 11, 1, 1, 0)), '逾期']);
      expect(row('S0001')).toEqual(['已学习', new Date(Date.UTC(2026, 10, 10, 10, 0)), '']);
    } finally {
      await t.app.db.query(`UPDATE study_completions SET completed_at = '2026-11-10T02:00:00Z' WHERE month = '2026-11' AND staff_id = 'S0004'`);
    }
  });

  it('16 exports exams with 次数 and 最高分 as numbers, and a 全院 line', async () => {
    const [file] = (await ask(t, 'S0005', '导出 考试 2026-11', 2)).filter((m) => m.fileUrl);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await (await fetch(`${t.url}${file.fileUrl}`)).arrayBuffer()) as ArrayBuffer);
    const detail = wb.getWorksheet('明细')!;
    expect(detail.getRow(1).values).toEqual([undefined, '科室', '工号', '姓名', '结果', '次数', '最高分']);
    const row = (id: string) => (detail.getRow(detail.getColumn(2).values.indexOf(id)).values as unknown[]).slice(1);
    expect(row('S0003')).toEqual(['心血管内科', 'S0003', '郑国栋', '已通过', 2, 85]);
    expect(row('S0005').slice(3, 5)).toEqual(['未参加', 0]);
    const summary = wb.getWorksheet('汇总')!;
    expect((summary.getRow(summary.rowCount).values as unknown[]).slice(1)).toEqual(['全院', 42, 3, 3 / 42, 2, 2 / 3]);
  });

  it('16 导出 上报 carries each report’s text and a column per figure, in the configured order', async () => {
    const [file] = (await ask(t, 'S0005', '导出 上报 2026-11', 2)).filter((m) => m.fileUrl);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await (await fetch(`${t.url}${file.fileUrl}`)).arrayBuffer()) as ArrayBuffer);
    const detail = wb.getWorksheet('明细')!;
    expect(detail.getRow(1).values).toEqual([undefined, '科室', '状态', '提交人', '提交时间', '工作进展', '本月自查发现问题数', '已完成整改数', '主动上缴“红包”回扣件数', '开展专题教育次数']);
    const rows = detail.getSheetValues().slice(2).map((r) => (r as unknown[]).slice(1));
    expect(rows).toContainEqual(['心血管内科', '按时提交', '罗晓燕', new Date(Date.UTC(2026, 10, 18, 10, 0)), '本月开展专题学习一次', 3, 2, '', 1]);
    // Its text is 逾期提交 and it has no figures: blank cells, not 0.
    expect(rows.find((r) => r[0] === '药剂科')!.slice(4)).toEqual(['逾期提交', '', '', '', '']);
  });

  it('16 viewReport: leadership and the discipline office read any department’s report, a head only their own', async () => {
    const bot = t.app.bot;
    const staff = async (id: string) => (await bot.repos.staff.getStaff(id))!;
    const nov = { year: 2026, month: 11 };
    const c = await viewReport(bot, await staff('S0041'), '心血管内科', nov);
    expect(typeof c).not.toBe('string');
    const s = JSON.stringify(c);
    for (const part of ['本月开展专题学习一次', '罗晓燕（S0004）', '2026年11月18日 10:00', '本月自查发现问题数', '"3"']) expect(s).toContain(part);
    expect(typeof (await viewReport(bot, await staff('S0005'), '药剂科', nov))).toBe('object');
    expect(typeof (await viewReport(bot, await staff('S0003'), '心血管内科', nov))).toBe('object');
    expect(await viewReport(bot, await staff('S0003'), '药剂科', nov)).toBe('抱歉，科室负责人只能查看本科室（心血管内科）的报告。');
    expect(await viewReport(bot, await staff('S0001'), '心血管内科', nov)).toBe('抱歉，查看科室报告仅限院领导、纪检监察、科室负责人使用。');
    expect(await viewReport(bot, await staff('S0005'), '普外科', nov)).toBe('该科室2026年11月尚未上报。');
    expect(await viewReport(bot, await staff('S0005'), '心血管内科', { year: 2026, month: 10 })).toBe('该科室2026年10月尚未上报。');
    expect(await viewReport(bot, await staff('S0005'), '宇宙科', nov)).toBe('没有名为“宇宙科”的科室，请核对科室名称。');
  });

  it('16 上报 查看 in chat: a leader reads a department by part of its name; plain staff are refused and not shown it in 帮助', async () => {
    const [r] = await ask(t, 'S0041', '上报 查看 心血管 2026-11');
    expect(JSON.stringify(r.card)).toContain('本月开展专题学习一次');
    const [wrong] = await ask(t, 'S0041', '上报 查看 宇宙科');
    expect(wrong.text).toContain('人员名单中没有科室“宇宙科”');
    const [refused] = await ask(t, 'S0001', '上报 查看 心血管内科');
    expect(refused.text).toContain('仅限');
    const [help] = await ask(t, 'S0001', '帮助');
    expect(JSON.stringify(help.card)).not.toContain('上报');
  });
});
