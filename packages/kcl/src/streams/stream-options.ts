/**
 * The `streams` option of a Worker: one application, one lease table, many streams — a fixed
 * list, or a tracker the worker asks again and again (Java KCL: `MultiStreamTracker`).
 * @module
 */
import { assertInitialPosition, MAX_TIMER_DELAY_MS, type InitialPosition } from '@kcl-ts/processor';
import { isValidStreamName, parseStreamArn } from '@kcl-ts/shard-sync';

/** One stream of a multi-stream application (Java KCL: `StreamConfig`). Give `streamName` or `streamArn`. */
export interface StreamConfig {
  /** The stream's name, in the Kinesis client's account and region. */
  readonly streamName?: string;
  /** The stream's ARN (its account must be the client's: kcl-ts reads it with your Kinesis client). */
  readonly streamArn?: string;
  /** Where this stream's shards with no checkpointed ancestor start. @default the Worker's `initialPosition` */
  readonly initialPosition?: InitialPosition;
}

/**
 * What happens to the leases of a stream that left the list (Java KCL:
 * `FormerStreamsLeasesDeletionStrategy`). A deleted lease loses its checkpoint: if the stream
 * comes back, it starts again at its initial position.
 *
 * - `{ strategy: 'none' }` (the default, and the safe one): never deleted; the leases stay,
 *   untouched, so the stream resumes at its checkpoints if it is listed again.
 *   Java: `NoLeaseDeletionStrategy`.
 * - `{ strategy: 'auto', waitMs }`: a stream that has leases in the table but is not listed
 *   has them deleted once it has been missing for `waitMs`. Java:
 *   `AutoDetectionAndDeferredDeletionStrategy`.
 * - `{ strategy: 'provided', streams, waitMs }`: only the streams `streams()` names (and that
 *   are not listed) have their leases deleted, `waitMs` after they were first named. Java:
 *   `ProvidedStreamsDeferredDeletionStrategy`.
 */
export type FormerStreamsLeasesDeletion =
  | { readonly strategy: 'none' }
  | { readonly strategy: 'auto'; readonly waitMs: number }
  | {
      readonly strategy: 'provided';
      /** The streams whose leases may be deleted, by name or ARN. Asked at every refresh of the list. */
      readonly streams: () => readonly StreamReference[] | Promise<readonly StreamReference[]>;
      readonly waitMs: number;
    };

/** A stream by name or by ARN. */
export type StreamReference = { readonly streamName: string } | { readonly streamArn: string };

/**
 * A list of streams that may change while the worker runs (Java KCL: `MultiStreamTracker`).
 * A stream that appears gets leases at its initial position without a restart; one that
 * disappears has its processors stopped and its leases handled by `formerStreamsLeasesDeletion`.
 */
export interface StreamTracker {
  /** The streams to consume now. Called at start and every `refreshIntervalMs`; a call that throws keeps the previous list. */
  readonly list: () => readonly StreamConfig[] | Promise<readonly StreamConfig[]>;
  /** How often `list()` is called. @default 60_000 */
  readonly refreshIntervalMs?: number;
  /** @default { strategy: 'none' } */
  readonly formerStreamsLeasesDeletion?: FormerStreamsLeasesDeletion;
}

/** A {@link StreamConfig} after validation: exactly one of the two names, and a start. */
export interface ResolvedStreamConfig {
  readonly stream: StreamReference;
  /** The name of the stream (from the ARN when given by ARN). */
  readonly streamName: string;
  /** The name or ARN, as given: for messages. */
  readonly label: string;
  readonly initialPosition: InitialPosition;
}

/** The resolved `streams` option. `undefined` config means a single-stream application. */
export interface StreamsConfig {
  /** The current list (validated); a fixed list returns the same one every time. */
  readonly list: () => Promise<readonly ResolvedStreamConfig[]>;
  readonly refreshIntervalMs: number;
  readonly formerStreamsLeasesDeletion: FormerStreamsLeasesDeletion;
  /** False for a fixed list: nothing to refresh. */
  readonly tracked: boolean;
}

/** Default of {@link StreamTracker.refreshIntervalMs}. */
export const STREAM_TRACKER_DEFAULTS = { refreshIntervalMs: 60_000 } as const;

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}

/**
 * Validates one stream of the list.
 * @throws TypeError naming `path` (e.g. `streams[2].streamName`) and the bad value.
 */
