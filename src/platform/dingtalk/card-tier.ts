import { PlatformError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { DingTalkApiError } from './openapi.js';

/**
 * Which way DingTalk cards go out, decided here and nowhere else:
 *  - `hospital`: the hospital's own template (DINGTALK_CARD_TEMPLATE_ID), forms in the card;
 *  - `ai`: DingTalk's public AI-card template, nothing to set up, forms by dialogue;
 *  - `markdown`: a sampleMarkdown robot message, buttons as dtmd links (1:1) or typed codes
 *    (groups), when the app lacks Card.Instance.Write or no template can be used.
 * A refusal moves one way only, down, is logged once, and is what /healthz warns about.
 */
export type CardTier = 'hospital' | 'ai' | 'markdown';

export const CARD_SCOPE = 'Card.Instance.Write';

export type CardRefusal = { kind: 'permission'; scopes: string[] } | { kind: 'template'; templateId: string };

export class CardTiers {
  private tier: CardTier;
  private warning?: string;

  constructor(
    readonly hospitalTemplateId: string | undefined,
    private log: Logger,
  ) {
    this.tier = hospitalTemplateId ? 'hospital' : 'ai';
  }

  current(): CardTier {
    return this.tier;
  }

  /** Why cards are not sent the best way configured, in Chinese; undefined when they are. */
  warningText(): string | undefined {
    return this.warning;
  }

  /** What a failed card send means for the tier; undefined when it is an ordinary failure. */
  static refusalOf(e: unknown, templateId: string): CardRefusal | undefined {
    if (!(e instanceof PlatformError)) return undefined;
    const code = String(e.code ?? '');
    if (/Forbidden\.AccessDenied\.AccessTokenPermissionDenied|NoPermission/i.test(code)) {
      const scopes = e instanceof DingTalkApiError && e.requiredScopes.length ? e.requiredScopes : [CARD_SCOPE];
      return { kind: 'permission', scopes };
    }
    if (/templateNotExist|template\.?isNotExist|templateNotFound/i.test(code)) return { kind: 'template', templateId };
    return undefined;
  }

  refuse(r: CardRefusal): void {
    const from = this.tier;
    if (from === 'markdown') return;
    if (r.kind === 'permission') {
      this.tier = 'markdown';
      this.warning = `卡片暂以普通消息发送：应用缺少权限 ${r.scopes.join('、')}（互动卡片实例写权限）。请在钉钉开发者后台 → 应用 → 开发配置 → 权限管理 中申请该权限，发布新版本后重启清廉助手。`;
      this.log.error({ requiredScopes: r.scopes }, 'DingTalk refused card instances for want of permission: cards go as markdown messages until the permission is granted and the bot restarted');
      return;
    }
    if (from === 'hospital') {
      this.tier = 'ai';
      this.warning = `卡片模板 ${r.templateId} 不存在或未发布，已改用钉钉公共卡片模板（表单改为在对话中逐项填写）。请在钉钉卡片平台发布该模板，或核对 DINGTALK_CARD_TEMPLATE_ID。`;
      this.log.error({ templateId: r.templateId }, 'DingTalk card template not found or not published: falling back to the public AI-card template');
      return;
    }
    this.tier = 'markdown';
    this.warning = `钉钉公共卡片模板不可用，卡片暂以普通消息发送。请在钉钉卡片平台导入随附的卡片模板并设置 DINGTALK_CARD_TEMPLATE_ID。`;
    this.log.error({ templateId: r.templateId }, 'DingTalk public card template not available: cards go as markdown messages');
  }
}
