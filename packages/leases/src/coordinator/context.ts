import type { Clock, Logger } from '@kcl-ts/processor';
import type { Lease } from '../lease.js';
import type { LeaseRefresher } from '../refresher.js';
import type { CoordinatorEmitter } from './events.js';
import type { HeldLeases } from './held-leases.js';
import type { LeaseCoordinatorConfig } from './options.js';

/**
 * What the renewer and the taker share: identity, dependencies, configuration, the held
 * leases and the event emitter.
 * @internal
 */
export interface CoordinatorContext {
  readonly workerId: string;
  /** This worker id plus the token of this coordinator's process, as written with every take and renewal. */
  readonly owner: { readonly workerId: string; readonly incarnation: string };
  readonly refresher: LeaseRefresher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: LeaseCoordinatorConfig;
  readonly emitter: CoordinatorEmitter;
  readonly held: HeldLeases;
  readonly random: () => number;
  /** Leases this worker may take; see `LeaseCoordinatorDeps.canTake`. */
  readonly canTake?: (lease: Lease) => boolean;
  /** Aborted when the coordinator stops: passed to the store calls of the loops' rounds. */
  readonly signal: AbortSignal;
  /** Logs `error` and emits it as `'error'` (only when someone listens). */
  reportError(error: unknown, message: string, fields?: Record<string, unknown>): void;
}

/** Turns anything thrown into an `Error`. @internal */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * How many lease writes one worker has in flight at once (each batch of writes goes through
 * `pLimit(LEASE_WRITE_CONCURRENCY).map`; every write catches its own errors). @internal
 */
export const LEASE_WRITE_CONCURRENCY = 16;

/**
 * How many renewals of one round a worker has in flight at once. The margin after a failed
 * renewal covers one call's latency (see `renewIntervalMs`), so a round sends all its renewals
 * at its start: in waves, a slow store would delay the last wave by the latency of every wave
 * before it. 50 is the AWS SDK's default socket pool (`NodeHttpHandler` `maxSockets`), beyond
 * which requests queue in the client anyway. Java KCL: `maxLeaseRenewalThreads` (20). @internal
 */
export const RENEWAL_CONCURRENCY = 50;
