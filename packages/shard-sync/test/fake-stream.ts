// A Kinesis-like stream in memory for logic tests: split and merge produce shards the way
// ListShards reports them, and it implements ShardLister so it stands in for ShardDetector.
import type { Lease } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import type { ShardInfo, ShardLister } from '@kcl-ts/shard-sync';

export const MAX = (1n << 128n) - 1n;

export function sid(n: number): string {
  return `shardId-${String(n).padStart(12, '0')}`;
}

export class FakeStream implements ShardLister {
  readonly streamLabel = 'fake-stream';
  private shards: ShardInfo[] = [];
  private readonly trimmed = new Set<string>();
  private nextId = 0;
  private nextSeq = 1000n;
  listCalls = 0;
  /** Errors thrown by the next listShards calls, in order. */
  readonly failures: Error[] = [];

  constructor(shardCount: number) {
    const width = (MAX + 1n) / BigInt(shardCount);
    for (let i = 0; i < shardCount; i++) {
      const start = width * BigInt(i);
      const end = i === shardCount - 1 ? MAX : start + width - 1n;
      this.add(start, end, []);
    }
  }

  private add(start: bigint, end: bigint, parents: string[]): string {
    const shardId = sid(this.nextId++);
    this.nextSeq += 1000n;
    this.shards.push({
      shardId,
      ...(parents[0] !== undefined ? { parentShardId: parents[0] } : {}),
      ...(parents[1] !== undefined ? { adjacentParentShardId: parents[1] } : {}),
      hashKeyRange: { startingHashKey: start.toString(), endingHashKey: end.toString() },
      startingSequenceNumber: this.nextSeq.toString(),
    });
    return shardId;
  }

  get(shardId: string): ShardInfo {
    const s = this.shards.find((x) => x.shardId === shardId);
    if (!s) throw new Error(`no shard ${shardId}`);
    return s;
  }

  private close(shardId: string): void {
    this.nextSeq += 1000n;
    this.shards = this.shards.map((s) => (s.shardId === shardId ? { ...s, endingSequenceNumber: this.nextSeq.toString() } : s));
  }

  /** Splits an open shard at its midpoint; returns the two children. */
  split(shardId: string): [string, string] {
    const s = this.get(shardId);
    if (s.endingSequenceNumber) throw new Error('closed');
    const start = BigInt(s.hashKeyRange.startingHashKey);
    const end = BigInt(s.hashKeyRange.endingHashKey);
    const mid = (start + end) / 2n;
    this.close(shardId);
    return [this.add(start, mid, [shardId]), this.add(mid + 1n, end, [shardId])];
  }

  /** Merges two adjacent open shards; returns the child (parentShardId = a, adjacent = b). */
  merge(a: string, b: string): string {
    const x = this.get(a);
    const y = this.get(b);
    const start = [x, y].map((s) => BigInt(s.hashKeyRange.startingHashKey)).reduce((p, q) => (p < q ? p : q));
    const end = [x, y].map((s) => BigInt(s.hashKeyRange.endingHashKey)).reduce((p, q) => (p > q ? p : q));
    this.close(a);
    this.close(b);
    return this.add(start, end, [a, b]);
  }

  /** Drops a shard from the listing (past retention). */
  trim(shardId: string): void {
    this.trimmed.add(shardId);
  }

  openShardIds(): string[] {
    return this.visible().filter((s) => !s.endingSequenceNumber).map((s) => s.shardId);
  }

  private visible(): ShardInfo[] {
    return this.shards.filter((s) => !this.trimmed.has(s.shardId));
  }

  async listShards(): Promise<ShardInfo[]> {
    this.listCalls += 1;
    const failure = this.failures.shift();
    if (failure) throw failure;
    return structuredClone(this.visible());
  }

  async listChildShards(parentShardId: string): Promise<ShardInfo[]> {
    return (await this.listShards()).filter((s) => s.parentShardId === parentShardId || s.adjacentParentShardId === parentShardId);
  }
}

/** A lease as stored, for InMemoryLeaseRefresher.put. */
export function lease(leaseKey: string, checkpoint: string, extra: Partial<Lease> = {}): Lease {
  return {
    leaseKey,
    leaseCounter: 1,
    checkpoint: extended(checkpoint),
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [],
    childShardIds: [],
    ...extra,
  };
}
