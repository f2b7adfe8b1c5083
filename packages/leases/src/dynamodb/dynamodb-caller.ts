/**
 * The one place where the lease table talks to DynamoDB: every call goes through
 * {@link DynamoDbCaller}, which retries transient failures on the injected clock, passes the
 * caller's `AbortSignal` to the SDK, and translates what is left into typed errors.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock, Logger } from '@kcl-ts/processor';
import { translateDynamoDbError, type TableLocation } from './errors.js';
import { raceAbort, withRetries } from '@kcl-ts/processor';

/** Settings of a {@link DynamoDbCaller}. */
export interface DynamoDbCallerConfig {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

/** Sends one SDK command, without per-call options (the caller races it with the signal). */
export type SendFn<T> = () => Promise<T>;

/** Outcome of {@link DynamoDbCaller.callExpecting}. */
export type ExpectingResult<T> =
  | { readonly ok: true; readonly output: T; readonly retried: boolean }
  | { readonly ok: false; readonly error: unknown; readonly retried: boolean };

/** Retrying, translating front of a user-supplied `DynamoDBClient` for one lease table. */
export class DynamoDbCaller {
  private locationPromise: Promise<TableLocation> | undefined;

  constructor(readonly config: DynamoDbCallerConfig) {}

  /** Runs `send` with retries; throws a translated `KclError` on failure. */
  async call<T>(operation: string, send: SendFn<T>, signal?: AbortSignal): Promise<T> {
    const result = await this.callExpecting(operation, send, signal, () => false);
    if (!result.ok) throw result.error; // unreachable: nothing is expected
    return result.output;
  }

  /**
   * Like {@link call}, but an error for which `expected` is true (e.g. a lost condition) is
   * returned rather than thrown, raw, together with whether the request had been retried
   * (so a repeated write can check whether its first attempt had in fact landed).
   */
  async callExpecting<T>(
    operation: string,
    send: SendFn<T>,
    signal: AbortSignal | undefined,
    expected: (error: unknown) => boolean,
  ): Promise<ExpectingResult<T>> {
    let retried = false;
    const c = this.config;
    try {
      const output = await withRetries(
        operation,
        (attempt) => {
          if (attempt > 0) retried = true;
          return raceAbort(send(), signal);
        },
        {
          clock: c.clock,
          signal,
          maxRetries: c.maxRetries,
          logger: c.logger,
          baseDelayMs: c.retryBaseDelayMs,
          maxDelayMs: c.retryMaxDelayMs,
        },
      );
      return { ok: true, output, retried };
    } catch (error) {
      if (expected(error)) return { ok: false, error, retried };
      throw translateDynamoDbError(error, operation, await this.location());
    }
  }

  /** Table name plus the client's region and custom endpoint, for error messages. */
  location(): Promise<TableLocation> {
    this.locationPromise ??= describeLocation(this.config.client).then((where) => ({ tableName: this.config.tableName, where }));
    return this.locationPromise;
  }
}

async function describeLocation(client: DynamoDBClient): Promise<string> {
  const config = (client as { config?: { region?: unknown; endpoint?: unknown } }).config;
  const region = await resolveValue(config?.region);
  const endpoint = formatEndpoint(await resolveValue(config?.endpoint));
  const regionText = typeof region === 'string' ? `region ${region}` : 'the client\'s region';
  return endpoint === undefined ? regionText : `${regionText} (endpoint ${endpoint})`;
}

async function resolveValue(value: unknown): Promise<unknown> {
  try {
    return typeof value === 'function' ? await (value as () => unknown)() : value;
  } catch {
    return undefined;
  }
}

function formatEndpoint(endpoint: unknown): string | undefined {
  if (typeof endpoint === 'string') return endpoint;
  if (typeof endpoint !== 'object' || endpoint === null) return undefined;
  const e = endpoint as { url?: unknown; protocol?: unknown; hostname?: unknown; port?: unknown; path?: unknown };
  if (e.url instanceof URL) return e.url.href;
  if (typeof e.hostname !== 'string') return undefined;
  const protocol = typeof e.protocol === 'string' ? e.protocol.replace(/:?$/, ':') : 'https:';
  const port = e.port === undefined || e.port === null || e.port === '' ? '' : `:${String(e.port)}`;
  const path = typeof e.path === 'string' && e.path !== '/' ? e.path : '';
  return `${protocol}//${e.hostname}${port}${path}`;
}
