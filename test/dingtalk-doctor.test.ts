import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { formatChecklist, type Check } from '../src/doctor/checklist.js';
import { runDingTalkDoctor, type DingTalkDoctorOptions } from '../src/doctor/dingtalk.js';
import { runFeishuDoctor } from '../src/doctor/feishu.js';
import { importRosterFile } from '../src/domain/roster.js';
import { createLogger } from '../src/logger.js';
import { FakeFeishu } from './fakes/feishu/server.js';
import { CLIENT_ID, CLIENT_SECRET, waitFor } from './fakes/dingtalk/harness.js';
import { DEFAULT_SCOPES, FakeDingTalk, type FakeOptions } from './fakes/dingtalk/server.js';
import { freshDb, PG_URL } from './helpers/db.js';

/** `dingtalk doctor` / `feishu doctor` against the fakes: each missing piece is named with where to fix it. */
describe('6 dingtalk doctor', () => {
  let fake: FakeDingTalk | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function doctor(fakeOpts: Partial<FakeOptions>, o: Partial<DingTalkDoctorOptions> = {}): Promise<{ checks: Check[]; text: string }> {
    fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, keepaliveMs: 500, ...fakeOpts });
    const url = await fake.start();
    const checks = await runDingTalkDoctor({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, robotCode: CLIENT_ID, apiBase: url, oapiBase: url, clickWaitMs: 3000, logger: createLogger('silent'), ...o });
    return { checks, text: formatChecklist('钉钉接入检查', checks) };
  }
  const byName = (checks: Check[], name: string) => checks.find((c) => c.name.includes(name))!;

  it('6 passes everything for a well set-up app, and skips the test card without a 工号', async () => {
    const { checks, text } = await doctor({});
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['应用凭证', 'ok'],
      ['机器人发送消息权限 qyapi_robot_sendmsg', 'ok'],
      ['互动卡片实例写权限 Card.Instance.Write', 'ok'],
      ['卡片模板', 'ok'],
      ['Stream 长连接', 'ok'],
      ['测试卡片', 'skip'],
    ]);
    expect(text).toContain('结论：全部通过');
  });

  for (const scope of DEFAULT_SCOPES) {
    it(`6 names the missing permission ${scope} and where to apply for it`, async () => {
      const { checks, text } = await doctor({ permissions: DEFAULT_SCOPES.filter((s) => s !== scope) });
      const failed = checks.filter((c) => c.status === 'fail');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.name).toContain(scope);
      expect(failed[0]!.detail).toContain(scope);
      expect(failed[0]!.fix).toContain('权限管理');
      expect(text).toContain(`✘ ${failed[0]!.name}`);
      expect(text).toContain('结论：有 1 项需要处理');
    });
  }

  it('6 names bad credentials, and stops there', async () => {
    fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const url = await fake.start();
    const checks = await runDingTalkDoctor({ clientId: CLIENT_ID, clientSecret: 'wrong', robotCode: CLIENT_ID, apiBase: url, oapiBase: url, clickWaitMs: 1000, logger: createLogger('silent') });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: '应用凭证', status: 'fail' });
    expect(checks[0]!.fix).toContain('凭证与基础信息');
  });

  it('6 says a configured template is missing or unpublished, and passes it once published', async () => {
    const missing = await doctor({}, { templateId: 'hospital.schema' });
    expect(byName(missing.checks, '卡片模板')).toMatchObject({ status: 'fail' });
    expect(byName(missing.checks, '卡片模板').fix).toContain('DINGTALK_CARD_TEMPLATE_ID');
    await fake!.close();
    fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const url = await fake.start();
    fake.importTemplate('hospital.schema', 'designer', false);
    const unpublished = await runDingTalkDoctor({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, robotCode: CLIENT_ID, apiBase: url, oapiBase: url, templateId: 'hospital.schema', clickWaitMs: 1000, logger: createLogger('silent') });
    expect(byName(unpublished, '卡片模板').status).toBe('fail');
    fake.importTemplate('hospital.schema', 'designer', true);
    const ok = await runDingTalkDoctor({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, robotCode: CLIENT_ID, apiBase: url, oapiBase: url, templateId: 'hospital.schema', clickWaitMs: 1000, logger: createLogger('silent') });
    expect(byName(ok, '卡片模板')).toMatchObject({ status: 'ok' });
  });

  it('6 sends the test card, waits for the click and reports it; no click is a failure with the fix', async () => {
    const clicked = doctor({}, { testUserId: 'dt604924', testUserLabel: '林雨桐（S0001）', clickWaitMs: 8000 });
    const sent = await waitFor('test card', () => fake && [...fake.instances.values()].find((c) => c.space.id === 'dt604924'));
    fake!.click(sent.outTrackId, 'dt604924', fake!.buttonsOf(sent.outTrackId)[0]!.id);
    const { checks } = await clicked;
    expect(byName(checks, '测试卡片')).toMatchObject({ status: 'ok' });
    await waitFor('card says it worked', () => fake!.view(sent.outTrackId).title.includes('成功'));

    await fake!.close();
    const silent = await doctor({}, { testUserId: 'dt604924', testUserLabel: '林雨桐（S0001）', clickWaitMs: 1000 });
    expect(byName(silent.checks, '测试卡片')).toMatchObject({ status: 'fail' });
    expect(byName(silent.checks, '测试卡片').fix).toContain('Stream 模式');
  });
});

