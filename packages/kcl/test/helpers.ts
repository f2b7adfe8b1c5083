import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ProcessRecordsInput, ShardEndedInput, ShardRecordProcessor, ShutdownRequestedInput } from '@kcl-ts/processor';
import { Worker, type WorkerOptions } from '../src/index.js';
import { putRecords, testStack, uniqueName } from '../../../test-support/stack.js';

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

/** Puts `count` records spread over `keys` partition keys; each payload carries its per-key number. */
export async function putKeyed(client: KinesisClient, streamName: string, count: number, keys: number, offset = 0): Promise<void> {
  const records = [];
  for (let i = offset; i < offset + count; i++) {
    const k = `key-${i % keys}`;
    records.push({ partitionKey: k, data: Buffer.from(JSON.stringify({ k, n: Math.floor(i / keys) })) });
  }
  await putRecords(client, streamName, records);
}

/** Fast settings for integration tests on a shared, slow machine (correctness does not depend on them). */
export const FAST = {
  leases: { leaseDurationMs: 3_000, takerIntervalMs: 500 },
  retrieval: { polling: { idleTimeBetweenReadsMs: 100 } },
  shardSync: { intervalMs: 2_000, parentPollIntervalMs: 250 },
  processing: { retryBaseMs: 50, retryMaxMs: 200, shutdownTimeoutMs: 15_000 },
  metrics: { publisher: false },
} as const satisfies Partial<WorkerOptions>;

const GROUPS = ['leases', 'leaseTable', 'retrieval', 'shardSync', 'processing', 'metrics'] as const;

/** `parts` merged left to right, group by group (and `retrieval.polling` / `retrieval.fanOut` key by key). */
export function mergeOptions<T extends Partial<WorkerOptions>>(...parts: readonly Partial<WorkerOptions>[]): T {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      const group = (GROUPS as readonly string[]).includes(key) && typeof value === 'object' && value !== null;
      out[key] = group ? { ...(out[key] as object), ...value } : value;
    }
  }
  const retrieval = parts.map((p) => p.retrieval).filter((r) => r !== undefined);
  if (retrieval.length > 0) {
    const polling = Object.assign({}, ...retrieval.map((r) => r.polling));
    const fanOut = Object.assign({}, ...retrieval.map((r) => r.fanOut));
    out['retrieval'] = { ...(out['retrieval'] as object), polling, ...(Object.keys(fanOut).length > 0 && { fanOut }) };
  }
  return out as T;
}

/** Builds a Worker against the test stack. */
export function makeWorker(applicationName: string, streamName: string, journal: Journal, extra: Partial<WorkerOptions> & { workerId: string }, processorOpts?: Parameters<Journal['processor']>[2]): Worker {
  const stack = testStack();
  return new Worker({
    kinesisClient: stack.kinesisClient(),
    dynamoDbClient: stack.dynamoDbClient(),
    initialPosition: 'TRIM_HORIZON',
    ...mergeOptions<WorkerOptions>({ applicationName, streamName, processorFactory: (shardId: string) => journal.processor(extra.workerId, shardId, processorOpts) }, FAST, extra),
  });
}

export { testStack, uniqueName };
