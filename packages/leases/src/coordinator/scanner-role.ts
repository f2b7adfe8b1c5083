import type { CoordinatorRole } from '../refresher.js';
import type { CoordinatorContext } from './context.js';

/** The name of the role item of the `single-scanner` coordination mode. */
export const SCANNER_ROLE = 'scanner';

/**
 * Tells the fleet that a lease changed hands to a worker that does not know it yet (the
 * scanner assigned it, or its owner handed it over): moves the `nudges` of the scanner role,
 * which every worker reads each round anyway. A worker asks the owner index for its leases
 * only when that value moved (see `SingleScannerTaker`), so in a steady fleet nobody queries
 * the index. The holder's liveness is judged by the role's counter, which a nudge does not
 * change. One write per round or handoff, whatever the number of leases. No-op outside the
 * `single-scanner` mode; never throws (a lost signal only delays adoption until the next
 * periodic query, or until the scanner reassigns the lease once it expired).
 * @internal
 */
export async function announceNewOwners(ctx: CoordinatorContext): Promise<void> {
  if (ctx.config.coordination !== 'single-scanner') return;
  try {
    await ctx.refresher.nudgeRole!(SCANNER_ROLE, ctx.signal);
  } catch (error) {
    ctx.logger.warn({ err: error }, 'could not signal new lease owners through the scanner role; they find their leases at their next periodic index query');
  }
}

/**
 * The scanner role of the `single-scanner` mode, held like a lease: the holder renews it with
 * its leases; every other worker reads it (eventually consistent, half a read unit) each
 * round and claims it once its counter has not moved for `leaseDurationMs` of its own
 * monotonic clock, or at once when it is free or missing. No lock with a long timeout: the
 * role moves about one lease duration after its holder dies.
 *
 * The role doubles as the holder's heartbeat: a holder that cannot renew the role for
 * `leaseDurationMs - selfFencingMarginMs` stops processing every lease it holds (see
 * `HeldLeases.fenceAllAt`). So when a peer claims the role — having watched its counter not
 * move for a lease duration — the previous holder has fenced all its leases, and the new
 * holder may reassign them at once instead of watching each for another lease duration.
 * @internal
 */
export class ScannerRole {
  private held: { role: CoordinatorRole; lastSentAt: number } | undefined;
  private seen: { role: CoordinatorRole | undefined; changedAt: number } | undefined;
  private lastHolder: string | undefined;
  /** The role's `nudges` at this worker's latest read (see {@link announceNewOwners}). */
  private lastNudges = 0;
  /** The holder this worker replaced by its latest claim, whose leases it may reassign at once; read once. */
  private replaced: string | undefined;

  constructor(private readonly ctx: CoordinatorContext) {}

  /** True while this worker holds the role and is within its self-fencing deadline. */
  isHeld(now = this.ctx.clock.elapsed()): boolean {
    return this.held !== undefined && now < this.deadline()!;
  }

  /** The holder as last seen by this worker (itself when it holds the role). */
  holder(): string | undefined {
    return this.lastHolder;
  }

  /** Monotonic time by which the holder must stop processing everything, while it holds the role. */
  deadline(): number | undefined {
    return this.held === undefined ? undefined : this.held.lastSentAt + this.ctx.config.leaseDurationMs - this.ctx.config.selfFencingMarginMs;
  }

  /**
   * The role's `nudges` as this worker last read it: it moves whenever a lease changes hands
   * to a worker that has to find it in the owner index (see {@link announceNewOwners}).
   */
  newOwnerSignal(): number {
    return this.lastNudges;
  }

  /** The previous holder this worker replaced by claiming the role (once; `undefined` after). */
  takeReplacedHolder(): string | undefined {
    const replaced = this.replaced;
    this.replaced = undefined;
    return replaced;
  }

  /**
   * A non-holder's round: reads the role and claims it if it is missing, free or expired.
   * True if this worker holds the role afterwards. Throws store errors.
   */
  async check(): Promise<boolean> {
    const { refresher, clock, signal, workerId } = this.ctx;
    if (this.isHeld()) return true;
    if (this.held !== undefined) this.lose('expired');
    const role = await refresher.getRole!(SCANNER_ROLE, signal);
    const now = clock.elapsed();
    this.lastNudges = role?.nudges ?? 0;
    let seen = this.seen;
    if (seen === undefined || seen.role?.counter !== role?.counter || seen.role?.holder !== role?.holder) {
      seen = { role, changedAt: now };
      this.seen = seen;
    }
    this.noteHolder(role?.holder);
    const expired = role === undefined || role.holder === undefined || role.holder === workerId || now - seen.changedAt >= this.ctx.config.leaseDurationMs;
    if (!expired) return false;
    const sentAt = clock.elapsed();
    const claimed = await refresher.claimRole!(SCANNER_ROLE, role, workerId, signal);
    if (claimed === undefined) return false;
    this.held = { role: claimed, lastSentAt: sentAt };
    this.ctx.held.fenceAllAt = this.deadline();
    this.replaced = role?.holder !== undefined && role.holder !== workerId ? role.holder : undefined;
    this.ctx.logger.info({ role: SCANNER_ROLE, previous: role?.holder }, 'claimed the scanner role');
    this.noteHolder(workerId);
    return true;
  }

  /** The holder's renewal (with its lease renewals). A lost condition gives the role up. Throws store errors. */
  async renew(): Promise<void> {
    const { refresher, clock, signal, workerId } = this.ctx;
    const held = this.held;
    if (held === undefined) return;
    if (clock.elapsed() >= this.deadline()!) {
      this.lose('expired');
      return;
    }
    const sentAt = clock.elapsed();
    const renewed = await refresher.renewRole!(held.role, workerId, signal);
    if (this.held !== held) return;
    if (renewed === undefined) {
      this.lose('taken');
      return;
    }
    this.held = { role: renewed, lastSentAt: sentAt };
    this.ctx.held.fenceAllAt = this.deadline();
  }

  /** Gives the role up (on stop), so a peer claims it on its next round. Never throws. */
  async release(signal?: AbortSignal): Promise<void> {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    this.ctx.held.fenceAllAt = undefined;
    try {
      await this.ctx.refresher.releaseRole!(held.role, this.ctx.workerId, signal);
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'could not release the scanner role; a peer claims it once it expires');
    }
  }

  private lose(why: 'expired' | 'taken'): void {
    this.held = undefined;
    this.ctx.logger.warn({ role: SCANNER_ROLE, why }, 'lost the scanner role');
    if (why === 'expired') this.noteHolder(undefined);
  }

  private noteHolder(holder: string | undefined): void {
    if (holder === this.lastHolder) return;
    this.lastHolder = holder;
    this.ctx.emitter.emit('roleChanged', SCANNER_ROLE, holder);
  }
}
