import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** A pino logger that writes nothing: the default everywhere, so the library is silent unless asked. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The logger methods kcl-ts calls: `child` for components, and the levels it logs at. */
const LOGGER_METHODS = ['child', 'trace', 'debug', 'info', 'warn', 'error'] as const;

/**
 * Validates a logger option: a pino logger, or any object with pino's `child`, `trace`,
 * `debug`, `info`, `warn` and `error` methods (called as `(fields, message)`).
 *
 * `console` is rejected rather than adapted: it has no `child()`, and it formats the
 * structured fields differently from every log pipeline built for pino. Wrap it with
 * `pino()` (or pino's browser/`transport` options) instead.
 *
 * @param optionName the option path the error names, e.g. `logger`.
 * @throws TypeError naming `optionName`, what it got and the missing methods.
 */
export function assertLogger(value: unknown, optionName = 'logger'): asserts value is Logger {
  const isObject = (typeof value === 'object' || typeof value === 'function') && value !== null;
  const missing = LOGGER_METHODS.filter((m) => !isObject || typeof (value as Record<string, unknown>)[m] !== 'function');
  if (missing.length === 0) return;
  const got = isObject ? `an object without ${missing.map((m) => `${m}()`).join(', ')}` : typeof value === 'string' ? JSON.stringify(value) : String(value);
  const hint = value === globalThis.console ? ' (console is not one: pass pino() instead)' : '';
  throw new TypeError(`${optionName} must be a pino-compatible logger (${LOGGER_METHODS.join(', ')}), got ${got}${hint}`);
}
