/** The journal of what test processors saw, shared by the emulator tests and the in-memory Worker harness. */
import type { ProcessRecordsInput, ShardEndedInput, ShardRecordProcessor, ShutdownRequestedInput } from '@kcl-ts/processor';

/** One processed record, as a test processor saw it. */
export interface Seen {
  readonly workerId: string;
  readonly shardId: string;
  readonly key: string;
  readonly n: number;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | undefined;
  readonly order: number;
}

/** Shared journal of everything processed by every worker of a test. */
export class Journal {
  readonly seen: Seen[] = [];
  readonly ended = new Map<string, number>(); // shardId → journal length when shardEnded ran
  readonly events: string[] = [];

  processor(workerId: string, shardId: string, opts: { checkpointEachBatch?: boolean; failOn?: (s: Seen, attempt: number) => boolean } = {}): ShardRecordProcessor {
    const journal = this;
    const attempts = new Map<string, number>();
    return {
      initialize: () => {
        journal.events.push(`init ${workerId} ${shardId}`);
      },
      async processRecords({ records, checkpointer }: ProcessRecordsInput) {
        const batch: Seen[] = records.map((r) => {
          const { k, n } = JSON.parse(Buffer.from(r.data).toString('utf8')) as { k: string; n: number };
          return { workerId, shardId, key: k, n, sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber, order: 0 };
        });
        for (const s of batch) {
          const id = `${s.sequenceNumber}/${s.subSequenceNumber ?? ''}`;
          const attempt = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, attempt);
          if (opts.failOn?.(s, attempt)) throw new Error(`injected failure at ${s.key}#${s.n} (attempt ${attempt})`);
        }
        for (const s of batch) journal.seen.push({ ...s, order: journal.seen.length });
        if (opts.checkpointEachBatch ?? true) await checkpointer.checkpoint();
      },
      shardEnded: async ({ checkpointer }: ShardEndedInput) => {
        journal.ended.set(shardId, journal.seen.length);
        journal.events.push(`end ${workerId} ${shardId}`);
        await checkpointer.checkpoint();
      },
      shutdownRequested: async ({ checkpointer }: ShutdownRequestedInput) => {
        journal.events.push(`shutdown ${workerId} ${shardId}`);
        await checkpointer.checkpoint();
      },
      leaseLost: () => {
        journal.events.push(`lost ${workerId} ${shardId}`);
      },
    };
  }

  /** Distinct (key, n) pairs processed. */
  distinct(): Set<string> {
    return new Set(this.seen.map((s) => `${s.key}#${s.n}`));
  }

  duplicates(): number {
    return this.seen.length - this.distinct().size;
  }

  /** Keys whose first-processing order differs from the put order. */
  orderViolations(): string[] {
    const next = new Map<string, number>();
    const bad: string[] = [];
    const first = new Set<string>();
    for (const s of this.seen) {
      const id = `${s.key}#${s.n}`;
      if (first.has(id)) continue;
      first.add(id);
      const expected = next.get(s.key) ?? 0;
      if (s.n !== expected) bad.push(`${s.key}: expected #${expected}, got #${s.n}`);
      next.set(s.key, Math.max(expected, s.n + 1));
    }
    return bad;
  }
}
