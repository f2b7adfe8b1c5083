/**
 * Typed errors of `@kcl-ts/sinks`. They are {@link KclError}s, so `isKclError(e, 'DEPENDENCY')`
 * and `e.retryable` work as for the rest of kcl-ts.
 * @module
 */
import { KclError, type KclErrorOptions } from '@kcl-ts/processor';

/**
 * A flush could not be written: the sink failed on every attempt (or with an error it
 * classifies `fatal`). Nothing after the last successful flush was checkpointed; thrown from
 * `processRecords`, it makes the Worker deliver the batch again. The last sink error is the
 * `cause`.
 */
export class SinkWriteError extends KclError {
  /** The sink's name. */
  readonly sink: string;
  /** The shard whose flush failed. */
  readonly shardId: string;
  /** Number of items in the failed flush. */
  readonly items: number;
  /** Attempts made (1 + retries). */
  readonly attempts: number;

  constructor(sink: string, shardId: string, items: number, attempts: number, message: string, options: KclErrorOptions = {}) {
    super('DEPENDENCY', message, options);
    this.sink = sink;
    this.shardId = shardId;
    this.items = items;
    this.attempts = attempts;
  }
}

/**
 * A sink call returned a partial success that did not complete within the sink's own budget,
 * e.g. DynamoDB `UnprocessedItems` still left after the resends. Retryable: the processor
 * writes the whole flush again (the sinks are idempotent).
 */
export class IncompleteWriteError extends KclError {
  /** Items not written. */
  readonly remaining: number;
  constructor(message: string, remaining: number, options: KclErrorOptions = {}) {
    super('DEPENDENCY', message, { retryable: true, ...options });
    this.remaining = remaining;
  }
}

/**
 * The parts of an error that are safe to log above `debug`: name, message, code and HTTP
 * status (no message for Postgres errors, whose SQLSTATE code is logged instead). Driver
 * errors can carry record content in other fields (Postgres puts the failing row in `detail`),
 * so the whole error is logged at `debug` only.
 * @internal
 */
export function errorSummary(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const e = error as { name?: unknown; message?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  // A Postgres message can quote a value ('invalid input syntax for type integer: "…"'): its SQLSTATE says enough.
  const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code);
  return {
    ...(typeof e.name === 'string' && { name: e.name }),
    ...(typeof e.message === 'string' && !sqlState && { message: e.message }),
    ...((typeof e.code === 'string' || typeof e.code === 'number') && { code: e.code }),
    ...(e.$metadata?.httpStatusCode !== undefined && { httpStatusCode: e.$metadata.httpStatusCode }),
  };
}
