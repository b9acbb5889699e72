import { z } from 'zod';
import type { DialogueState } from '../dialogue.js';
import type { StateStore } from './store.js';

const dialogueStateSchema: z.ZodType<DialogueState> = z.object({
  name: z.string(),
  // States stored before dialogues had versions were all written by version 1.
  version: z.number().int().positive().default(1),
  step: z.number().int().nonnegative(),
  data: z.record(z.string(), z.unknown()),
  initial: z.record(z.string(), z.unknown()),
  confidential: z.boolean().optional(),
}) as z.ZodType<DialogueState>;

/** A stored dialogue that no longer reads as one (written by an older deploy, or damaged). */
export const UNREADABLE = 'unreadable' as const;

/** Where each user's current dialogue step is kept, with the dialogue timeout as its lifetime. */
export class DialogueStore {
  constructor(
    private store: StateStore,
    private timeoutSeconds: number,
  ) {}

  private key(staffId: string) {
    return `dialogue:${staffId}`;
  }

  async get(staffId: string): Promise<DialogueState | typeof UNREADABLE | undefined> {
    const read = await this.store.get(this.key(staffId), dialogueStateSchema);
    if (!read) return undefined;
    return 'value' in read ? read.value : UNREADABLE;
  }

  set(staffId: string, state: DialogueState): Promise<void> {
    return this.store.set(this.key(staffId), state, this.timeoutSeconds * 1000);
  }

  clear(staffId: string): Promise<void> {
    return this.store.delete(this.key(staffId));
  }
}
