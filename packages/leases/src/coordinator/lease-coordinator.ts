import pLimit from 'p-limit';
import { randomUUID } from 'node:crypto';
import { AbortError, ShutdownError, silentLogger, systemClock, type Clock, type Logger } from '@kcl-ts/processor';
import type { Lease, LeaseUpdate } from '../lease.js';
import type { LeaseRefresher } from '../refresher.js';
import { asError, LEASE_WRITE_CONCURRENCY, type CoordinatorContext } from './context.js';
import { CoordinatorEmitter, type LeaseCoordinatorEvents, type LeaseCoordinatorListener, type TakerRunSummary } from './events.js';
import { HeldLeases } from './held-leases.js';
import { resolveLeaseCoordinatorConfig, type LeaseCoordinatorConfig } from './options.js';
import { LeaseRenewer } from './renewer.js';
import { ScannerRole, SCANNER_ROLE } from './scanner-role.js';
import { SingleScannerTaker } from './single-scanner.js';
import { LeaseTaker } from './taker.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';

/** What a {@link LeaseCoordinator} is built from. */
export interface LeaseCoordinatorDeps {
  /** The lease table. */
  readonly refresher: LeaseRefresher;
  /** This worker's id, unique in the fleet; stored as `leaseOwner`. */
  readonly workerId: string;
  /** Source of time. @default systemClock */
  readonly clock?: Clock;
  /** Logger; the coordinator logs through a child with `component: 'lease-coordinator'`. @default silentLogger() */
  readonly logger?: Logger;
  /** Tuning, resolved by {@link resolveLeaseCoordinatorConfig}. @default resolveLeaseCoordinatorConfig() */
  readonly config?: LeaseCoordinatorConfig;
  /**
   * Called on the owner when a peer requested a graceful handoff of `lease` to `to`: drain the
   * shard and checkpoint (with {@link LeaseCoordinator.updateLease}), then resolve; the lease is
   * transferred afterwards. Renewals go on meanwhile. @default resolves at once
   */
  readonly onHandoffRequested?: (lease: Lease, to: string) => Promise<void>;
  /** Uniform random numbers in [0, 1) for the order of takes; inject a seeded one for deterministic simulations. @default Math.random */
  readonly random?: () => number;
  /**
   * A token unique to this coordinator's process, stored with every lease it takes or renews
   * (`ownerIncarnation`), so two processes started with the same `workerId` find each other.
   * @default a random UUID
   */
  readonly incarnation?: string;
  /**
   * Which leases this worker may take (and counts when balancing); leases it holds already
   * always count. A multi-stream worker passes "the lease's stream is one it consumes", so a
   * stream removed from its list, or not yet in it, is left alone. @default every lease
   */
  readonly canTake?: (lease: Lease) => boolean;
}

/**
 * The lease coordinator of one worker: a renewer that keeps held leases alive and fences
 * itself when it cannot, and a taker that scans the table, takes free and expired leases,
 * and balances the fleet by graceful handoffs (or hard steals). See the package README for
 * the rules.
 *
 * ```ts
 * const coordinator = new LeaseCoordinator({ refresher, workerId, onHandoffRequested: drain });
 * coordinator.on('leaseGained', (lease) => startConsumer(lease));
 * coordinator.on('leaseLost', (lease, reason) => stopConsumer(lease, reason));
 * await coordinator.start();
 * // ... on shutdown:
 * coordinator.stopTaking(); await drainAll(); await coordinator.stop();
 * ```
 */
export class LeaseCoordinator {
  /** This worker's id. */
  readonly workerId: string;
  /** The resolved configuration. */
  readonly config: LeaseCoordinatorConfig;

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly emitter: CoordinatorEmitter;
  private readonly held: HeldLeases;
  private readonly renewer: LeaseRenewer;
  private readonly taker: LeaseTaker;
  /** The scanner role and its round, in the `single-scanner` mode. */
  private readonly scanner: { readonly role: ScannerRole; readonly taker: SingleScannerTaker } | undefined;
  /** This worker's heartbeat, in the `worker-heartbeat` renewal mode. */
  private readonly heartbeat: WorkerHeartbeat | undefined;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private takerChain: Promise<unknown> = Promise.resolve();
  private renewChain: Promise<unknown> = Promise.resolve();
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private stopped = false;

