import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDraftReminders } from '../handlers/draft-reminder.js';
import { createLogger } from '../src/logger.js';
import { getDeclaration } from '../src/store/declarations.js';
import { button } from './helpers/cards.js';
import { ask, startTestApp, type TestApp } from './helpers/app.js';

/** 13.5: the logs of a whole declaration's life name the declaration and the action, never who filed it or what. */

const DECLARANT = { staffId: 'S0001', name: '林雨桐' };
const AMOUNT = '8642.5';
const DESCRIPTION = '蓝色丝绒礼盒里的购物卡';

describe('declaration logs (real Redis + PostgreSQL)', () => {
  let t: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    t = await startTestApp({ label: 'decl_logs', logger, settings: { declaration: { maxAmountYuan: 50_000, reminderHours: 48 } } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  async function approve(user: string, id: string): Promise<string | undefined> {
    const all = (await t.inbox(user)).filter((m) => m.kind === 'card' && JSON.stringify(m.card).includes(`"SB-${id}"`) && m.card!.title.includes('待'));
    const m = all[all.length - 1];
    return (await t.click(user, m.id, 'decl.approve', button(m.card!, 'decl.approve').value)).body.toast;
  }

  it('13.5 submit → approve → register, lookups and a refusal log no declarant, amount or description', async () => {
    const [preview] = await ask(t, DECLARANT.staffId, `上缴 购物卡 ${AMOUNT} 医药代表 今天 上缴医院财务 ${DESCRIPTION}`);
    const confirm = button(preview.card!, 'decl.confirm');
    const id = String(confirm.value!.id);
    expect((await t.click(DECLARANT.staffId, preview.id, 'decl.confirm', confirm.value)).body.toast).toBe('已提交。');
    expect(await approve('S0003', id)).toContain('已同意');
    expect(await approve('S0041', id)).toContain('已同意');
    expect(await approve('S0037', id)).toContain('已登记');
    expect((await getDeclaration(t.app.db, id))!.state).toBe('registered');
    await ask(t, DECLARANT.staffId, `申报 SB-${id}`);
    await ask(t, DECLARANT.staffId, '我的申报');
    await ask(t, 'S0041', '申报列表');
    await ask(t, 'S0006', `申报 SB-${id}`);

    // The flow was logged at all: the declaration id and the actions are there.
    const decl = lines.filter((l) => l.includes(`"declarationId":"${id}"`));
    expect(decl.map((l) => JSON.parse(l).action)).toEqual(expect.arrayContaining(['draft', 'submit', 'approve']));
    expect(lines.some((l) => l.includes('"command handled"'))).toBe(true);
    for (const marker of [DECLARANT.staffId, DECLARANT.name, AMOUNT, '8,642.5', DESCRIPTION]) {
      expect(lines.filter((l) => l.includes(marker)), `a log line carries ${marker}`).toEqual([]);
    }
  });

  it('16: the draft reminder logs no declarant, amount or description either', async () => {
    lines.length = 0;
    const [preview] = await ask(t, DECLARANT.staffId, `上缴 购物卡 ${AMOUNT} 医药代表 今天 上缴医院财务 ${DESCRIPTION}`);
    const id = String(button(preview.card!, 'decl.confirm').value!.id);
    const before = (await t.inbox(DECLARANT.staffId)).length;
    expect(await runDraftReminders(t.app.bot, new Date(Date.now() + 86_400_000))).toEqual([id]);
    const [told] = await t.waitForReplies(DECLARANT.staffId, before);
    expect(told.text).toContain(`草稿 SB-${id} 尚未提交`);
    for (const marker of [DECLARANT.staffId, DECLARANT.name, AMOUNT, '8,642.5', DESCRIPTION]) {
      expect(lines.filter((l) => l.includes(marker)), `a log line carries ${marker}`).toEqual([]);
    }
  });
});
