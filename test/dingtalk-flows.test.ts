import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefaultBank } from '../src/domain/quiz/bank.js';
import { toShown } from '../src/domain/quiz/draw.js';
import { activeAttemptOf, questionVersions } from '../src/store/quiz.js';
import { getDeclaration } from '../src/store/declarations.js';
import { auditTrail } from '../src/store/audit.js';
import type { FakeDingTalk } from './fakes/dingtalk/server.js';
import { cardIds, clickLabel, freshCard, newestCard, startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';

/**
 * Whole flows by clicks on DingTalk cards (public AI-card template, the zero-set-up default):
 * the real dingtalk-stream client against the strict fake, real Redis and PostgreSQL.
 * Staff (examples/roster.csv): S0001 dt604924, S0003 dt745280 (head of 心血管内科),
 * S0037 dt326712 (finance), S0040 dt295805 / S0041 dt916272 / S0042 dt682650 (discipline).
 */
const U = { S0001: 'dt604924', S0003: 'dt745280', S0007: 'dt100756', S0037: 'dt326712', S0040: 'dt295805', S0041: 'dt916272', S0042: 'dt682650' };

const bank = loadDefaultBank();
const firstOf = (type: string) => bank.find((q) => q.type === type)!.id;

const textsTo = (fake: FakeDingTalk, userId: string) => fake.oto.filter((m) => m.userIds.includes(userId) && m.msgKey === 'sampleText').map((m) => String(m.msgParam.content));

/** Waits until a click's new card is in place (the ack took the clicker's buttons; the update returns them). */
const settled = (fake: FakeDingTalk, outTrackId: string, before: number) => waitFor('card updated', () => fake.instances.get(outTrackId)!.updates > before);

describe('DingTalk flows by click (public template)', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_flows', {}, {}, {
      now: () => new Date('2026-11-25T02:00:00Z'),
      settings: { quiz: { exams: [{ id: 'nov', title: '十一月廉洁从业考试', questions: [firstOf('multiple'), firstOf('single'), firstOf('judge')], opensOn: '2026-11-01', dueOn: '2026-11-30' }] } },
    });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('3 records the month’s study by a click on 我已学习', async () => {
    h.fake.userSays({ staffId: U.S0007, text: '学习' });
    const task = await waitFor('study card', () => newestCard(h.fake, U.S0007, '学习'));
    clickLabel(h.fake, task.id, U.S0007, '我已学习');
    const toast = await waitFor('toast', () => textsTo(h.fake, U.S0007).find((t) => t.startsWith('已记录：您已完成')));
    expect(toast).toMatch(/^已记录：您已完成\d{4}年\d{1,2}月的学习，谢谢！$/);
    expect(h.fake.cardAcks.filter((a) => a.outTrackId === task.id).every((a) => !a.late)).toBe(true);
  });

  it('3 runs a whole exam by clicks, a multiple-choice question included', async () => {
    h.fake.userSays({ staffId: U.S0001, text: '考试 nov' });
    for (let i = 0; i < 3; i++) {
      const q = await waitFor(`question ${i + 1}`, () => newestCard(h.fake, U.S0001, `第 ${i + 1}/3 题`));
      const attempt = (await activeAttemptOf(h.t.app.db, 'S0001'))!;
      const item = attempt.items[i]!;
      const [question] = await questionVersions(h.t.app.db, [{ id: item.questionId, version: item.questionVersion }]);
      const right = toShown(item.optionOrder, question!.answer);
      const buttons = h.fake.buttonsOf(q.id, U.S0001);
      if (question!.type === 'multiple') {
        // Tick each right option (the card changes in place each time), then submit.
        for (const shown of right) {
          const before = h.fake.instances.get(q.id)!.updates;
          h.fake.click(q.id, U.S0001, h.fake.buttonsOf(q.id, U.S0001)[shown]!.id);
          await settled(h.fake, q.id, before);
        }
        expect(h.fake.buttonsOf(q.id, U.S0001).filter((b) => b.label.startsWith('☑'))).toHaveLength(right.length);
        clickLabel(h.fake, q.id, U.S0001, '提交答案');
      } else {
        h.fake.click(q.id, U.S0001, buttons[right[0]!]!.id);
      }
      await waitFor(`question ${i + 1} answered in place`, () => h.fake.view(q.id).title.includes('回答正确'));
      expect(h.fake.buttonsOf(q.id)).toEqual([]);
    }
    const score = await waitFor('score card', () => newestCard(h.fake, U.S0001, '100 分'));
    expect(score.title).toContain('通过');
    expect(h.fake.putsInsideCallback).toEqual([]);
  });

  it('3 takes a declaration through head, discipline (two members at once, one decision) and finance by clicks', async () => {
    // S0040's card is still on its way when the others decide: it must arrive decided, not live.
    const toS0040 = (b: unknown) => JSON.stringify(b).includes(`IM_ROBOT.${U.S0040}`) && JSON.stringify(b).includes('待审核');
    h.fake.slowWhen('/v1.0/card/instances/createAndDeliver', toS0040, 1500);
    h.fake.userSays({ staffId: U.S0001, text: '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里' });
    const preview = await waitFor('preview', () => newestCard(h.fake, U.S0001, '请核对'));
    const id = /SB-(\d+)/.exec(preview.title)![1]!;
    clickLabel(h.fake, preview.id, U.S0001, '确认提交');
    await waitFor('submitted', async () => (await getDeclaration(h.t.app.db, id))!.state === 'pending_dept');

    const head = await waitFor('head card', () => newestCard(h.fake, U.S0003, `SB-${id}`, '待审核'));
    clickLabel(h.fake, head.id, U.S0003, '同意');
    await waitFor('discipline step', async () => (await getDeclaration(h.t.app.db, id))!.state === 'pending_discipline');
    await waitFor('head card updated in place', () => h.fake.view(head.id).title.includes('已同意'));

    const [c41, c42] = await Promise.all([
      waitFor('S0041 card', () => newestCard(h.fake, U.S0041, `SB-${id}`, '待审核')),
      waitFor('S0042 card', () => newestCard(h.fake, U.S0042, `SB-${id}`, '待审核')),
    ]);
    // Both click 同意 at the same instant.
    clickLabel(h.fake, c41.id, U.S0041, '同意');
    clickLabel(h.fake, c42.id, U.S0042, '同意');
    await waitFor('finance step', async () => (await getDeclaration(h.t.app.db, id))!.state === 'pending_finance');
    const trail = await auditTrail(h.t.app.db, 'declaration', id);
    expect(trail.filter((r) => r.from_state === 'pending_discipline')).toHaveLength(1);
    const winner = trail.at(-1)!.actor === 'S0041' ? '白晓琳' : '熊文杰';
    const loser = trail.at(-1)!.actor === 'S0041' ? U.S0042 : U.S0041;
    await waitFor('loser told', () => textsTo(h.fake, loser).find((t) => t.includes('已由他人处理')));
    // Every discipline member's card shows who decided, without buttons.
    for (const u of [U.S0040, U.S0041, U.S0042]) {
      const c = await waitFor(`decided card for ${u}`, () => newestCard(h.fake, u, `SB-${id}`, '已同意'));
      expect(c.content).toContain(`已由 ${winner}`);
      expect(h.fake.buttonsOf(c.id, u)).toEqual([]);
    }

    const fin = await waitFor('finance card', () => newestCard(h.fake, U.S0037, `SB-${id}`, '待确认收款'));
    clickLabel(h.fake, fin.id, U.S0037, '确认已收款');
    const d = await waitFor('registered', async () => {
      const x = (await getDeclaration(h.t.app.db, id))!;
      return x.state === 'registered' ? x : undefined;
    });
    expect(d.receiptNo).toMatch(/^HB-\d{4}-\d{6}$/);
    const told = () => [...textsTo(h.fake, U.S0001), ...h.fake.cardsTo(U.S0001).map((c) => `${h.fake.view(c.outTrackId).title} ${h.fake.view(c.outTrackId).content}`)];
    await waitFor('receipt told', () => told().find((t) => t.includes(d.receiptNo!)), 5000).catch(() => {
      throw new Error(`declarant was told: ${told().join(' | ')}`);
    });
  });

  it('2 rejects with the reason typed in the dialogue the public template falls back to', async () => {
    const before = cardIds(h.fake, U.S0001);
    h.fake.userSays({ staffId: U.S0001, text: '上缴 礼品 200 患者 2026-11-24 事后退还 一篮水果' });
    const preview = await waitFor('new preview', () => freshCard(h.fake, U.S0001, before, '请核对'));
    const id = /SB-(\d+)/.exec(preview.title)![1]!;
    clickLabel(h.fake, preview.id, U.S0001, '确认提交');
    const head = await waitFor('head card', () => newestCard(h.fake, U.S0003, `SB-${id}`, '待审核'));
    clickLabel(h.fake, head.id, U.S0003, '逐项填写并驳回');
    await waitFor('reason asked', () => textsTo(h.fake, U.S0003).find((t) => t.includes('驳回理由')));
    h.fake.userSays({ staffId: U.S0003, text: '请补充退还的时间和方式' });
    await waitFor('rejected', async () => (await getDeclaration(h.t.app.db, id))!.state === 'rejected');
  });
});
