import { z } from 'zod';
import { pendingPrivateParams } from '../../../cards/dingtalk.js';

/**
 * A card click or form submit as the stream delivers it (CALLBACK on
 * /v1.0/card/instances/callback, https://open.dingtalk.com/document/orgapp/instructions-for-filling-in-api-card-callback):
 * `data` is a JSON string, and inside it `content` (twin: `value`) is a JSON string again,
 * `{"cardPrivateData": {"actionIds": [...], "params": {...}}}`. A form submit sends
 * actionIds ["form"] and the values in params.form.
 */
const callbackSchema = z.looseObject({
  type: z.string().optional(),
  outTrackId: z.string().min(1),
  userId: z.string().min(1),
  content: z.string().optional(),
  value: z.string().optional(),
});
const contentSchema = z.object({
  cardPrivateData: z.object({
    actionIds: z.array(z.string()).default([]),
    params: z.record(z.string(), z.unknown()).default({}),
  }),
});

export interface CardClick {
  outTrackId: string;
  userId: string;
  /** The button token, or undefined for a form submit. */
  token?: string;
  /** Submitted form values, as strings. */
  form?: Record<string, string>;
}

export function parseCardCallback(data: unknown): CardClick | undefined {
  const cb = callbackSchema.safeParse(data);
  if (!cb.success) return undefined;
  let pd: z.infer<typeof contentSchema>['cardPrivateData'] | undefined;
  for (const raw of [cb.data.content, cb.data.value]) {
    if (!raw) continue;
    try {
      const r = contentSchema.safeParse(JSON.parse(raw));
      if (r.success) {
        pd = r.data.cardPrivateData;
        break;
      }
    } catch {
      /* the other field may hold it */
    }
  }
  const base = { outTrackId: cb.data.outTrackId, userId: cb.data.userId };
  if (!pd) return base;
  if (pd.actionIds[0] === 'form') return { ...base, form: formValues(pd.params.form) };
  // A designer template's looped button group passes the item id as params.token; the
  // public AI card reports the button's own id as its action id.
  const token = typeof pd.params.token === 'string' ? pd.params.token : pd.actionIds[0];
  return token ? { ...base, token } : base;
}

function formValues(raw: unknown): Record<string, string> {
  let v = raw;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return {};
    }
  }
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    // A select may come back as {value, text}.
    else if (typeof x === 'object' && x !== null && 'value' in x) out[k] = String((x as { value: unknown }).value);
  }
  return out;
}

/**
 * The answer on the stream ack, within the platform's 2 s: the clicker's own view of the card
 * loses its buttons at once, so a second press cannot start the same work twice. The real
 * update follows with PUT /v1.0/card/instances once the work is done.
 */
export function cardAckResponse(): Record<string, unknown> {
  return {
    cardUpdateOptions: { updatePrivateDataByKey: true },
    userPrivateData: { cardParamMap: pendingPrivateParams() },
  };
}
