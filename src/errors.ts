/** Shown to the user as is; the message is Chinese and names what was wrong. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * A submitted form with values to correct. `fields` maps an input's name to what is wrong with
 * it (Chinese), for platforms that can show it next to the input (the sandbox); the message
 * names the fields itself, for platforms that show one message.
 */
export class FormError extends UserError {
  constructor(
    message: string,
    readonly fields: Record<string, string>,
  ) {
    super(message);
    this.name = 'FormError';
  }
}

/** A file a user sent is larger than the bot keeps; nothing was stored. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`file larger than ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/** A platform call failed; `retryable` tells the outbound queue whether to try again. */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly platform: string,
    readonly code: string | number | undefined,
    readonly retryable: boolean,
    /** Milliseconds the platform asked us to wait, when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

/**
 * Thrown by an adapter whose capabilities changed while it sent a card fitted to the old ones
 * (a DingTalk template refused: no more forms in the card). The sender fits the card again
 * in the degrade stage and sends once more; nothing was delivered.
 */
export class CapabilitiesChanged extends Error {
  constructor(readonly platform: string) {
    super(`${platform} capabilities changed while sending a card`);
  }
}
