import type { Env } from '../config.js';
import type { ChatPlatform } from './types.js';
import { SandboxPlatform } from './sandbox/adapter.js';

/** Which platforms run: each one whose credentials are set; the sandbox when none are (or when asked). */
export function hasPlatformCredentials(env: Env): boolean {
  return Boolean(env.DINGTALK_CLIENT_ID || env.FEISHU_APP_ID);
}

export function sandboxWanted(env: Env): boolean {
  return env.SANDBOX === 'on' || (env.SANDBOX === 'auto' && !hasPlatformCredentials(env));
}

/**
 * The sandbox has no login: anyone who reaches /sandbox acts as any staff member. In
 * production a missing credential (a typo in .env) must not quietly turn it on, so there it
 * starts only when asked for by name. Returns why start-up is refused, in Chinese, or nothing.
 */
export function sandboxRefusal(env: Env): string | undefined {
  if (env.NODE_ENV !== 'production' || env.SANDBOX !== 'auto' || hasPlatformCredentials(env)) return undefined;
  return (
    '生产环境（NODE_ENV=production）中没有找到任何平台凭据：缺少 DINGTALK_CLIENT_ID 和 DINGTALK_CLIENT_SECRET（钉钉），' +
    '也缺少 FEISHU_APP_ID 和 FEISHU_APP_SECRET（飞书）。请检查 .env 中这些变量的名称和取值。' +
    '沙盒没有登录保护，生产环境中只有明确设置 SANDBOX=on 才会启动。'
  );
}

/** What /healthz and the log say while the sandbox runs in production (SANDBOX=on). */
export const SANDBOX_IN_PRODUCTION = '沙盒已在生产环境中开启（SANDBOX=on）：/sandbox 无需登录即可以任何职工的身份操作，请仅在演示或排查问题时短期开启，用完后删除该设置并重启。';

export interface PlatformFactories {
  dingtalk?: (env: Env) => Promise<ChatPlatform>;
  feishu?: (env: Env) => Promise<ChatPlatform>;
}

export async function selectPlatforms(env: Env, factories: PlatformFactories): Promise<ChatPlatform[]> {
  const out: ChatPlatform[] = [];
  if (env.DINGTALK_CLIENT_ID) {
    if (!factories.dingtalk) throw new Error('DingTalk credentials are set but this build has no DingTalk adapter');
    out.push(await factories.dingtalk(env));
  }
  if (env.FEISHU_APP_ID) {
    if (!factories.feishu) throw new Error('Feishu credentials are set but this build has no Feishu adapter');
    out.push(await factories.feishu(env));
  }
  if (sandboxWanted(env)) out.push(new SandboxPlatform());
  return out;
}
