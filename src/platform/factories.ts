import type { Logger } from '../logger.js';
import { createDingTalkPlatform } from './dingtalk/index.js';
import { createFeishuPlatform } from './feishu/index.js';
import type { PlatformFactories } from './select.js';

/** The platform adapters this build has; each is added by its own module. */
export function platformFactories(_logger: Logger): PlatformFactories {
  return {
    dingtalk: (env) => createDingTalkPlatform(env, _logger),
    feishu: (env) => createFeishuPlatform(env, _logger),
  };
}
