/**
 * The fake's card-instance side: a template registry, card instances created by
 * createAndDeliver and changed by PUT /v1.0/card/instances, with the field checks the real
 * API makes. Kept apart from server.ts so the HTTP/stream plumbing stays readable.
 *
 * Pages (open.dingtalk.com):
 *  - 创建并投放卡片 createAndDeliver: /document/orgapp/create-and-deliver-cards
 *  - 更新卡片 PUT /v1.0/card/instances: /document/orgapp/interactive-card-update-interface
 *  - 卡片回调 (STREAM): /document/orgapp/instructions-for-filling-in-api-card-callback
 *  - 公共 AI 卡片模板 as used by open-dingtalk/dingtalk-stream-sdk-python card_instance.py
 */

export const PUBLIC_AI_TEMPLATE = '382e4302-551d-4880-bf29-a30acfab2e71.schema';

/** How the fake reads a template's variables back into title, body, buttons and form. */
export type TemplateKind = 'ai' | 'designer';
export interface TemplateInfo {
  id: string;
  kind: TemplateKind;
  published: boolean;
}

export interface FakeFormField {
  name: string;
  label: string;
  type: 'TEXT' | 'TEXT_AREA' | 'NUMBER' | 'SELECT' | 'DATE';
  required?: boolean;
  options?: { value: string; text: string }[];
  defaultValue?: unknown;
}

export interface CardInstance {
  outTrackId: string;
  templateId: string;
  kind: TemplateKind;
  callbackType?: 'STREAM' | 'HTTP';
  /** The client id (app) whose token created it: clicks go back to that app only. */
  createdBy: string;
  space: { type: 'IM_ROBOT' | 'IM_GROUP'; id: string };
  cardParamMap: Record<string, string>;
  /** Per-user overrides (userPrivateData), as each user sees the card. */
  privateData: Record<string, Record<string, string>>;
  updates: number;
  createRequests: number;
}

export interface CardButton {
  id: string;
  label: string;
  request: boolean;
}

export interface CardView {
  title: string;
  content: string;
  buttons: CardButton[];
  form?: { fields: FakeFormField[]; submitText: string };
}

/** Reads a card as `userId` sees it (their private data over the shared data). */
export function viewOf(inst: CardInstance, userId?: string): CardView {
  const p = { ...inst.cardParamMap, ...(userId ? (inst.privateData[userId] ?? {}) : {}) };
  if (inst.kind === 'ai') {
    const sys = parse(p.sys_full_json_obj) as { msgButtons?: { text?: string; id?: string; request?: boolean }[] } | undefined;
    return {
      title: p.msgTitle ?? '',
      content: p.msgContent ?? '',
      buttons: (sys?.msgButtons ?? []).map((b) => ({ id: String(b.id ?? ''), label: String(b.text ?? ''), request: b.request === true })),
    };
  }
  const buttons = (parse(p.buttons) as { text?: string; id?: string; request?: boolean }[] | undefined) ?? [];
  const fields = (parse(p.form) as { fields?: FakeFormField[] } | undefined)?.fields;
  const form = p.hasForm === 'true' && fields && p.form_status !== 'disabled' && p.pending !== 'true' ? { fields, submitText: p.form_btn_text ?? '提交' } : undefined;
  return {
    title: p.title ?? '',
    content: p.content ?? '',
    buttons: p.pending === 'true' ? [] : buttons.map((b) => ({ id: String(b.id ?? ''), label: String(b.text ?? ''), request: b.request !== false })),
    ...(form ? { form } : {}),
  };
}

export class CardError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** cardParamMap: an object of string values only (keys ≤ 100 bytes). */
export function requireParamMap(v: unknown, where: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CardError(400, 'param.error', `${where}.cardParamMap 必须是对象`);
  for (const [k, val] of Object.entries(v)) {
    if (Buffer.byteLength(k) > 100) throw new CardError(400, 'param.error', `${where}.cardParamMap 的键过长：${k.slice(0, 20)}`);
    if (typeof val !== 'string') throw new CardError(400, 'param.error', `${where}.cardParamMap.${k} 必须是字符串（非字符串请先 JSON 序列化）`);
  }
  return v as Record<string, string>;
}

const SPACE = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.(.+)$/;