describe('6 npm run cli -- dingtalk doctor 工号', () => {
  let db: Awaited<ReturnType<typeof freshDb>>;
  let fake: FakeDingTalk;
  beforeAll(async () => {
    db = await freshDb('pg', 'cli_doctor');
    await importRosterFile(db, 'roster.csv', readFileSync(SAMPLE_ROSTER));
    fake = new FakeDingTalk({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, permissions: ['qyapi_robot_sendmsg'] });
    await fake.start();
  });
  afterAll(async () => {
    await fake?.close();
    await db?.dispose();
  });

  it('6 prints the Chinese checklist naming the missing permission and exits 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'dingtalk', 'doctor', 'S0001', '--wait=2'], {
      env: { ...process.env, DATABASE_URL: PG_URL, DATABASE_SCHEMA: db.schema, CONFIG_FILE: '/nonexistent/qinglian.yaml', LOG_LEVEL: 'silent', DINGTALK_CLIENT_ID: CLIENT_ID, DINGTALK_CLIENT_SECRET: CLIENT_SECRET, DINGTALK_API_BASE: fake.url, DINGTALK_OAPI_BASE: fake.url },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(out).toContain(`钉钉接入检查（Client ID ${CLIENT_ID}）`);
    expect(out).toContain('✘ 互动卡片实例写权限 Card.Instance.Write：未开通');
    expect(out).toContain('测试卡片：缺少卡片权限，无法发送');
    expect(code).toBe(1);
  }, 60_000);
});

describe('6 feishu doctor', () => {
  const APP_ID = 'cli_a1b2c3d4e5f60718';
  let fake: FakeFeishu;
  beforeAll(async () => {
    fake = new FakeFeishu({ appId: APP_ID, appSecret: 'fs-secret', pingInterval: 2, reconnectInterval: 1, reconnectNonce: 0 });
    await fake.start();
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it('6 checks credentials and the long connection, and names bad credentials', async () => {
    const ok = await runFeishuDoctor({ appId: APP_ID, appSecret: 'fs-secret', domain: fake.base, clickWaitMs: 1000 });
    expect(ok.map((c) => [c.name, c.status])).toEqual([
      ['应用凭证与机器人', 'ok'],
      ['长连接', 'ok'],
      ['测试卡片', 'skip'],
    ]);
    const bad = await runFeishuDoctor({ appId: APP_ID, appSecret: 'wrong', domain: fake.base, clickWaitMs: 1000 });
    expect(bad[0]).toMatchObject({ name: '应用凭证与机器人', status: 'fail' });
    expect(bad[0]!.fix).toContain('凭证与基础信息');
  });

  it('6 sends the test card and reports the click', async () => {
    const user = 'ou_9617f0dc71bd20fc4c91750d723fd04e';
    const run = runFeishuDoctor({ appId: APP_ID, appSecret: 'fs-secret', domain: fake.base, testUserId: user, clickWaitMs: 8000 });
    const sent = await waitFor('feishu test card', () => fake.sentTo(user).find((m) => m.history.at(-1)!.includes('连接测试')));
    fake.deliverCardAction({ operatorOpenId: user, messageId: sent.message_id, value: fake.callbackValue(sent.message_id, '我收到了') });
    const checks = await run;
    expect(checks.at(-1)).toMatchObject({ name: '测试卡片', status: 'ok' });
  });
});
