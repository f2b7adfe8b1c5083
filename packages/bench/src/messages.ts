/**
 * The contract between the bench orchestrator and its child processes: the configuration a
 * child receives (JSON in an environment variable), the IPC messages it sends, and the record
 * payload the producers write.
 * @module
 */

/** Name of the environment variable carrying a {@link ChildConfig} as JSON. */
export const CHILD_CONFIG_ENV = 'KCL_BENCH_CHILD_CONFIG';

/** Where a child finds the stream. */
export interface StreamTarget {
  readonly kinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
  readonly region: string;
  readonly streamName: string;
}

/** Worker options a child passes on (JSON-safe: numbers and booleans only). */
export type WorkerTuning = Readonly<Record<string, number | boolean | string>>;

/** A child running a kcl-ts Worker. */
export interface WorkerChildConfig extends StreamTarget {
  readonly mode: 'worker';
  readonly workerId: string;
  readonly applicationName: string;
  /** The Worker's `leases` group, plus `initialPosition`. */
  readonly options: WorkerTuning;
  /** `records`: every record's (key, n, put time) per batch; `counts`: only the batch size. */
  readonly report: 'records' | 'counts';
  /** Checkpoint after every batch (and in shutdownRequested / shardEnded). */
  readonly checkpoint: boolean;
  /** Processor pause per batch, in ms (a slow processor). @default 0 */
  readonly batchDelayMs?: number;
  /** Send `done` once this many records were processed. */
  readonly expectedRecords?: number;
  /** Interval of `stats` messages (held leases, GetRecords counts, RSS). */
  readonly statsIntervalMs: number;
  /** pino level of the child's log (its stdout goes to a file). */
  readonly logLevel: string;
}

/** The consumer implementations compared side by side (issue #17). */
export type PeerImpl = 'kcl-ts' | 'lifion' | 'raw';

/** A child running one consumer implementation alone (`peer-process.js`). */
export interface PeerChildConfig extends StreamTarget {
  readonly mode: 'peer';
  readonly impl: PeerImpl;
  /** Application name: kcl-ts's lease table, lifion's consumer group and state table. */
  readonly applicationName: string;
  readonly initialPosition: 'LATEST' | 'TRIM_HORIZON';
  /** `records`: every record's (key, n, put time) per batch over IPC; `counts`: nothing per batch. */
  readonly report: 'records' | 'counts';
  /** Processor pause per batch, in ms (a slow processor). kcl-ts only: lifion does not wait for its consumer. */
  readonly processDelayMs?: number;
  /** Send `done` once this many records were delivered. */
  readonly expectedRecords?: number;
  /** Interval of the child's own memory sampling (the maxima it reports). */
  readonly memorySampleMs: number;
  /** Extra options of the implementation (WorkerOptions for kcl-ts, constructor options for lifion). */
  readonly options?: WorkerTuning;
}

/** A child's own measurement at one moment. */
export interface PeerSample {
  readonly at: number;
  /** CPU time (user + system) of the process since it started, in µs. */
  readonly cpuUs: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** Maxima since the previous sample that reset them (or since start). */
  readonly maxRss: number;
  readonly maxHeapUsed: number;
  /** Records delivered so far. */
  readonly processed: number;
}

/** What a child receives. */
export type ChildConfig = WorkerChildConfig | PeerChildConfig;

/** One processed record in a `records` batch: [partition key, number, put start epoch ms]. */
export type SeenRecord = readonly [key: string, n: number, putAt: number];

/** Messages from a child to the orchestrator. Times are epoch ms (`Date.now()`) of the child. */
export type ChildMessage =
  | { readonly type: 'starting'; readonly at: number }
  | { readonly type: 'started'; readonly at: number }
  | { readonly type: 'batch'; readonly shardId: string; readonly at: number; readonly count: number; readonly records?: readonly SeenRecord[] }
  | { readonly type: 'lease'; readonly shardId: string; readonly at: number; readonly event: 'acquired' | 'lost'; readonly reason?: string }
  | {
      readonly type: 'stats';
      readonly at: number;
      readonly held: readonly string[];
      /** GetRecords calls per shard since the child started. */
      readonly getRecords: Readonly<Record<string, number>>;
      /** DynamoDB requests per command name since the child started (lease table and checkpoints). */
      readonly dynamoDb: Readonly<Record<string, number>>;
      readonly rss: number;
      readonly heapUsed: number;
      readonly heapTotal: number;
      /** Memory of ArrayBuffers and Buffers (record data lives here). */
      readonly arrayBuffers: number;
      readonly processed: number;
    }
  | {
      readonly type: 'done';
      readonly startAt: number;
      readonly firstRecordAt: number;
      readonly lastRecordAt: number;
      readonly records: number;
      /** Peer children: CPU (µs) from start to the last record, and memory maxima so far. */
      readonly cpuUs?: number;
      /** Peer children: CPU (µs) from start until the first batch was delivered, and that batch's size. */
      readonly cpuToFirstBatchUs?: number;
      readonly firstBatchRecords?: number;
      readonly maxRss?: number;
      readonly maxHeapUsed?: number;
    }
  | { readonly type: 'sample'; readonly id: number; readonly sample: PeerSample }
  | { readonly type: 'error'; readonly at: number; readonly detail: string }
  | { readonly type: 'fatal'; readonly at: number; readonly detail: string }
  | { readonly type: 'stopped'; readonly at: number };

/** Narrows an IPC message of unknown shape. */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return (
    type === 'starting' ||
    type === 'started' ||
    type === 'batch' ||
    type === 'lease' ||
    type === 'stats' ||
    type === 'done' ||
    type === 'error' ||
    type === 'fatal' ||
    type === 'stopped' ||
    type === 'sample'
  );
}

/** The payload the producers write: key, per-key number, put start time, padding. */
export interface Payload {
  readonly k: string;
  readonly n: number;
  readonly t: number;
  readonly p?: string;
}

/** Encodes a payload padded with `x` to about `bytes` bytes. */
export function encodePayload(k: string, n: number, t: number, bytes = 0): Uint8Array {
  const base = JSON.stringify({ k, n, t });
  const pad = bytes - base.length - 8;
  return Buffer.from(pad > 0 ? JSON.stringify({ k, n, t, p: 'x'.repeat(pad) }) : base, 'utf8');
}

/** Decodes a payload written by {@link encodePayload}; `undefined` for anything else. */
export function decodePayload(data: Uint8Array): Payload | undefined {
  try {
    const value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Partial<Payload>;
    return typeof value.k === 'string' && typeof value.n === 'number' && typeof value.t === 'number' ? (value as Payload) : undefined;
  } catch {
    return undefined;
  }
}
