/**
 * {@link PeriodicShardSync}: runs shard sync (and lease cleanup) once at start-up and then
 * periodically on the leader, with backoff when it fails.
 * @module
 */
import { exponentialDelay, ShutdownError, isKclError, silentLogger, systemClock, type Clock, type Logger } from '@kcl-ts/processor';
import type { LeaseCleanup } from './lease-cleanup.js';
import type { ShardSyncResult, ShardSyncer } from './shard-syncer.js';
import { SHARD_SYNC_DEFAULTS, type ShardSyncConfig } from './shard-sync-options.js';

/** Options of {@link PeriodicShardSync}. */
export interface PeriodicShardSyncOptions {
  /** Does the syncing. */
  readonly syncer: Pick<ShardSyncer, 'syncShards'>;
  /** Runs after every successful sync when given. */
  readonly cleanup?: Pick<LeaseCleanup, 'run'>;
  /**
   * Whether this worker runs the periodic sync now. Pass the lease coordinator's
   * `isLeader()` (smallest live worker id): one runner at a time, and when it dies the next
   * smallest id takes over within about one lease duration — no long-held lock.
   */
  readonly isLeader: () => boolean;
  /** The timing (`intervalMs`, `maxBackoffMs`, `minRequestIntervalMs`), resolved by {@link resolveShardSyncConfig}. @default SHARD_SYNC_DEFAULTS */
  readonly config?: Pick<ShardSyncConfig, 'intervalMs' | 'maxBackoffMs' | 'minRequestIntervalMs'>;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /** Called with every failure of a background run (after it is logged). */
  readonly onError?: (error: Error) => void;
  /** Called after every run (periodic, requested or the first): its result, or `undefined` when it failed, and how long it took. */
  readonly onRun?: (result: ShardSyncResult | undefined, durationMs: number) => void;
}

/** {@link PeriodicShardSyncOptions} checked, with the defaults filled in. */
export interface PeriodicShardSyncConfig {
  readonly syncer: Pick<ShardSyncer, 'syncShards'>;
  readonly cleanup: Pick<LeaseCleanup, 'run'> | undefined;
  readonly isLeader: () => boolean;
  readonly intervalMs: number;
  readonly maxBackoffMs: number;
  readonly minRequestIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onError: ((error: Error) => void) | undefined;
  readonly onRun: ((result: ShardSyncResult | undefined, durationMs: number) => void) | undefined;
}

/**
 * Checks the dependencies in {@link PeriodicShardSyncOptions} and fills in the defaults.
 * @throws TypeError naming a missing dependency.
 */
function periodicShardSyncConfig(options: PeriodicShardSyncOptions): PeriodicShardSyncConfig {
  if (typeof options?.syncer?.syncShards !== 'function') throw new TypeError(`syncer must be a ShardSyncer, got ${String(options?.syncer)}`);
  if (options.cleanup !== undefined && typeof options.cleanup.run !== 'function') throw new TypeError(`cleanup must be a LeaseCleanup, got ${String(options.cleanup)}`);
  if (typeof options.isLeader !== 'function') throw new TypeError(`isLeader must be a function, got ${String(options.isLeader)}`);
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError(`onError must be a function, got ${String(options.onError)}`);
  if (options.onRun !== undefined && typeof options.onRun !== 'function') throw new TypeError(`onRun must be a function, got ${String(options.onRun)}`);
  const { intervalMs, maxBackoffMs, minRequestIntervalMs } = options.config ?? SHARD_SYNC_DEFAULTS;
  return {
    syncer: options.syncer,
    cleanup: options.cleanup,
    isLeader: options.isLeader,
    intervalMs,
    maxBackoffMs,
    minRequestIntervalMs,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger(),
    onError: options.onError,
    onRun: options.onRun,
  };
}

/**
 * The shard-sync loop of a worker.
 *
 * - {@link start} runs one sync (plus cleanup) at once on every worker, leader or not —
 *   conditional creates make concurrent runs harmless, and a new worker should not wait a
 *   whole interval for leases. It resolves with that sync's result (and rejects if it
 *   fails, leaving nothing running).
 * - Then every `intervalMs`, only while `isLeader()` is true. Leadership is decided by the
 *   caller; with the lease coordinator's `isLeader()` (smallest live worker id) there is one
 *   runner, and failover takes about one lease duration, with no long-held lock.
 * - A failed background run (a missing stream: `ResourceNotFoundError`, a store outage) is
 *   logged and passed to `onError`; the next run waits `intervalMs × 2^(failures − 1)`,
 *   capped by `maxBackoffMs` — never a busy loop.
 * - {@link requestSync} asks for a run soon (after a hole or a shard end), on any worker,
 *   but not sooner than `minRequestIntervalMs` after the last run and never during backoff.
 */
export class PeriodicShardSync {
  /** The resolved configuration. */
  readonly config: PeriodicShardSyncConfig;
  private readonly logger: Logger;
  private readonly stopController = new AbortController();
  private startPromise: Promise<ShardSyncResult> | undefined;
  private stopPromise: Promise<void> | undefined;
  private loopPromise: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private requested = false;
  private wake: (() => void) | undefined;
  private failures = 0;
  private lastRunEnd = Number.NEGATIVE_INFINITY;