export function resolveStreamConfig(value: unknown, path: string, fallbackPosition: InitialPosition, now?: number): ResolvedStreamConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${path} must be { streamName } or { streamArn } (with an optional initialPosition), got ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  const name = v['streamName'];
  const arn = v['streamArn'];
  if (name !== undefined && arn !== undefined) throw new TypeError(`${path} must have streamName or streamArn, not both, got ${describe(value)}`);
  const initialPosition = v['initialPosition'] ?? fallbackPosition;
  assertInitialPosition(initialPosition, `${path}.initialPosition`, now);
  if (arn !== undefined) {
    if (typeof arn !== 'string') throw new TypeError(`${path}.streamArn must be a stream ARN, got ${describe(arn)}`);
    let streamName: string;
    try {
      streamName = parseStreamArn(arn).streamName;
    } catch (error) {
      throw new TypeError(`${path}.${(error as Error).message}`);
    }
    return { stream: { streamArn: arn }, streamName, label: arn, initialPosition };
  }
  if (!isValidStreamName(name)) throw new TypeError(`${path}.streamName must be 1–128 characters of [a-zA-Z0-9_.-], got ${describe(name)}`);
  return { stream: { streamName: name }, streamName: name, label: name, initialPosition };
}

/** Validates a whole list: every entry, and no stream twice. */
function resolveStreamList(value: unknown, path: string, fallbackPosition: InitialPosition, now?: number): ResolvedStreamConfig[] {
  if (!Array.isArray(value)) throw new TypeError(`${path} must be an array of { streamName } or { streamArn }, got ${describe(value)}`);
  const seen = new Set<string>();
  return value.map((entry, i) => {
    const resolved = resolveStreamConfig(entry, `${path}[${i}]`, fallbackPosition, now);
    if (seen.has(resolved.streamName)) throw new TypeError(`${path}[${i}] names stream ${JSON.stringify(resolved.streamName)} a second time`);
    seen.add(resolved.streamName);
    return resolved;
  });
}

function resolveDeletion(value: unknown, path: string): FormerStreamsLeasesDeletion {
  if (value === undefined) return { strategy: 'none' };
  if (typeof value !== 'object' || value === null) throw new TypeError(`${path} must be { strategy: 'none' | 'auto' | 'provided', … }, got ${describe(value)}`);
  const v = value as Record<string, unknown>;
  const strategy = v['strategy'];
  if (strategy === 'none') return { strategy };
  if (strategy !== 'auto' && strategy !== 'provided') throw new TypeError(`${path}.strategy must be 'none', 'auto' or 'provided', got ${describe(strategy)}`);
  const waitMs = v['waitMs'];
  if (typeof waitMs !== 'number' || !Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_TIMER_DELAY_MS) {
    throw new TypeError(`${path}.waitMs must be an integer of milliseconds from 0 to ${MAX_TIMER_DELAY_MS}, got ${describe(waitMs)}`);
  }
  if (strategy === 'auto') return { strategy, waitMs };
  const streams = v['streams'];
  if (typeof streams !== 'function') throw new TypeError(`${path}.streams must be a function returning the streams whose leases may be deleted, got ${describe(streams)}`);
  return { strategy, waitMs, streams: streams as () => readonly StreamReference[] };
}

/**
 * Reads the stream options of a Worker: `streams` (a list or a tracker) for a multi-stream
 * application, or `undefined` for a single-stream one (`streamName`/`streamArn`). Giving
 * both is an error; so is an empty list.
 * @throws TypeError naming the option path (`streams`, `streams[1].streamArn`, `streams.refreshIntervalMs`, …).
 */
export function resolveStreamsOption(
  options: { readonly streams?: unknown; readonly streamName?: unknown; readonly streamArn?: unknown },
  initialPosition: InitialPosition,
  now?: number,
): StreamsConfig | undefined {
  const value = options.streams;
  if (value === undefined) return undefined;
  if (options.streamName !== undefined || options.streamArn !== undefined) {
    throw new TypeError('give either streams (a multi-stream application) or streamName/streamArn (a single-stream one), not both');
  }
  if (Array.isArray(value)) {
    const list = resolveStreamList(value, 'streams', initialPosition, now);
    if (list.length === 0) throw new TypeError('streams must list at least one stream (or be a tracker { list, refreshIntervalMs })');
    return { list: async () => list, refreshIntervalMs: STREAM_TRACKER_DEFAULTS.refreshIntervalMs, formerStreamsLeasesDeletion: { strategy: 'none' }, tracked: false };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { list?: unknown }).list !== 'function') {
    throw new TypeError(`streams must be an array of { streamName | streamArn, initialPosition? } or a tracker { list, refreshIntervalMs }, got ${describe(value)}`);
  }
  const tracker = value as StreamTracker;
  const interval = tracker.refreshIntervalMs ?? STREAM_TRACKER_DEFAULTS.refreshIntervalMs;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval <= 0 || interval > MAX_TIMER_DELAY_MS) {
    throw new TypeError(`streams.refreshIntervalMs must be a positive integer of milliseconds, at most ${MAX_TIMER_DELAY_MS}, got ${describe(interval)}`);
  }
  return {
    // Validated at every call: a bad entry from the tracker is an error of that refresh, not of the constructor.
    list: async () => resolveStreamList(await tracker.list(), 'streams.list()', initialPosition),
    refreshIntervalMs: interval,
    formerStreamsLeasesDeletion: resolveDeletion(tracker.formerStreamsLeasesDeletion, 'streams.formerStreamsLeasesDeletion'),
    tracked: true,
  };
}
