import { randomUUID } from 'node:crypto';
import { TOPIC_CARD, type DWClientDownStream } from 'dingtalk-stream';
import { actions, button, card, text } from '../../cards/builders.js';
import { PUBLIC_AI_CARD_TEMPLATE, renderDingTalkCard, restoredPrivateParams } from '../../cards/dingtalk.js';
import { PlatformError } from '../errors.js';
import type { Logger } from '../logger.js';
import { cardAckResponse, parseCardCallback } from '../platform/dingtalk/card-callback.js';
import { CardInstances } from '../platform/dingtalk/card-instances.js';
import { forgetGatewayRedirect, redirectGateway } from '../platform/dingtalk/gateway-redirect.js';
import { DingTalkApiError, DingTalkOpenApi } from '../platform/dingtalk/openapi.js';
import { StreamSupervisor } from '../platform/dingtalk/stream.js';
import type { Check } from './checklist.js';

/**
 * `npm run cli -- dingtalk doctor [工号]`: checks, in the order a hospital sets things up,
 * everything the bot needs from its DingTalk app, and says where to fix what fails.
 * Permissions are probed with calls that cannot change anything (bad arguments on purpose):
 * DingTalk checks the permission first, so a 403 names the missing scope (requiredScopes)
 * and any other answer means the permission is there.
 */
export interface DingTalkDoctorOptions {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  apiBase: string;
  oapiBase: string;
  templateId?: string;
  /** The DingTalk user id of the staff member who gets the test card; no test card without it. */
  testUserId?: string;
  testUserLabel?: string;
  /** How long to wait for the test card's click. */
  clickWaitMs: number;
  logger: Logger;
  /** Told when the test card is out, so the person can be asked to click (the CLI prints it). */
  onTestCardSent?: () => void;
}

const CONSOLE = '钉钉开发者后台（open-dev.dingtalk.com）→ 应用开发 → 你的应用';

const PERMISSIONS: { scope: string; name: string; probe: (api: DingTalkOpenApi, robotCode: string) => Promise<unknown> }[] = [
  {
    scope: 'qyapi_robot_sendmsg',
    name: '机器人发送消息权限',
    // https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches (no recipient: refused as bad arguments)
    probe: (api, robotCode) => api.call('POST', '/v1.0/robot/oToMessages/batchSend', { robotCode, userIds: [], msgKey: 'sampleText', msgParam: '{"content":"-"}' }),
  },
  {
    scope: 'Card.Instance.Write',
    name: '互动卡片实例写权限',
    // https://open.dingtalk.com/document/orgapp/interactive-card-update-interface (a card that does not exist)
    probe: (api) => api.call('PUT', '/v1.0/card/instances', { outTrackId: `qinglian_doctor_${randomUUID().slice(0, 8)}`, cardData: { cardParamMap: {} } }),
  },
];

export async function runDingTalkDoctor(o: DingTalkDoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const api = new DingTalkOpenApi({ clientId: o.clientId, clientSecret: o.clientSecret, apiBase: o.apiBase, oapiBase: o.oapiBase, logger: o.logger, maxAttempts: 2, retryBaseMs: 200 });

  // 1. Credentials.
  try {
    await api.tokens.get();
    checks.push({ name: '应用凭证', status: 'ok', detail: `Client ID ${o.clientId} 有效` });
  } catch (e) {
    const refused = e instanceof PlatformError && !e.retryable;
    checks.push({
      name: '应用凭证',
      status: 'fail',
      detail: refused ? `钉钉拒绝了 Client ID / Client Secret（${String((e as PlatformError).code)}）` : `无法连接 ${o.apiBase}：${(e as Error).message}`,
      fix: refused ? `${CONSOLE} → 凭证与基础信息，复制 Client ID 和 Client Secret 到 DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET。` : '请检查服务器能否访问 api.dingtalk.com（防火墙、代理）。',
    });
    return checks;
  }

  // 2. Each permission, named by the platform's own answer.
  let canCard = true;
  for (const p of PERMISSIONS) {
    const missing = await missingScopes(() => p.probe(api, o.robotCode));
    if (missing === undefined) checks.push({ name: `${p.name} ${p.scope}`, status: 'ok', detail: '已开通' });
    else {
      if (p.scope === 'Card.Instance.Write') canCard = false;
      const scopes = missing.length ? missing.join('、') : p.scope;
      checks.push({
        name: `${p.name} ${p.scope}`,
        status: 'fail',
        detail: `未开通（钉钉要求的权限：${scopes}）`,
        fix: `${CONSOLE} → 开发配置 → 权限管理，搜索“${scopes}”并点“申请权限”，然后在“版本管理与发布”中发布新版本。${p.scope === 'Card.Instance.Write' ? '开通前卡片会以普通消息发送，按钮改为点链接或回复代码。' : ''}`,
      });
    }
  }

  // 3. The card template.
  const templateId = o.templateId ?? PUBLIC_AI_CARD_TEMPLATE;
  if (!canCard) checks.push({ name: '卡片模板', status: 'skip', detail: '缺少卡片权限，无法检查' });
  else {
    const r = await templateCheck(api, templateId);
    if (r === 'ok') {
      checks.push({ name: '卡片模板', status: 'ok', detail: o.templateId ? `模板 ${o.templateId} 已发布，表单可在卡片中填写` : '使用钉钉公共卡片模板（表单在对话中逐项填写）；如需在卡片中填写表单，请导入随附模板并设置 DINGTALK_CARD_TEMPLATE_ID' });
    } else {
      checks.push({
        name: '卡片模板',
        status: 'fail',
        detail: `模板 ${templateId} 不存在或未发布（${r}）`,
        fix: o.templateId
          ? '钉钉卡片平台（card.dingtalk.com）→ 我的模板：确认模板已“发布”，并把模板 ID 原样填入 DINGTALK_CARD_TEMPLATE_ID；或按 README“钉钉接入”导入 config/dingtalk/qinglian-card-template.json。'
          : '钉钉公共卡片模板不可用：请按 README“钉钉接入”导入 config/dingtalk/qinglian-card-template.json 并设置 DINGTALK_CARD_TEMPLATE_ID。',
      });
    }
  }

  // 4. The stream connection, and 5. a test card whose click must come back on it.
  redirectGateway(o.clientId, o.apiBase, o.oapiBase);
  const clicks: { outTrackId: string; userId: string }[] = [];
  const stream = new StreamSupervisor({
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    logger: o.logger,
    silenceMs: 60_000,
    onCallback: (frame: DWClientDownStream) => {
      if (frame.headers.topic !== TOPIC_CARD) return;
      try {
        const c = parseCardCallback(JSON.parse(frame.data));
        if (c) clicks.push({ outTrackId: c.outTrackId, userId: c.userId });
      } catch {
        /* not a card click */
      }
    },
    ackFor: (frame) => (frame.headers.topic === TOPIC_CARD ? cardAckResponse() : {}),
  });
  try {
    try {
      await stream.start();
      checks.push({ name: 'Stream 长连接', status: 'ok', detail: '已连接，并订阅了机器人消息和卡片回调' });
    } catch (e) {
      checks.push({
        name: 'Stream 长连接',
        status: 'fail',
        detail: `无法连接：${(e as Error).message}`,
        fix: `${CONSOLE} → 添加应用能力 → 机器人：消息接收模式选“Stream 模式”，并发布应用。`,
      });
      return checks;
    }
    if (!o.testUserId) {
      checks.push({ name: '测试卡片', status: 'skip', detail: '未指定工号。运行 npm run cli -- dingtalk doctor 工号，给该同事发一张测试卡片并等待点击' });
      return checks;
    }
    if (!canCard) {
      checks.push({ name: '测试卡片', status: 'skip', detail: '缺少卡片权限，无法发送' });
      return checks;
    }
    checks.push(await testCard(api, o, templateId, clicks));
    return checks;
  } finally {
    await stream.stop();
    forgetGatewayRedirect(o.clientId);
  }
}

