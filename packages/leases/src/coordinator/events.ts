/**
 * Events of the {@link LeaseCoordinator} and the small typed emitter that carries them.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '@kcl-ts/processor';
import type { Lease } from '../lease.js';

/**
 * Why a lease stopped being held by this worker.
 * - `renewal-failed`: a renewal or fenced update lost its condition (the lease changed under us).
 * - `expired`: it could not be renewed for the lease duration; this worker fenced itself.
 * - `handed-off`: it was transferred to the peer that requested a graceful handoff.
 * - `released`: this worker gave it up on purpose (`releaseLease`, `stop()`).
 * - `taken`: a peer owns it now (seen when a renewal or update failed).
 */
export type LeaseLostReason = 'renewal-failed' | 'expired' | 'handed-off' | 'released' | 'taken' | 'duplicate-worker-id';

/** What one taker round saw and did; emitted as `takerRun` and returned by `runTakerOnce()`. */
export interface TakerRunSummary {
  /** Leases returned by the scan. */
  readonly leasesSeen: number;
  /** Number of live workers (owners of unexpired leases, plus this one). */
  readonly liveWorkers: number;
  /** Balancing target: how many active leases this worker aims to hold. */
  readonly target: number;
  /** Leases held after the round (including stolen leases not yet processed). */
  readonly held: number;
  /** Keys of free or expired leases taken. */
  readonly taken: readonly string[];
  /** Keys of leases for which a graceful handoff was requested. */
  readonly handoffsRequested: readonly string[];
  /** Keys of leases taken hard from a live owner (steal, or a handoff that timed out). */
  readonly stolen: readonly string[];
  /** Keys of leases the table says this worker owns and that it now holds (handoffs received, leases of a previous run). */
  readonly adopted: readonly string[];
  /** How long the round took (scan and writes), in ms of the coordinator's clock. */
  readonly durationMs: number;
}

/** What one renewal round did; emitted as `renewerRun`. */
export interface RenewerRunSummary {
  /** Leases held after the round. */
  readonly held: number;
  /** Leases renewed by this round. */
  readonly renewed: number;
  /** Renewals that failed on a store error (the lease stays held until its deadline). */
  readonly failed: number;
  /** How long the round took, in ms of the coordinator's clock. */
  readonly durationMs: number;
}

/** Events of the {@link LeaseCoordinator}, as `[argument tuple]` per event name. */
export interface LeaseCoordinatorEvents {
  /** This worker now holds `lease` and may process its shard. */
  leaseGained: [lease: Lease];
  /** This worker no longer holds `lease` and must stop processing its shard. */
  leaseLost: [lease: Lease, reason: LeaseLostReason];
  /** A loop round failed; the loop goes on. Emitted only when a listener is attached. */
  error: [error: Error];
  /** A taker round finished. */
  takerRun: [summary: TakerRunSummary];
  /** A renewal round finished. */
  renewerRun: [summary: RenewerRunSummary];
  /** A graceful handoff of a lease this worker owned finished: drained, checkpointed and transferred. */
  handedOff: [lease: Lease, to: string, durationMs: number];
  /**
   * `single-scanner` mode: the holder of a coordination role (`scanner`), as this worker last
   * saw it, changed; `holder` is `undefined` when the role is free or expired. Every worker
   * reads the role each taker round, so every worker emits it within a round of the change.
   */
  roleChanged: [role: string, holder: string | undefined];
}

/** A listener of event `E`. */
export type LeaseCoordinatorListener<E extends keyof LeaseCoordinatorEvents> = (...args: LeaseCoordinatorEvents[E]) => void;

/**
 * A typed wrapper over `node:events` for {@link LeaseCoordinatorEvents}. `emit` never throws:
 * a throwing listener is logged, and `error` is emitted only when someone listens, so a loop
 * error never crashes the process through an unhandled `'error'` event.
 * @internal
 */
export class CoordinatorEmitter {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger: Logger) {
    this.emitter.setMaxListeners(0);
  }

  /** Adds a listener. */
  on<E extends keyof LeaseCoordinatorEvents>(event: E, listener: LeaseCoordinatorListener<E>): void {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
  }

  /** Removes a listener. */
  off<E extends keyof LeaseCoordinatorEvents>(event: E, listener: LeaseCoordinatorListener<E>): void {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
  }

  /** Adds a listener called at most once. */
  once<E extends keyof LeaseCoordinatorEvents>(event: E, listener: LeaseCoordinatorListener<E>): void {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
  }

  /** Calls the listeners of `event`; never throws (see the class comment). */
  emit<E extends keyof LeaseCoordinatorEvents>(event: E, ...args: LeaseCoordinatorEvents[E]): void {
    if (event === 'error' && this.emitter.listenerCount('error') === 0) return;
    try {
      this.emitter.emit(event, ...args);
    } catch (error) {
      this.logger.error({ err: error, event }, 'a lease coordinator event listener threw');
    }
  }
}
