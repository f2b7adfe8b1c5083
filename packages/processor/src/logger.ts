import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** A pino logger that writes nothing: the default everywhere, so the library is silent unless asked. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