  /** @throws TypeError on invalid options or a missing worker id. */
  constructor(deps: LeaseCoordinatorDeps) {
    if (typeof deps.workerId !== 'string' || deps.workerId.length === 0) {
      throw new TypeError(`workerId must be a non-empty string, got ${JSON.stringify(deps.workerId)}`);
    }
    this.workerId = deps.workerId;
    this.config = deps.config ?? resolveLeaseCoordinatorConfig();
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger()).child({ component: 'lease-coordinator', workerId: deps.workerId });
    this.emitter = new CoordinatorEmitter(this.logger);
    this.held = new HeldLeases(this.clock, this.config, this.emitter, this.logger);
    const ctx: CoordinatorContext = {
      workerId: this.workerId,
      owner: { workerId: this.workerId, incarnation: deps.incarnation ?? randomUUID() },
      refresher: deps.refresher,
      clock: this.clock,
      logger: this.logger,
      config: this.config,
      emitter: this.emitter,
      held: this.held,
      random: deps.random ?? Math.random,
      ...(deps.canTake && { canTake: deps.canTake }),
      signal: this.abort.signal,
      reportError: (error, message, fields) => {
        if (this.abort.signal.aborted) {
          this.logger.debug({ err: error, ...fields }, `${message} (while stopping)`);
          return;
        }
        this.logger.error({ err: error, ...fields }, message);
        this.emitter.emit('error', asError(error));
      },
    };
    this.renewer = new LeaseRenewer(ctx, deps.onHandoffRequested ?? (async () => {}));
    this.taker = new LeaseTaker(ctx, this.renewer);
    if (this.config.coordination === 'single-scanner') {
      const r = deps.refresher;
      const needed = ['listLeaseKeysForOwner', 'getRole', 'claimRole', 'renewRole', 'releaseRole'] as const;
      const heartbeatNeeds = ['nudgeRole', 'deleteRole', 'scanCoordination', 'cancelHandoff'] as const;
      const missing = [...needed, ...(this.config.renewal === 'worker-heartbeat' ? heartbeatNeeds : [])].filter((m) => typeof r[m] !== 'function');
      if (missing.length > 0) {
        throw new TypeError(`coordination 'single-scanner' needs a refresher with ${missing.join(', ')} (DynamoDbLeaseRefresher and InMemoryLeaseRefresher have them)`);
      }
      const role = new ScannerRole(ctx);
      this.scanner = { role, taker: new SingleScannerTaker(ctx, this.taker, this.renewer, role) };
    }
    this.heartbeat = this.config.renewal === 'worker-heartbeat' ? new WorkerHeartbeat(ctx) : undefined;
  }

  /** Adds a listener of `event`. */
  on<E extends keyof LeaseCoordinatorEvents>(event: E, listener: LeaseCoordinatorListener<E>): this {
    this.emitter.on(event, listener);
    return this;
  }

  /** Removes a listener of `event`. */
  off<E extends keyof LeaseCoordinatorEvents>(event: E, listener: LeaseCoordinatorListener<E>): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Adds a listener called at most once. */
  once<E extends keyof LeaseCoordinatorEvents>(event: E, listener: LeaseCoordinatorListener<E>): this {
    this.emitter.once(event, listener);
    return this;
  }

  /**
   * Runs a first taker round (adopting leases a previous run of this worker id still owns,
   * taking free ones), then starts the renewer, taker and self-fencing loops on the clock.
   * Idempotent: every call returns the same promise. Rejects if the first scan fails (the
   * coordinator can then be started again), or with `ShutdownError` after `stop()`.
   */
  start(): Promise<void> {
    if (this.stopPromise !== undefined) return Promise.reject(new ShutdownError('the lease coordinator was stopped; create a new one'));
    this.startPromise ??= this.doStart().catch((error: unknown) => {
      this.startPromise = undefined;
      throw error;
    });
    return this.startPromise;
  }

  /**
   * Stops the loops (aborting their sleeps and, through the refresher's `AbortSignal`, the
   * store calls of rounds in flight), waits for those rounds to end, then — with
   * `releaseLeasesOnStop` — evicts every held lease (emitting `leaseLost` 'released'), or
   * otherwise drops them locally. Idempotent (one shared promise); never throws: a failed
   * eviction is logged and the lease expires for peers as usual. `signal` bounds the
   * evictions: once it aborts, the ones still in flight are abandoned (those leases expire).
   */
  stop(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.stopPromise ??= this.doStop(options.signal);
    return this.stopPromise;
  }

  /**
   * First step of a graceful shutdown: the taker stops taking, stealing and adopting
   * (leases handed to this worker afterwards are released at once); renewals go on.
   */
  stopTaking(): void {
    this.taker.stopTaking();
  }

  /** The leases this worker holds and may process (active, not past the self-fencing deadline). */
  heldLeases(): Lease[] {
    const now = this.clock.elapsed();
    return this.held.all().filter((entry) => this.held.isLive(entry, now)).map((entry) => entry.lease);
  }

  /** The held lease of `leaseKey` (see {@link heldLeases}), or `undefined`. */
  getHeldLease(leaseKey: string): Lease | undefined {
    const entry = this.held.get(leaseKey);
    return entry !== undefined && this.held.isLive(entry, this.clock.elapsed()) ? entry.lease : undefined;
  }

  /**
   * Like {@link getHeldLease}, but re-read from the table first: after a write whose reply was
   * lost (it may have applied), the held copy — its checkpoint included — can be behind. Use it
   * before starting a new processor on a lease already held. Throws store errors.
   */
  refreshHeldLease(leaseKey: string): Promise<Lease | undefined> {
    return this.renewer.refreshHeld(leaseKey);
  }

  /** True if this worker holds `leaseKey` and may process it (see {@link heldLeases}). */
  holds(leaseKey: string): boolean {
    return this.getHeldLease(leaseKey) !== undefined;
  }

  /**
   * Fenced write to a held lease (checkpoint, pending checkpoint, child shard ids), using the
   * held counter, serialised with renewals of the same lease. On success the held copy is
   * updated and returned. Throws `LeaseLostError` if the lease is not held, or if the fence
   * fails (the lease is then dropped and `leaseLost` emitted); store errors propagate
   * (`DependencyError`) and leave the lease held.
   */
  updateLease(leaseKey: string, update: LeaseUpdate, signal?: AbortSignal): Promise<Lease> {
    return this.renewer.updateLease(leaseKey, update, signal);
  }

  /**
   * Releases one held lease (waits for a renewal in flight): it is dropped locally, `leaseLost`
   * 'released' is emitted, and its owner is cleared in the table so a peer can take it at once.
   * Resolves `false` if it was not held or could not be evicted; never rejects.
   */
  releaseLease(leaseKey: string): Promise<boolean> {
    return this.renewer.release(leaseKey);
  }

  /** The leases of the latest taker scan (for shard sync, status and the parent gate). */
  latestLeases(): readonly Lease[] {
    return this.taker.latestLeases();
  }

  /** Live workers by the latest scan (owners of unexpired leases, plus this one), sorted. */
  liveWorkers(): string[] {
    return [...this.taker.liveWorkers()];
  }

  /**
   * True when this worker has the smallest id among {@link liveWorkers}: a way to pick one
   * runner (e.g. for shard sync) without a lock. If the leader dies, its leases expire and
   * the next-smallest worker becomes leader within about one lease duration.
   */
  isLeader(): boolean {
    if (this.scanner !== undefined) return this.scanner.role.isHeld();
    return this.taker.liveWorkers()[0] === this.workerId;
  }

  /**
   * The coordination role of the `single-scanner` mode: its name and its holder as this
   * worker last saw it (`undefined` while free or expired), and whether this worker holds it.
   * `undefined` in the `every-worker` mode. The same holder is in the table: the item with
   * `leaseKey` `kcl-ts:role:scanner`, attribute `roleHolder`. Changes are emitted as `roleChanged`.
   */
  coordinatorRole(): { readonly role: string; readonly holder: string | undefined; readonly heldByMe: boolean } | undefined {
    if (this.scanner === undefined) return undefined;
    const heldByMe = this.scanner.role.isHeld();
    return { role: SCANNER_ROLE, holder: heldByMe ? this.workerId : this.scanner.role.holder(), heldByMe };
  }

  /** Runs one taker round now (serialised with the loop's rounds). Rejects if the scan fails. */
  runTakerOnce(): Promise<TakerRunSummary> {
    if (this.stopped) return Promise.reject(new ShutdownError('the lease coordinator is stopped'));
    const scanner = this.scanner;
    const round = this.takerChain.then(() => (scanner !== undefined ? scanner.taker.runOnce() : this.taker.runOnce()));
    this.takerChain = round.catch(() => undefined);
    return round;
  }

  /** Runs one renewal round now (serialised with the loop's rounds); store errors are reported, not thrown. */
  runRenewerOnce(): Promise<void> {
    if (this.stopped) return Promise.reject(new ShutdownError('the lease coordinator is stopped'));
    const role = this.scanner?.role;
    const heartbeat = this.heartbeat;
    const round = this.renewChain.then(async () => {
      // The scanner role is the holder's heartbeat for every lease it holds. It is renewed
      // beside the leases, not before them, so a slow store delays the round by one call, not
      // two (the margin after a failed renewal is for one call). The leases stay fenced by the
      // role: its deadline moves only once its renewal succeeded.
      const roleRenewal = role?.renew().catch((error: unknown) => this.logger.warn({ err: error }, 'scanner role renewal failed; retrying next round'));
      if (heartbeat === undefined) {
        await Promise.all([roleRenewal, this.renewer.renewAll()]);
        return;
      }
      // Worker-heartbeat mode: one write for the worker; each lease only when a peer nudged
      // the heartbeat (a handoff request waits on one of them).
      const nudged = await heartbeat.renew().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'worker heartbeat renewal failed; retrying next round');
        return false;
      });
      this.held.enforce(this.clock.elapsed());
      if (nudged) await this.renewer.renewAll();
      await roleRenewal;
    });
    this.renewChain = round.catch(() => undefined);
    return round;
  }

  /**
   * Resolves once every graceful handoff under way (the owner side: drain, then transfer)
   * has finished. For tests and simulations that drive rounds by hand.
   * @internal
   */
  settleHandoffs(): Promise<void> {
    return this.renewer.settleHandoffs();
  }

  private async doStart(): Promise<void> {
    try {
      // Worker-heartbeat mode: the heartbeat exists before the first lease is taken.
      if (this.heartbeat !== undefined) await this.heartbeat.renew();
      await this.runTakerOnce();
    } catch (error) {
      if (this.stopPromise !== undefined) throw new ShutdownError('the lease coordinator was stopped while starting', { cause: error });
      throw error;
    }
    if (this.stopPromise !== undefined) return;
    const signal = this.abort.signal;
    this.loops = [
      this.loop('renewer', this.config.renewIntervalMs, signal, () => this.runRenewerOnce()),
      this.loop('taker', this.config.takerIntervalMs, signal, () => this.runTakerOnce()),
      this.fenceLoop(signal),
    ];
    this.logger.info({ config: this.config }, 'lease coordinator started');
  }

  private async doStop(signal: AbortSignal | undefined): Promise<void> {
    this.taker.stopTaking();
    this.abort.abort(new AbortError('the lease coordinator is stopping'));
    await Promise.allSettled(this.loops);
    await Promise.allSettled([this.startPromise, this.takerChain, this.renewChain]);
    if (this.scanner !== undefined && this.config.releaseLeasesOnStop) await this.scanner.role.release(signal);
    if (this.config.releaseLeasesOnStop) {
      await pLimit(LEASE_WRITE_CONCURRENCY).map([...this.held.keys()], async (key) => {
        await this.renewer.release(key, signal);
      });
    } else {
      this.held.dropAll('released');
    }
    // After the leases: a released heartbeat makes peers treat any lease still named after
    // this worker as free at once.
    if (this.heartbeat !== undefined && this.config.releaseLeasesOnStop) await this.heartbeat.release(signal);
    this.stopped = true;
    this.logger.info('lease coordinator stopped');
  }

  /** Runs `round` every `intervalMs` (measured from the start of each round) until aborted. */
  private async loop(name: string, intervalMs: number, signal: AbortSignal, round: () => Promise<unknown>): Promise<void> {
    let next = this.clock.elapsed() + intervalMs;
    for (;;) {
      if (!(await this.sleepUntil(next, signal))) return;
      next = this.clock.elapsed() + intervalMs;
      try {
        await round();
      } catch (error) {
        if (signal.aborted) return;
        this.logger.error({ err: error, loop: name }, `lease ${name} round failed; retrying next interval`);
        this.emitter.emit('error', asError(error));
      }
    }
  }

  /**
   * Self-fencing watchdog, independent of the renewer (whose round may hang on a slow store):
   * wakes at the earliest deadline or activation time and enforces it.
   */
  private async fenceLoop(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.elapsed();
      this.held.enforce(now);
      const next = Math.min(this.held.nextEventAt() ?? Number.POSITIVE_INFINITY, now + this.config.renewIntervalMs);
      if (!(await this.sleepUntil(Math.max(next, now + 1), signal))) return;
    }
  }

  /** Sleeps until monotonic time `at`; false if aborted. */
  private async sleepUntil(at: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    try {
      await this.clock.sleep(Math.max(0, at - this.clock.elapsed()), signal);
      return true;
    } catch (error) {
      if (signal.aborted) return false;
      throw error;
    }
  }
}
