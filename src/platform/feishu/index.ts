import type { Env } from '../../config.js';
import type { Logger } from '../../logger.js';
import { FeishuPlatform } from './adapter.js';

export { FeishuPlatform } from './adapter.js';

/** The Feishu adapter from FEISHU_APP_ID / FEISHU_APP_SECRET / FEISHU_DOMAIN. */
export async function createFeishuPlatform(env: Env, logger: Logger): Promise<FeishuPlatform> {
  return new FeishuPlatform({
    appId: env.FEISHU_APP_ID ?? '',
    appSecret: env.FEISHU_APP_SECRET ?? '',
    domain: env.FEISHU_DOMAIN,
    logger,
  });
}
