import { actions, button, card, text } from '../../cards/builders.js';
import { PlatformError } from '../errors.js';
import { createLogger } from '../logger.js';
import { FeishuPlatform } from '../platform/feishu/adapter.js';
import type { ActionResult, CardAction, EventSink } from '../platform/types.js';
import type { Check } from './checklist.js';

/**
 * `npm run cli -- feishu doctor [工号]`: the app's credentials and bot, the long connection,
 * and, given a staff id, a test card whose click must come back (which also proves the
 * message-sending permission and the card callback subscription).
 */
export interface FeishuDoctorOptions {
  appId: string;
  appSecret: string;
  domain: string;
  testUserId?: string;
  testUserLabel?: string;
  clickWaitMs: number;
  onTestCardSent?: () => void;
}

const CONSOLE = '飞书开发者后台（open.feishu.cn/app）→ 你的应用';

export async function runFeishuDoctor(o: FeishuDoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  let platform: FeishuPlatform;
  try {
    platform = new FeishuPlatform({ appId: o.appId, appSecret: o.appSecret, domain: o.domain, logger: createLogger('silent'), api: { maxAttempts: 2 } });
  } catch (e) {
    checks.push({ name: '应用凭证', status: 'fail', detail: (e as Error).message, fix: `${CONSOLE} → 凭证与基础信息，复制 App ID 和 App Secret。` });
    return checks;
  }
  try {
    const bot = await platform.api.botInfo();
    checks.push({ name: '应用凭证与机器人', status: 'ok', detail: `凭证有效，机器人已启用（open_id ${bot.openId}）` });
  } catch (e) {
    checks.push({
      name: '应用凭证与机器人',
      status: 'fail',
      detail: e instanceof PlatformError ? `飞书拒绝了请求（${String(e.code)}）：${e.message}` : (e as Error).message,
      fix: `${CONSOLE} → 凭证与基础信息核对 App ID / App Secret；→ 添加应用能力 中启用“机器人”，并发布版本。`,
    });
    return checks;
  }
  const actionsSeen: CardAction[] = [];
  const sink: EventSink = {
    onMessage: async () => {},
    onAction: async (a): Promise<ActionResult> => {
      actionsSeen.push(a);
      return { toast: '已收到，谢谢！', card: card('清廉助手连接测试 · 成功', [text('已收到您的点击，卡片按钮可以正常使用。')], 'green') };
    },
  };
  try {
    try {
      await platform.start(sink);
      checks.push({ name: '长连接', status: 'ok', detail: '已连接' });
    } catch (e) {
      checks.push({ name: '长连接', status: 'fail', detail: (e as Error).message, fix: `${CONSOLE} → 事件与回调：订阅方式选“使用长连接接收事件/回调”。` });
      return checks;
    }
    if (!o.testUserId) {
      checks.push({ name: '测试卡片', status: 'skip', detail: '未指定工号。运行 npm run cli -- feishu doctor 工号，给该同事发一张测试卡片并等待点击' });
      return checks;
    }
    const who = o.testUserLabel ?? o.testUserId;
    try {
      await platform.sendCard(
        { conversation: { type: 'direct', platformUserId: o.testUserId } },
        card('清廉助手连接测试', [text('这是管理员运行的接入检查。请点下面的按钮，确认卡片按钮能正常使用。'), actions(button('我收到了', 'doctor.ok', {}, { style: 'primary' }))], 'blue'),
      );
    } catch (e) {
      checks.push({
        name: '测试卡片',
        status: 'fail',
        detail: `发给 ${who} 失败：${(e as Error).message}`,
        fix: `${CONSOLE} → 权限管理：开通“以应用的身份发消息”（im:message:send_as_bot）；→ 版本管理与发布：可用范围包含 ${who}。`,
      });
      return checks;
    }
    o.onTestCardSent?.();
    const deadline = Date.now() + o.clickWaitMs;
    while (Date.now() < deadline) {
      if (actionsSeen.some((a) => a.actionId === 'doctor.ok')) {
        checks.push({ name: '测试卡片', status: 'ok', detail: `已发给 ${who}，并收到了点击（卡片回调正常）` });
        return checks;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    checks.push({
      name: '测试卡片',
      status: 'fail',
      detail: `已发给 ${who}，但 ${Math.round(o.clickWaitMs / 1000)} 秒内没有收到点击`,
      fix: `${CONSOLE} → 事件与回调 → 回调配置：订阅“卡片回传交互”（card.action.trigger），订阅方式选长连接；检查时请先停止正在运行的清廉助手。`,
    });
    return checks;
  } finally {
    await platform.stop();
  }
}
