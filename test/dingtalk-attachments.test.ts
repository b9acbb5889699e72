import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTooLargeError, PlatformError } from '../src/errors.js';
import { getDeclaration } from '../src/store/declarations.js';
import { startDingTalkApp, waitFor, type DingTalkHarness } from './fakes/dingtalk/harness.js';

// S0004 = dt607302 in examples/roster.csv.
const USER = 'dt607302';

/**
 * Photos on a declaration over DingTalk: the picture message's downloadCode is exchanged through
 * POST /v1.0/robot/messageFiles/download for a short-lived URL, the bytes are copied into the
 * database, and 查看附件 sends the copy back as a file message.
 */
describe('declaration attachments over DingTalk (dingtalk-stream against the fake; real Redis + PostgreSQL)', () => {
  let h: DingTalkHarness;
  beforeAll(async () => {
    h = await startDingTalkApp('dingtalk_attach');
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const cardTo = (title: string) => [...h.fake.cardsTo(USER)].reverse().find((c) => h.fake.view(c.outTrackId).title.includes(title));
  const textsTo = () => h.fake.oto.filter((m) => m.userIds.includes(USER) && m.msgKey === 'sampleText').map((m) => String(m.msgParam.content));
  const buttonId = (outTrackId: string, label: string) => h.fake.buttonsOf(outTrackId).find((b) => b.label.startsWith(label))!.id;

  it('copies the picture, refuses an expired code with nothing added, and sends the copy back on 查看附件', async () => {
    h.fake.userSays({ staffId: USER, text: '上缴 礼金 500 患者家属 2026-11-20 存入住院账户 出院时家属塞在病历夹里' });
    const preview = await waitFor('preview card', () => cardTo('请核对'));
    h.fake.click(preview.outTrackId, USER, buttonId(preview.outTrackId, '添加照片或文件'));
    await waitFor('attach dialogue', () => h.t.app.bot.dialogueStore.get('S0004'));

    const photo = randomBytes(4096);
    h.fake.userSays({ staffId: USER, text: '', picture: { downloadCode: 'dl_photo_0001' }, data: { bytes: photo, mime: 'image/jpeg' } });
    await waitFor('added', () => textsTo().find((t) => t.includes('已添加 1 个，共 1 个')));

    // A code the platform no longer honours: the user is told, and nothing is added.
    h.fake.userSays({ staffId: USER, text: '', picture: { downloadCode: 'dl_photo_0002' }, data: { bytes: randomBytes(10), mime: 'image/jpeg', codeTtlMs: -1 } });
    expect(await waitFor('refused', () => textsTo().find((t) => t.includes('暂时无法从钉钉取回')))).toMatch(/^暂时无法从钉钉取回“图片”，没有添加。请稍后重新发送。/);

    // Larger than the 20 MB kept per file: refused with the reason, nothing added.
    h.fake.userSays({ staffId: USER, text: '', picture: { downloadCode: 'dl_photo_0003' }, data: { bytes: Buffer.alloc(20 * 1024 * 1024 + 1), mime: 'image/jpeg' } });
    expect(await waitFor('too large', () => textsTo().find((t) => t.includes('超过 20 MB')))).toMatch(/^“图片”超过 20 MB，没有添加。请压缩或分开拍照后重新发送。/);

    h.fake.userSays({ staffId: USER, text: '完成' });
    const done = await waitFor('preview with the photo', () => {
      const c = cardTo('请核对');
      return c && c.outTrackId !== preview.outTrackId && h.fake.buttonsOf(c.outTrackId).some((b) => b.label.startsWith('查看附件')) ? c : undefined;
    });
    const id = String(/SB-(\d+)/.exec(h.fake.view(done.outTrackId).title)![1]);
    const d = (await getDeclaration(h.t.app.db, id))!;
    expect(d.attachments.map((a) => [a.platform, a.size, a.sha256])).toEqual([['dingtalk', photo.length, createHash('sha256').update(photo).digest('hex')]]);
    expect(h.fake.received.filter((r) => r.path === '/v1.0/robot/messageFiles/download').map((r) => (r.body as { robotCode: string }).robotCode)).toEqual([
      h.adapter.robotCode,
      h.adapter.robotCode,
      h.adapter.robotCode,
    ]);

    // The declarant may see their own evidence: the copy comes back as a file message.
    h.fake.click(done.outTrackId, USER, buttonId(done.outTrackId, '查看附件'));
    const sent = await waitFor('file message', () => h.fake.oto.find((m) => m.userIds.includes(USER) && m.msgKey === 'sampleFile'));
    expect(sent.msgParam).toMatchObject({ fileName: '图片', fileType: 'bin' });
    expect(h.fake.media.get(String(sent.msgParam.mediaId))).toMatchObject({ type: 'file', size: photo.length });
  });

  it('stops reading a file beyond the limit and says so; an unknown code is not retried', async () => {
    h.fake.userSays({ staffId: 'dt604924', text: '', file: { downloadCode: 'dl_big_0001', fileName: '大文件.pdf' }, data: { bytes: randomBytes(2048), mime: 'application/pdf' } });
    await expect(h.t.app.bot.fetchFile('dingtalk:dl_big_0001', 1024)).rejects.toBeInstanceOf(FileTooLargeError);
    const before = h.fake.received.filter((r) => r.path === '/v1.0/robot/messageFiles/download').length;
    const err = (await h.t.app.bot.fetchFile('dingtalk:no_such_code', 1024).catch((e: unknown) => e)) as PlatformError;
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe('invalidParameter.downloadCode');
    expect(h.fake.received.filter((r) => r.path === '/v1.0/robot/messageFiles/download').length - before).toBe(1);
  });
});
