import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Secrets and free text typed by users never belong in a log line; the
 * redact list is a second line of defence for fields that might carry them by mistake.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'qinglian' },
      redact: {
        paths: [
          '*.secret', '*.clientSecret', '*.appSecret', '*.token', '*.accessToken', '*.password',
          'secret', 'token', 'text', '*.text', 'form', '*.form', 'description', '*.description',
          'headers.authorization', '*.headers["x-acs-dingtalk-access-token"]',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
