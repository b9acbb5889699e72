import type { Env } from '../../config.js';
import type { Logger } from '../../logger.js';
import { DingTalkPlatform } from './adapter.js';

export { DingTalkPlatform } from './adapter.js';

/** The DingTalk adapter from the environment (credentials checked together by loadConfig). */
export async function createDingTalkPlatform(env: Env, logger: Logger): Promise<DingTalkPlatform> {
  if (!env.DINGTALK_CLIENT_ID || !env.DINGTALK_CLIENT_SECRET) throw new Error('DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET must both be set');
  return new DingTalkPlatform({
    clientId: env.DINGTALK_CLIENT_ID,
    clientSecret: env.DINGTALK_CLIENT_SECRET,
    robotCode: env.DINGTALK_ROBOT_CODE ?? env.DINGTALK_CLIENT_ID,
    apiBase: env.DINGTALK_API_BASE,
    oapiBase: env.DINGTALK_OAPI_BASE,
    logger,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    ...(env.DINGTALK_CARD_TEMPLATE_ID ? { cardTemplateId: env.DINGTALK_CARD_TEMPLATE_ID } : {}),
  });
}
