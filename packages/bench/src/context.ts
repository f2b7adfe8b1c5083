/**
 * What every benchmark gets from the orchestrator: the emulators (started once), where child
 * processes log, the run count and a progress log; and the two fleet configurations compared.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { WorkerTuning } from '@kcl-ts/fleet';
import type { EmulatorProcess } from './emulators.js';

/** One Kinesis emulator the benchmarks use. */
export interface KinesisTarget {
  /** `the Kinesis Mock` or `kinesalite`. */
  readonly label: string;
  readonly endpoint: string;
  readonly client: KinesisClient;
}

/** Shared state of one bench invocation. */
export interface BenchContext {
  /** The Kinesis Mock of the embedded stack (the default emulator). */
  readonly kinesisMock: KinesisTarget;
  /** kinesalite in the emulator process: `endpoint` is its counting front (what measured children use), `client` talks to it directly (stream set-up and pre-loading). */
  readonly kinesalite: KinesisTarget;
  /** The emulator process (kinesalite + dynalite): request counts per stream. */
  readonly emulators: EmulatorProcess;
  readonly dynamoDbEndpoint: string;
  readonly dynamoDb: DynamoDBClient;
  readonly region: string;
  /** Where child processes write their output. */
  readonly logDir: string;
  /** Repetitions per measured figure (`--runs`). */
  readonly runs: number;
  readonly quick: boolean;
  /** Unique suffix of stream and table names of this invocation. */
  readonly tag: string;
  /** Progress line on stderr. */
  log(message: string): void;
}

/** Lease duration of the fleet benchmarks (the Java KCL's 10 s, scaled down to keep runs short). */
export const FLEET_LEASE_MS = 4_000;

/** kcl-ts defaults, at the fleet lease duration (renew lease/3, taker lease/5, up to 64 graceful handoffs, release on stop). */
export const OURS_FLEET: WorkerTuning = { leases: { leaseDurationMs: FLEET_LEASE_MS } };

/**
 * Our Worker configured with the Java KCL 2.x timings scaled to the same lease duration:
 * renewer every lease/3 − 25 ms, taker every (lease + 25) × 2 ms, one hard steal per round,
 * no graceful handoff, leases not released on shutdown.
 */
export const KCL_MODEL_FLEET = {
  leases: {
    leaseDurationMs: FLEET_LEASE_MS,
    renewIntervalMs: Math.floor(FLEET_LEASE_MS / 3) - 25,
    takerIntervalMs: (FLEET_LEASE_MS + 25) * 2,
    maxLeasesToStealAtOneTime: 1,
    gracefulHandoff: false,
    releaseLeasesOnStop: false,
  },
} as const satisfies WorkerTuning;

/** The label the reports use for {@link KCL_MODEL_FLEET}. */
export const KCL_MODEL_LABEL = 'Java KCL 2.x timing model (our code with KCL defaults)';
