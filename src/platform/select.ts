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
