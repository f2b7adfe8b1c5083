/**
 * The subset of a pino logger the local stack uses. A pino `Logger` satisfies it, so
 * pass one in to see the emulators' lifecycle; the default logs nothing.
 */
export interface LocalLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

/** A logger that discards everything (the default). */
export const silentLocalLogger: LocalLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
