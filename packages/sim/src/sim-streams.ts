/**
 * The streams of a simulation: one {@link MemoryKinesis} per stream behind one client that
 * dispatches each command to its stream, as Kinesis does for an account.
 * @module
 */
import { InvalidArgumentException, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { shardKey } from '@kcl-ts/fleet';
import type { Clock } from '@kcl-ts/processor';
import { MemoryKinesis, type KinesisFaults, type KinesisSender, type MemoryKinesisOptions } from './memory-kinesis.js';

const META = { $metadata: {} } as const;
/** The account of every simulated stream (the ARN's, and so the lease keys'). */
const ACCOUNT = '000000000000';
/** Creation time of the first stream; each next one was created a second later (distinct creation epochs). */
const FIRST_CREATED_MS = 1_600_000_000_000;

/** Options of {@link SimStreams}: those of every {@link MemoryKinesis}, but the name, the random draws and the token prefix. */
export type SimStreamsOptions = Omit<MemoryKinesisOptions, 'streamName' | 'random' | 'tokenPrefix' | 'createdAtMs' | 'streamArn'> & {
  /** The streams' names; with one name, the stream is exactly a plain `MemoryKinesis` (and shard keys are bare shard ids). */
  readonly streamNames: readonly string[];
  /** Draws of each stream's injected faults, by index. */
  readonly random: (index: number) => MemoryKinesisOptions['random'];
};

/**
 * Several in-memory streams. With more than one, every stream has a distinct ARN and creation
 * epoch, its shard iterators and page tokens carry the stream's prefix, and a shard of the
 * run is named by its fleet `shardKey` (`stream/shardId`), so the oracle keeps streams apart.
 */
export class SimStreams {
  /** The streams, in the order of their names. */
  readonly streams: readonly MemoryKinesis[];
  readonly multi: boolean;

  constructor(options: SimStreamsOptions) {
    const { streamNames, random, ...rest } = options;
    this.multi = streamNames.length > 1;
    this.streams = streamNames.map(
      (streamName, i) =>
        new MemoryKinesis({
          ...rest,
          streamName,
          random: random(i),
          // A multi-stream lease key takes the account from a well-formed ARN (a real region).
          ...(this.multi && { tokenPrefix: `s${i}:`, createdAtMs: FIRST_CREATED_MS + i * 1_000, streamArn: `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/${streamName}` }),
        }),
    );
  }

  /** The stream called `name`. @throws RangeError when there is none. */
  stream(name: string): MemoryKinesis {
    const s = this.streams.find((k) => k.streamName === name);
    if (s === undefined) throw new RangeError(`no stream ${name}`);
    return s;
  }

  /** The run-wide name of a shard: its id with one stream, `stream/shardId` with several. */
  key(stream: MemoryKinesis, shardId: string): string {
    return this.multi ? shardKey(stream.streamName, shardId) : shardId;
  }

  /** The lease key of a shard: the shard id with one stream, `account:stream:creationEpoch:shardId` with several. */
  leaseKey(stream: MemoryKinesis, shardId: string): string {
    if (!this.multi) return shardId;
    const index = this.streams.indexOf(stream);
    return `${ACCOUNT}:${stream.streamName}:${Math.floor((FIRST_CREATED_MS + index * 1_000) / 1000)}:${shardId}`;
  }

  /** Sets (or clears) the injected faults of every stream. */
  setFaults(faults: KinesisFaults | undefined): void {
    for (const s of this.streams) s.setFaults(faults);
  }

  /** Calls answered, by operation, over every stream. */
  get calls(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.streams) for (const [k, v] of Object.entries(s.calls)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** Every shard of every stream with its parents, named by {@link key}. */
  lineage(): { shardId: string; parentShardId?: string; adjacentParentShardId?: string }[] {
    return this.streams.flatMap((s) =>
      s.lineage().map((l) => ({
        shardId: this.key(s, l.shardId),
        ...(l.parentShardId !== undefined && { parentShardId: this.key(s, l.parentShardId) }),
        ...(l.adjacentParentShardId !== undefined && { adjacentParentShardId: this.key(s, l.adjacentParentShardId) }),
      })),
    );
  }

  /**
   * A client for one caller (see {@link MemoryKinesis.connect}) that sends each command to its
   * stream: by `StreamName` or `StreamARN`, else by the prefix of its `ShardIterator` or `NextToken`.
   */
  connect(caller: string, clock: Clock, latencyMs: () => number): KinesisSender {
    const connections = this.streams.map((s) => s.connect(caller, clock, latencyMs));
    if (!this.multi) return connections[0]!;
    return {
      config: this.streams[0]!.config,
      send: (command, options) => {
        const input = ((command as { input?: unknown }).input ?? {}) as Record<string, unknown>;
        let index: number;
        if (typeof input.StreamName === 'string') index = this.streams.findIndex((s) => s.streamName === input.StreamName);
        else if (typeof input.StreamARN === 'string') index = this.streams.findIndex((s) => s.streamArn === input.StreamARN);
        else {
          const token = input.ShardIterator ?? input.NextToken;
          if (typeof token !== 'string') return Promise.reject(new InvalidArgumentException({ message: 'StreamName, StreamARN, ShardIterator or NextToken is required', ...META }));
          index = Number(/^s(\d+):/.exec(token)?.[1] ?? -1);
        }
        const connection = connections[index];
        if (connection === undefined) return Promise.reject(new ResourceNotFoundException({ message: `Stream not found for ${JSON.stringify(input)}`, ...META }));
        return connection.send(command, options);
      },
    };
  }
}