  /** @throws TypeError naming an invalid option. */
  constructor(options: PeriodicShardSyncOptions) {
    this.config = periodicShardSyncConfig(options);
    this.logger = this.config.logger.child({ component: 'periodic-shard-sync' });
  }

  /**
   * Runs the first sync now, then starts the periodic loop. Calling it again returns the
   * same promise; after a failed first sync it may be called again.
   * @throws ShutdownError after {@link stop}.
   */
  start(): Promise<ShardSyncResult> {
    if (this.stopController.signal.aborted) return Promise.reject(new ShutdownError('PeriodicShardSync was stopped'));
    this.startPromise ??= this.runOnce().then(
      (result) => {
        if (!this.stopController.signal.aborted) this.loopPromise = this.loop();
        return result;
      },
      (error: unknown) => {
        this.startPromise = undefined;
        throw error;
      },
    );
    return this.startPromise;
  }

  /** Stops the loop and aborts a run in progress; resolves when nothing runs any more. Idempotent. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.stopController.abort(new ShutdownError('PeriodicShardSync stopped'));
      await Promise.allSettled([this.startPromise, this.loopPromise, this.chain]);
    })();
    return this.stopPromise;
  }

  /**
   * One sync followed by the cleanup (if configured), now, after any run in progress.
   * Runs regardless of leadership. A cleanup failure is logged and reported to `onError`
   * but does not fail the sync's result.
   */
  runOnce(signal?: AbortSignal): Promise<ShardSyncResult> {
    const run = this.chain.then(() => this.runNow(signal));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Asks for a sync soon (e.g. after a hole or a shard end); see the class comment. */
  requestSync(): void {
    this.requested = true;
    this.wake?.();
  }

  private async runNow(signal: AbortSignal | undefined): Promise<ShardSyncResult> {
    if (this.stopController.signal.aborted) throw new ShutdownError('PeriodicShardSync was stopped');
    // AbortSignal.any holds its sources weakly: nothing to detach once the run ends.
    const linked = signal === undefined ? this.stopController.signal : AbortSignal.any([this.stopController.signal, signal]);
    const startedAt = this.config.clock.elapsed();
    let result: ShardSyncResult | undefined;
    try {
      result = await this.config.syncer.syncShards(linked);
      if (this.config.cleanup) {
        try {
          await this.config.cleanup.run(linked);
        } catch (error) {
          if (linked.aborted) throw error;
          this.report(error, 'lease cleanup failed');
        }
      }
      return result;
    } finally {
      this.lastRunEnd = this.config.clock.elapsed();
      try {
        this.config.onRun?.(result, this.lastRunEnd - startedAt);
      } catch (error) {
        this.logger.warn({ err: error }, 'onRun threw');
      }
    }
  }

  private async loop(): Promise<void> {
    const { clock, intervalMs, maxBackoffMs, minRequestIntervalMs } = this.config;
    while (!this.stopController.signal.aborted) {
      const backoff = this.failures > 0 ? exponentialDelay(this.failures - 1, intervalMs, maxBackoffMs) : intervalMs;
      if (!(await this.sleep(backoff, this.failures === 0))) break;
      // A requested run still keeps its distance from the last one.
      const gap = this.lastRunEnd + minRequestIntervalMs - clock.elapsed();
      if (gap > 0 && !(await this.sleep(gap, false))) break;
      const requested = this.requested;
      this.requested = false;
      if (!requested && !this.leader()) continue;
      try {
        await this.runOnce();
        this.failures = 0;
      } catch (error) {
        if (this.stopController.signal.aborted) break;
        this.failures += 1;
        this.report(error, 'shard sync failed');
      }
    }
  }

  /** Sleeps `ms` on the clock; a sync request ends it early when `wakeable`. False once stopped. */
  private async sleep(ms: number, wakeable: boolean): Promise<boolean> {
    const stopSignal = this.stopController.signal;
    if (stopSignal.aborted) return false;
    if (wakeable && this.requested) return true;
    const timer = new AbortController();
    const cancel = (): void => timer.abort();
    stopSignal.addEventListener('abort', cancel, { once: true });
    if (wakeable) this.wake = cancel;
    try {
      await this.config.clock.sleep(ms, timer.signal);
    } catch {
      // woken by requestSync() or stopped: both cancel the timer
    } finally {
      this.wake = undefined;
      stopSignal.removeEventListener('abort', cancel);
    }
    return !stopSignal.aborted;
  }

  /** `isLeader()`, with a throwing callback counted as "not leader" (and reported). */
  private leader(): boolean {
    try {
      return this.config.isLeader();
    } catch (error) {
      this.report(error, 'isLeader() threw; skipping this periodic sync');
      return false;
    }
  }

  private report(error: unknown, message: string): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const fields = { err, failures: this.failures, code: isKclError(err) ? err.code : undefined };
    if (isKclError(err, 'RESOURCE_NOT_FOUND')) this.logger.error(fields, message);
    else this.logger.warn(fields, message);
    try {
      this.config.onError?.(err);
    } catch (callbackError) {
      this.logger.error({ err: callbackError }, 'onError threw');
    }
  }
}
