/**
 * The shard-sync options of a Worker (its `shardSync` group), their defaults and validation.
 * @module
 */
import { durationOption, MAX_TIMER_DELAY_MS, numberOption, optionGroup, optionPath } from '@kcl-ts/processor';

/** How ListShards is called: the tuning of the {@link ShardDetector}. */
export interface ListShardsOptions {
  /**
   * Retries of one ListShards page on throttling, 5xx and network errors.
   * Java KCL: `maxListShardsRetryAttempts` (50, with a fixed 1.5 s backoff).
   * @default 8
   */
  readonly maxRetries?: number;
  /** ListShards `MaxResults` per page (1–10,000). Java KCL: none (the service default). @default 1000 */
  readonly pageSize?: number;
  /** Backoff base: retry `n` waits a random time below `retryBaseDelayMs × 2^n`. Java KCL: `listShardsBackoffTimeInMillis`. @default 100 */
  readonly retryBaseDelayMs?: number;
  /** Cap of one backoff wait. Java KCL: none. @default 5000 */
  readonly retryMaxDelayMs?: number;
}

/**
 * Options of shard sync: how often the lease table is brought in step with the stream's
 * shards, how a child shard waits for its parents, and how shards are listed. Java KCL:
 * `CoordinatorConfig` and the shard-sync parts of `LeaseManagementConfig`.
 */
export interface ShardSyncOptions {
  /** Time between two periodic syncs by the leader. Java KCL: `shardSyncIntervalMillis`. @default 60_000 */
  readonly intervalMs?: number;
  /** Cap of the wait after consecutive failed syncs (it doubles from `intervalMs`). Java KCL: none. @default 600_000 */
  readonly maxBackoffMs?: number;
  /** Least time between the end of one sync and one asked for early (after a hole or a shard end). Java KCL: none. @default 1_000 */
  readonly minRequestIntervalMs?: number;
  /**
   * Fallback re-check of parent leases while a child shard waits for them; a parent ended by
   * this worker wakes the child at once. Java KCL: `parentShardPollIntervalMillis` (10,000).
   * @default 1_000
   */
  readonly parentPollIntervalMs?: number;
  /** A cached shard list younger than this is reused by the parent gate. Java KCL: none. @default 5_000 */
  readonly shardListMaxAgeMs?: number;
  /** ListShards tuning. */
  readonly listShards?: ListShardsOptions;
}

/** {@link ListShardsOptions} with every default applied and validated. */
export type ListShardsConfig = { readonly [K in keyof ListShardsOptions]-?: number };

/** {@link ShardSyncOptions} with every default applied and validated. */
export type ShardSyncConfig = Required<Omit<ShardSyncOptions, 'listShards'>> & { readonly listShards: ListShardsConfig };

/** The defaults of {@link ShardSyncOptions}. */
export const SHARD_SYNC_DEFAULTS: ShardSyncConfig = Object.freeze({
  intervalMs: 60_000,
  maxBackoffMs: 600_000,
  minRequestIntervalMs: 1_000,
  parentPollIntervalMs: 1_000,
  shardListMaxAgeMs: 5_000,
  listShards: Object.freeze({ maxRetries: 8, pageSize: 1000, retryBaseDelayMs: 100, retryMaxDelayMs: 5000 }),
});

const KEYS = ['intervalMs', 'maxBackoffMs', 'minRequestIntervalMs', 'parentPollIntervalMs', 'shardListMaxAgeMs', 'listShards'] as const satisfies readonly (keyof ShardSyncOptions)[];
const LIST_KEYS = ['maxRetries', 'pageSize', 'retryBaseDelayMs', 'retryMaxDelayMs'] as const satisfies readonly (keyof ListShardsOptions)[];

/**
 * Merges `options` over the defaults and validates them.
 * @param path the option path errors name, e.g. `shardSync` (the Worker's group).
 * @throws TypeError naming the option path (also of an unknown key) and the bad value.
 */
export function resolveShardSyncConfig(options: ShardSyncOptions = {}, path = 'shardSync'): ShardSyncConfig {
  const o = optionGroup(options, path, KEYS);
  const at = (name: string): string => optionPath(path, name);
  const l = optionGroup(o.listShards, at('listShards'), LIST_KEYS);
  const lat = (name: string): string => optionPath(at('listShards'), name);
  const D = SHARD_SYNC_DEFAULTS;
  const intervalMs = durationOption(o.intervalMs, at('intervalMs'), D.intervalMs);
  const retryBaseDelayMs = numberOption(l.retryBaseDelayMs, lat('retryBaseDelayMs'), D.listShards.retryBaseDelayMs, { min: 1, max: 60_000 });
  return {
    intervalMs,
    maxBackoffMs: Math.max(intervalMs, durationOption(o.maxBackoffMs, at('maxBackoffMs'), D.maxBackoffMs)),
    minRequestIntervalMs: numberOption(o.minRequestIntervalMs, at('minRequestIntervalMs'), D.minRequestIntervalMs, { max: MAX_TIMER_DELAY_MS, integer: false }),
    parentPollIntervalMs: durationOption(o.parentPollIntervalMs, at('parentPollIntervalMs'), D.parentPollIntervalMs),
    shardListMaxAgeMs: numberOption(o.shardListMaxAgeMs, at('shardListMaxAgeMs'), D.shardListMaxAgeMs, { max: MAX_TIMER_DELAY_MS, integer: false }),
    listShards: {
      maxRetries: numberOption(l.maxRetries, lat('maxRetries'), D.listShards.maxRetries, { max: 100 }),
      pageSize: numberOption(l.pageSize, lat('pageSize'), D.listShards.pageSize, { min: 1, max: 10_000 }),
      retryBaseDelayMs,
      retryMaxDelayMs: numberOption(l.retryMaxDelayMs, lat('retryMaxDelayMs'), Math.max(retryBaseDelayMs, D.listShards.retryMaxDelayMs), { min: 1, max: 600_000 }),
    },
  };
}
