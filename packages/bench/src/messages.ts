/**
 * The contract between the bench orchestrator and its peer processes (one consumer
 * implementation each, `peer-process.ts`): the configuration a peer receives (JSON in an
 * environment variable) and the IPC messages it sends. Fleet benchmarks run the fleet
 * harness's worker processes (`@kcl-ts/fleet`) instead.
 * @module
 */
import type { SeenRecord } from '@kcl-ts/fleet/payload';
import type { RetrievalMode } from '@kcl-ts/fleet/worker-options';

/** Name of the environment variable carrying a {@link PeerChildConfig} as JSON. */
export const CHILD_CONFIG_ENV = 'KCL_BENCH_CHILD_CONFIG';

/** Extra constructor options of lifion-kinesis (JSON-safe). */
export type LifionOptions = Readonly<Record<string, number | boolean | string>>;

/** The consumer implementations compared side by side (issue #17). */
export type PeerImpl = 'kcl-ts' | 'lifion' | 'raw';

/** A child running one consumer implementation alone (`peer-process.js`). */
export interface PeerChildConfig {
  readonly impl: PeerImpl;
  readonly kinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
  readonly region: string;
  readonly streamName: string;
  /** Application name: kcl-ts's lease table, lifion's consumer group and state table. */
  readonly applicationName: string;
  /** `records`: every record's (key, n, put time) per batch over IPC; `counts`: nothing per batch. */
  readonly report: 'records' | 'counts';
  /** Send `done` once this many records were delivered. */
  readonly expectedRecords?: number;
  readonly options?: LifionOptions;
  /** kcl-ts: polling (the default) or enhanced fan-out (Kinesis Mock only: kinesalite has no SubscribeToShard). */
  readonly retrieval?: RetrievalMode;
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

/** Messages from a child to the orchestrator. Times are epoch ms (`Date.now()`) of the child. */
export type ChildMessage =
  | { readonly type: 'starting' | 'started' | 'stopped'; readonly at: number }
  | { readonly type: 'batch'; readonly shardId: string; readonly at: number; readonly count: number; readonly records?: readonly SeenRecord[] }
  | {
      readonly type: 'done';
      readonly startAt: number;
      readonly firstRecordAt: number;
      readonly lastRecordAt: number;
      readonly records: number;
      /** CPU (µs) from start to the last record, and from start until the first batch was delivered, with that batch's size; memory maxima so far. */
      readonly cpuUs: number;
      readonly cpuToFirstBatchUs: number;
      readonly firstBatchRecords: number;
      readonly maxRss: number;
      readonly maxHeapUsed: number;
    }
  | { readonly type: 'sample'; readonly id: number; readonly sample: PeerSample }
  | { readonly type: 'error' | 'fatal'; readonly at: number; readonly detail: string };
