import type { CoordinatorRole } from '../refresher.js';
import type { CoordinatorContext } from './context.js';
import { heartbeatRoleName } from './expiry-tracker.js';

/**
 * The heartbeat of the `worker-heartbeat` renewal mode: one role item per process
 * (`worker:<workerId>#<incarnation>`), renewed every renewal round instead of every lease. Each successful
 * renewal moves the self-fencing base time of every held lease (`lastSentAt`) to the moment
 * it was sent, so a worker that cannot renew its heartbeat stops processing everything by
 * `leaseDurationMs - selfFencingMarginMs`, before any peer watching the heartbeat can judge
 * its leases expired. A peer that wants one of its leases moves the heartbeat's `nudges`;
 * the holder then renews each lease once, which shows it the handoff requests.
 * @internal
 */
export class WorkerHeartbeat {
  private role: CoordinatorRole | undefined;
  private nudgesSeen: number | undefined;

  constructor(private readonly ctx: CoordinatorContext) {}

  /** The role name of this worker's heartbeat. */
  get name(): string {
    return heartbeatRoleName(this.ctx.workerId, this.ctx.owner.incarnation);
  }

  /**
   * Renews the heartbeat (claiming it first if needed: at start, or after another process
   * with this worker id took it). Returns true when a peer nudged it since the last renewal.
   * Throws store errors; a lost condition is retried by a claim on the next round.
   */
  async renew(): Promise<boolean> {
    const { refresher, clock, held, signal, workerId } = this.ctx;
    const sentAt = clock.elapsed();
    let next: CoordinatorRole | undefined;
    if (this.role !== undefined) next = await refresher.renewRole!(this.role, workerId, signal);
    if (next === undefined) {
      const seen = await refresher.getRole!(this.name, signal);
      next = await refresher.claimRole!(this.name, seen, workerId, signal);
      if (next === undefined) {
        this.role = undefined;
        return false;
      }
    }
    this.role = next;
    for (const entry of held.all()) if (entry.lastSentAt < sentAt) entry.lastSentAt = sentAt;
    const nudged = this.nudgesSeen !== undefined && (next.nudges ?? 0) !== this.nudgesSeen;
    this.nudgesSeen = next.nudges ?? 0;
    return nudged;
  }

  /** Releases the heartbeat on stop (peers then treat any lease still named after this worker as free). Never throws. */
  async release(signal?: AbortSignal): Promise<void> {
    const role = this.role;
    this.role = undefined;
    if (role === undefined) return;
    try {
      await this.ctx.refresher.releaseRole!(role, this.ctx.workerId, signal);
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'could not release the worker heartbeat; peers wait for it to expire');
    }
  }
}
