import type { Logger } from '../logger.js';
import type { PlatformFactories } from './select.js';

/**
 * The platform adapters this build has. Each SDK is loaded only when its credentials are
 * configured: the Feishu SDK alone costs ~70 MB of memory, which a DingTalk-only hospital
 * should not pay.
 */
export function platformFactories(logger: Logger): PlatformFactories {
  return {
    dingtalk: async (env) => (await import('./dingtalk/index.js')).createDingTalkPlatform(env, logger),
    feishu: async (env) => (await import('./feishu/index.js')).createFeishuPlatform(env, logger),
  };
}
