/**
 * The shared lease table of a simulated fleet: one `InMemoryLeaseRefresher`, reached by each
 * worker through its own connection, with injected throttling and lost responses.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { InMemoryLeaseRefresher, type Lease, type LeaseRefresher, type LeaseUpdate, type NewLease } from '@kcl-ts/leases';
import { AbortError, DependencyError, type Clock, type ExtendedSequenceNumber } from '@kcl-ts/processor';
import type { SeededRandom } from './random.js';

/** Injected lease-table faults: the probability that one call is affected. */
export interface TableFaults {
  /**
   * The table throttles the call. The DynamoDB refresher retries throttling with backoff, so
   * the call is slow (50–400 ms) and, half of the time, still fails once its retries are
   * spent: a retryable `DependencyError` whose cause is a `ProvisionedThroughputExceededException`,
   * with nothing written.
   */
  readonly throttle?: number;
  /**
   * The call is applied but its response is lost (a timeout or reset after the commit): the
   * caller gets a retryable `DependencyError` although the write happened.
   */
  readonly lostResponse?: number;
}

/** What was injected so far. */
export interface TableFaultCounts {
  throttled: number;
  throttledFailed: number;
  lostResponses: number;
}

const OPERATION: Record<string, string> = {
  createLeaseTableIfNotExists: 'CreateTable',
  leaseTableExists: 'DescribeTable',
  listLeases: 'Scan',
  getLease: 'GetItem',
  createLeaseIfNotExists: 'PutItem',
  renewLease: 'UpdateItem',
  takeLease: 'UpdateItem',
  evictLease: 'UpdateItem',
  requestHandoff: 'UpdateItem',
  transferLease: 'UpdateItem',
  updateLease: 'UpdateItem',
  addChildShardIds: 'UpdateItem',
  deleteLease: 'DeleteItem',
};

/** The checkpoint writes that reached the table during one `checkpointer.checkpoint()` call. */
export interface CheckpointProbe {
  readonly writes: { readonly position: ExtendedSequenceNumber; readonly applied: boolean }[];
  /**
   * Called when the table applies the call's first checkpoint write, at that moment: a worker
   * killed or stalled before the response arrives has still checkpointed.
   */
  readonly onApplied?: () => void;
}

/**
 * Attributes lease writes to the checkpoint call that caused them: a processor runs
 * `checkpoint()` inside `checkpointProbe.run(probe, …)`, and every checkpoint write the table
 * receives in that async context is added to `probe.writes` (applied or not). So the
 * journal records what the table accepted, not what the processor believes.
 */
export const checkpointProbe = new AsyncLocalStorage<CheckpointProbe>();

function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The lease table shared by every worker of a simulation. Each worker talks to it through
 * {@link SimLeaseTable.connect}: a `LeaseRefresher` whose calls are applied to the shared
 * store when sent and answered through the caller's clock (so a stalled worker's responses
 * wait for it, and a killed worker's never arrive), with the configured faults.
 */
export class SimLeaseTable {
  /** The shared store (read it directly for the final table). */
  readonly store = new InMemoryLeaseRefresher();
  /** Faults injected so far. */
  readonly injected: TableFaultCounts = { throttled: 0, throttledFailed: 0, lostResponses: 0 };
  private faults: TableFaults | undefined;
  private readonly created = new Set<string>();

  /** @param random draws of the injected faults. */
  constructor(private readonly random: SeededRandom) {}

  /** True if a lease with this key was ever created (even if it was deleted since). */
  everCreated(leaseKey: string): boolean {
    return this.created.has(leaseKey);
  }

  /** Sets (or clears, with `undefined`) the injected faults. */
  setFaults(faults: TableFaults | undefined): void {
    this.faults = faults;
  }

