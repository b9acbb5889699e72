import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ActionValue, FormInput } from '../../../cards/model.js';
import type { StateStore } from './store.js';

/** A form card's inputs and action, kept so a platform without forms can ask them by dialogue. */
export interface StoredForm {
  actionId: string;
  value?: ActionValue;
  inputs: FormInput[];
}

const TTL_MS = 7 * 24 * 3600 * 1000;
const actionValue = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const base = { name: z.string(), label: z.string(), required: z.boolean().optional(), placeholder: z.string().optional(), initial: z.string().optional() };
const formInput = z.discriminatedUnion('kind', [
  z.object({ ...base, kind: z.literal('text'), multiline: z.boolean().optional(), maxLength: z.number().optional() }),
  z.object({ ...base, kind: z.literal('number'), min: z.number().optional(), max: z.number().optional() }),
  z.object({ ...base, kind: z.literal('date') }),
  z.object({ ...base, kind: z.literal('select'), options: z.array(z.object({ label: z.string(), value: z.string() })) }),
]);
const storedFormSchema = z.object({ actionId: z.string(), value: actionValue.optional(), inputs: z.array(formInput) }) as z.ZodType<StoredForm>;

export class FormStore {
  constructor(private store: StateStore) {}

  /** Keeps the form and returns the id its "fill in step by step" button carries. */
  async put(form: StoredForm): Promise<string> {
    const id = randomUUID();
    await this.store.set(`form:${id}`, form, TTL_MS);
    return id;
  }

  /** The form, or undefined when it expired or no longer reads as one. */
  async get(id: string): Promise<StoredForm | undefined> {
    const read = await this.store.get(`form:${id}`, storedFormSchema);
    return read && 'value' in read ? read.value : undefined;
  }
}
