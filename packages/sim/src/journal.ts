/**
 * The in-memory journal of a simulation, in the line format of `@kcl-ts/fleet` (so its
 * invariant checker reads it), stamped with simulated time.
 * @module
 */
import type { JournalLine } from '@kcl-ts/fleet';

/** A journal line without the fields the journal stamps (`worker`, `at`, `pid`). */
export type JournalBody = JournalLine extends infer L ? (L extends JournalLine ? Omit<L, 'worker' | 'at' | 'pid'> : never) : never;

/** Fraction of a millisecond between two stamps taken in the same simulated millisecond. */
const TICK = 1e-6;

/**
 * Collects the journal lines of every worker of one simulation.
 *
 * Times are *stamps*: the simulated millisecond plus a sub-millisecond sequence, so every
 * stamp is unique and stamps follow the real order of events even when many happen in the
 * same simulated millisecond (a lease acquired and a checkpoint sent right after it must
 * not look simultaneous to the oracle).
 */
export class SimJournal {
  /** Every line, in the order written. */
  readonly lines: JournalLine[] = [];
  private readonly processed = new Set<string>();
  private lastMs = -1;
  private inMs = 0;
  private records = 0;

  /** @param now the simulated time source (ms). */
  constructor(private readonly now: () => number) {}

  /** A fresh stamp: the current simulated time, after every stamp taken before. */
  stamp(): number {
    const ms = this.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.inMs = 0;
    }
    return ms + ++this.inMs * TICK;
  }

  /** Appends a line of `worker`, stamped now (or with `at`, a stamp taken earlier); returns its stamp. */
  write(worker: string, body: JournalBody, at = this.stamp()): number {
    this.lines.push({ worker, at, pid: 0, ...body } as JournalLine);
    if (body.type === 'record') {
      this.processed.add(`${body.key}#${body.n}`);
      this.records++;
    }
    return at;
  }

  /** Record lines written so far (a progress measure). */
  get recordLines(): number {
    return this.records;
  }

  /** True once some epoch processed record `n` of `key`. */
  wasProcessed(key: string, n: number): boolean {
    return this.processed.has(`${key}#${n}`);
  }
}
