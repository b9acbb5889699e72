import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardElement } from '../cards/model.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

type TableElement = Extract<CardElement, { type: 'table' }>;

describe('处理记录 order on the declaration card and in its export', () => {
  let t: TestApp;
  let id: string;
  beforeAll(async () => {
    t = await startTestApp({ label: 'audit_trail_order' });
    const [preview] = await ask(t, 'S0001', '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里');
    const confirm = button(preview.card!, 'decl.confirm');
    id = String(confirm.value!.id);
    expect((await t.click('S0001', preview.id, 'decl.confirm', confirm.value)).body.toast).toBe('已提交。');
    const [pending] = (await t.inbox('S0003')).filter((m) => m.kind === 'card' && JSON.stringify(m.card).includes(`"SB-${id}"`)).slice(-1);
    const approve = button(pending.card!, 'decl.approve');
    await t.click('S0003', pending.id, 'decl.approve', approve.value);
    // Two drafting rows written after the decision but timed between drafting and submitting,
    // with one timestamp between them (rows of one transaction share it).
    await t.app.db.query(
      `WITH d AS (SELECT at FROM audit_log WHERE entity_id = $1 AND action = 'declaration.draft'),
            s AS (SELECT at FROM audit_log WHERE entity_id = $1 AND action = 'declaration.submit')
       INSERT INTO audit_log (at, actor, action, entity_type, entity_id, from_state, to_state)
       SELECT d.at + (s.at - d.at) / 2, 'S0001', x.action, 'declaration', $1, 'draft', 'draft'
       FROM d, s, (VALUES (1, 'declaration.edit'), (2, 'declaration.attach')) AS x(n, action) ORDER BY x.n`,
      [id],
    );
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const inOrder = ['填写草稿', '修改草稿', '添加照片或文件', '提交申报', '同意'];

  it('13.16 lists the card’s 处理记录 by time, then by sequence', async () => {
    const [shown] = await ask(t, 'S0001', `申报 SB-${id}`);
    const trail = shown.card!.elements.find((e): e is TableElement => e.type === 'table' && e.columns.includes('操作'))!;
    expect(trail.rows.map((r) => r[trail.columns.indexOf('操作')])).toEqual(inOrder);
  });

  it('13.16 writes the export’s 处理记录 sheet in the same order', async () => {
    const [reply] = await ask(t, 'S0040', '导出申报', 2);
    const file = [reply].concat(await t.inbox('S0040')).find((m) => m.fileUrl)!;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await (await fetch(`${t.url}${file.fileUrl}`)).arrayBuffer()) as never);
    const rows = (wb.getWorksheet('处理记录')!.getSheetValues().slice(2) as unknown[][]).map((r) => r.slice(1));
    expect(rows.filter((r) => r[0] === `SB-${id}`).map((r) => r[4])).toEqual(inOrder);
  });
});