/** undefined: the call got past the permission check; else the scopes DingTalk says are missing. */
async function missingScopes(call: () => Promise<unknown>): Promise<string[] | undefined> {
  try {
    await call();
    return undefined;
  } catch (e) {
    if (e instanceof PlatformError && /AccessTokenPermissionDenied|NoPermission/i.test(String(e.code))) return e instanceof DingTalkApiError ? e.requiredScopes : [];
    return undefined;
  }
}

/** Creates an undelivered card instance from the template: https://open.dingtalk.com/document/orgapp/interface-for-creating-a-card-instance */
async function templateCheck(api: DingTalkOpenApi, templateId: string): Promise<'ok' | string> {
  try {
    await api.call('POST', '/v1.0/card/instances', {
      cardTemplateId: templateId,
      outTrackId: `qinglian_doctor_${randomUUID().replace(/-/g, '')}`,
      callbackType: 'STREAM',
      cardData: { cardParamMap: { title: '清廉助手模板检查' } },
    });
    return 'ok';
  } catch (e) {
    return e instanceof PlatformError ? String(e.code) : (e as Error).message;
  }
}

async function testCard(api: DingTalkOpenApi, o: DingTalkDoctorOptions, templateId: string, clicks: { outTrackId: string; userId: string }[]): Promise<Check> {
  const who = o.testUserLabel ?? o.testUserId!;
  const outTrackId = `qinglian_doctor_${randomUUID().replace(/-/g, '')}`;
  const rendered = renderDingTalkCard(
    card('清廉助手连接测试', [text('这是管理员运行的接入检查。请点下面的按钮，确认卡片按钮能正常使用。'), actions(button('我收到了', 'doctor.ok', {}, { style: 'primary' }))], 'blue'),
    o.templateId ? 'hospital' : 'ai',
  );
  const instances = new CardInstances(api, o.robotCode);
  const to = { type: 'direct' as const, platformUserId: o.testUserId! };
  try {
    await instances.deliver(outTrackId, to, templateId, rendered.params);
  } catch (e) {
    return {
      name: '测试卡片',
      status: 'fail',
      detail: `发给 ${who} 失败：${(e as Error).message}`,
      fix: `${CONSOLE} → 版本管理与发布：确认应用的“可见范围”包含 ${who}，且 ${who} 的钉钉 userId 与人员名单一致。`,
    };
  }
  o.onTestCardSent?.();
  const deadline = Date.now() + o.clickWaitMs;
  while (Date.now() < deadline) {
    const click = clicks.find((c) => c.outTrackId === outTrackId);
    if (click) {
      const done = renderDingTalkCard(card('清廉助手连接测试 · 成功', [text('已收到您的点击，卡片按钮可以正常使用。谢谢！')], 'green'), o.templateId ? 'hospital' : 'ai');
      await instances.update(outTrackId, done.params, { userId: click.userId, params: restoredPrivateParams(done.params) }).catch(() => {});
      return { name: '测试卡片', status: 'ok', detail: `已发给 ${who}，并收到了点击（卡片回调正常）` };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name: '测试卡片',
    status: 'fail',
    detail: `已发给 ${who}，但 ${Math.round(o.clickWaitMs / 1000)} 秒内没有收到点击`,
    fix: `请确认 ${who} 已点击“我收到了”；检查时请先停止正在运行的清廉助手（同一应用的其他连接可能收走点击）；并在 ${CONSOLE} → 添加应用能力 → 机器人中确认已选“Stream 模式”。`,
  };
}