  /** A `LeaseRefresher` for one worker; responses arrive through `clock` after `latencyMs()`. */
  connect(clock: Clock, latencyMs: () => number): LeaseRefresher {
    const s = this.store;
    const call = <T>(op: string, signal: AbortSignal | undefined, apply: () => Promise<T>): Promise<T> => this.call(op, clock, latencyMs(), signal, apply);
    return {
      createLeaseTableIfNotExists: (signal) => call('createLeaseTableIfNotExists', signal, () => s.createLeaseTableIfNotExists()),
      leaseTableExists: (signal) => call('leaseTableExists', signal, () => s.leaseTableExists()),
      listLeases: (signal) => call('listLeases', signal, () => s.listLeases()),
      getLease: (key, signal) => call('getLease', signal, () => s.getLease(key)),
      createLeaseIfNotExists: (lease: NewLease, signal) =>
        call('createLeaseIfNotExists', signal, async () => {
          const created = await s.createLeaseIfNotExists(lease);
          if (created) this.created.add(lease.leaseKey);
          return created;
        }),
      renewLease: (lease: Lease, owner, signal) => call('renewLease', signal, () => s.renewLease(lease, owner)),
      takeLease: (lease, newOwner, signal) => call('takeLease', signal, () => s.takeLease(lease, newOwner)),
      evictLease: (lease, owner, signal) => call('evictLease', signal, () => s.evictLease(lease, owner)),
      requestHandoff: (lease, requester, signal) => call('requestHandoff', signal, () => s.requestHandoff(lease, requester)),
      transferLease: (lease, owner, newOwner, signal) => call('transferLease', signal, () => s.transferLease(lease, owner, newOwner)),
      updateLease: (lease, owner, update: LeaseUpdate, signal) => {
        const probe = checkpointProbe.getStore();
        return call('updateLease', signal, async () => {
          const stored = await s.updateLease(lease, owner, update);
          if (probe !== undefined && update.checkpoint !== undefined) {
            const first = stored !== undefined && !probe.writes.some((w) => w.applied);
            probe.writes.push({ position: update.checkpoint, applied: stored !== undefined });
            if (first) probe.onApplied?.();
          }
          return stored;
        });
      },
      addChildShardIds: (key, ids, signal) => call('addChildShardIds', signal, () => s.addChildShardIds(key, ids)),
      deleteLease: (key, options) => call('deleteLease', options?.signal, () => s.deleteLease(key, options?.onlyIfShardEnded !== undefined ? { onlyIfShardEnded: options.onlyIfShardEnded } : {})),
    };
  }

  private async call<T>(op: string, clock: Clock, latencyMs: number, signal: AbortSignal | undefined, apply: () => Promise<T>): Promise<T> {
    const operation = OPERATION[op] ?? op;
    const wait = async (ms: number): Promise<void> => {
      try {
        await clock.sleep(ms, signal);
      } catch (error) {
        throw new AbortError(`lease table ${operation} aborted`, { cause: error });
      }
    };
    if (signal?.aborted) throw new AbortError(`lease table ${operation} aborted`, { cause: signal.reason });
    const faults = this.faults;
    if (faults?.throttle !== undefined && this.random.chance(faults.throttle)) {
      this.injected.throttled++;
      await wait(this.random.int(50, 400));
      if (this.random.chance(0.5)) {
        this.injected.throttledFailed++;
        throw new DependencyError('dynamodb', operation, `DynamoDB ${operation} on the lease table kept failing after retries (ProvisionedThroughputExceededException, injected)`, {
          retryable: true,
          cause: awsError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded (injected)'),
        });
      }
    }
    const result = await apply();
    if (faults?.lostResponse !== undefined && this.random.chance(faults.lostResponse)) {
      this.injected.lostResponses++;
      await wait(latencyMs);
      throw new DependencyError('dynamodb', operation, `DynamoDB ${operation} on the lease table kept failing after retries (TimeoutError, injected: the request was applied, its response lost)`, {
        retryable: true,
        cause: awsError('TimeoutError', 'socket timed out (injected)'),
      });
    }
    await wait(latencyMs);
    return result;
  }
}