/** Validates a createAndDeliver body and returns the parts the fake keeps. */
export function checkCreate(b: Record<string, unknown>, robotCode: string): {
  outTrackId: string;
  templateId: string;
  callbackType?: 'STREAM' | 'HTTP';
  space: CardInstance['space'];
  cardParamMap: Record<string, string>;
} {
  if (typeof b.cardTemplateId !== 'string' || !b.cardTemplateId) throw new CardError(400, 'param.error', 'cardTemplateId 不能为空');
  if (typeof b.outTrackId !== 'string' || !b.outTrackId || b.outTrackId.length > 128) throw new CardError(400, 'param.error', 'outTrackId 不能为空且不超过 128 个字符');
  if (b.callbackType !== undefined && b.callbackType !== 'STREAM' && b.callbackType !== 'HTTP') throw new CardError(400, 'param.error', `callbackType 只能是 STREAM 或 HTTP：${String(b.callbackType)}`);
  if (b.callbackType === 'HTTP' && typeof b.callbackRouteKey !== 'string') throw new CardError(400, 'param.error', 'HTTP 回调需要 callbackRouteKey');
  if (b.userIdType !== undefined && b.userIdType !== 1 && b.userIdType !== 2) throw new CardError(400, 'param.error', 'userIdType 只能是 1（userId）或 2（unionId）');
  const cardData = b.cardData as { cardParamMap?: unknown } | undefined;
  if (typeof cardData !== 'object' || cardData === null) throw new CardError(400, 'param.error', 'cardData 必须是对象');
  const cardParamMap = requireParamMap(cardData.cardParamMap, 'cardData');
  const m = typeof b.openSpaceId === 'string' ? SPACE.exec(b.openSpaceId) : null;
  if (!m) throw new CardError(400, 'param.openSpaceIdInvalid', 'openSpaceId 格式应为 dtv1.card//IM_ROBOT.<userId> 或 dtv1.card//IM_GROUP.<openConversationId>');
  const type = m[1] as 'IM_ROBOT' | 'IM_GROUP';
  const isObj = (x: unknown) => typeof x === 'object' && x !== null;
  if (type === 'IM_ROBOT') {
    if (!isObj(b.imRobotOpenSpaceModel)) throw new CardError(400, 'param.error', '单聊投放需要 imRobotOpenSpaceModel');
    const d = b.imRobotOpenDeliverModel as { spaceType?: unknown; robotCode?: unknown } | undefined;
    if (!isObj(d) || d!.spaceType !== 'IM_ROBOT') throw new CardError(400, 'param.error', '单聊投放需要 imRobotOpenDeliverModel.spaceType = "IM_ROBOT"');
    if (d!.robotCode !== undefined && d!.robotCode !== robotCode) throw new CardError(400, 'param.error', '无效的机器人标识 robotCode');
  } else {
    if (!isObj(b.imGroupOpenSpaceModel)) throw new CardError(400, 'param.error', '群聊投放需要 imGroupOpenSpaceModel');
    const d = b.imGroupOpenDeliverModel as { robotCode?: unknown } | undefined;
    if (!isObj(d) || d!.robotCode !== robotCode) throw new CardError(400, 'param.error', '群聊投放需要 imGroupOpenDeliverModel.robotCode');
    if (!m[2].startsWith('cid')) throw new CardError(400, 'param.openSpaceIdInvalid', '无效的 openConversationId');
  }
  return {
    outTrackId: b.outTrackId,
    templateId: b.cardTemplateId,
    ...(b.callbackType ? { callbackType: b.callbackType as 'STREAM' | 'HTTP' } : {}),
    space: { type, id: m[2] },
    cardParamMap,
  };
}

/** Applies a PUT /v1.0/card/instances body (or a callback answer) to an instance. */
export function applyUpdate(
  inst: CardInstance,
  u: { cardData?: unknown; privateData?: unknown; cardUpdateOptions?: unknown },
  onlyUser?: string,
): void {
  const opts = (u.cardUpdateOptions ?? {}) as { updateCardDataByKey?: unknown; updatePrivateDataByKey?: unknown };
  if (u.cardData !== undefined) {
    const map = requireParamMap((u.cardData as { cardParamMap?: unknown }).cardParamMap, 'cardData');
    // The documented default is to overwrite the whole map; by key only when asked.
    inst.cardParamMap = opts.updateCardDataByKey === true ? { ...inst.cardParamMap, ...map } : { ...map };
  }
  if (u.privateData !== undefined) {
    if (typeof u.privateData !== 'object' || u.privateData === null) throw new CardError(400, 'param.error', 'privateData 必须是 {userId: {cardParamMap}}');
    for (const [user, data] of Object.entries(u.privateData as Record<string, unknown>)) {
      if (onlyUser && user !== onlyUser) continue;
      const map = requireParamMap((data as { cardParamMap?: unknown } | null)?.cardParamMap, `privateData.${user}`);
      inst.privateData[user] = opts.updatePrivateDataByKey === true ? { ...(inst.privateData[user] ?? {}), ...map } : { ...map };
    }
  }
}

function parse(v: string | undefined): unknown {
  if (!v) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
