/**
 * The orchestrator's side of the emulator child process (`emulator-process.js`): forks it
 * with the fleet harness's `forkChild`, waits for its endpoints, and asks it for the request
 * counts of a stream.
 * @module
 */
import { ChildHandle, forkChild, waitUntil } from '@kcl-ts/fleet';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./emulator-process.js', import.meta.url));

/** What the emulator process counted for one stream since it was first seen (or forgotten). */
export interface StreamCounts {
  /** Accepted GetRecords calls per shard id. */
  readonly getRecords: Readonly<Record<string, number>>;
  /** Every GetRecords call per shard id, throttled ones included. */
  readonly attempts: Readonly<Record<string, number>>;
  /** GetRecords calls answered with ProvisionedThroughputExceededException (only while the limit is enforced). */
  readonly throttled: number;
  /** Requests per Kinesis operation naming this stream. */
  readonly operations: Readonly<Record<string, number>>;
}

/** Orchestrator → emulator process (each request carries an `id`, which its reply repeats). */
export type EmulatorRequest =
  | { readonly type: 'counts' | 'forget'; readonly id: number; readonly stream: string }
  | { readonly type: 'enforce-limit'; readonly id: number; readonly on: boolean };

/** The endpoints the emulator process serves, sent once it is ready. */
export interface EmulatorEndpoints {
  readonly type: 'ready';
  /** kinesalite through the counting front (every benchmark that reads call counts uses this). */
  readonly kinesisEndpoint: string;
  /** kinesalite directly (bulk pre-loading). */
  readonly directKinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
}

/** The running emulator process: kinesalite behind a counting front, and dynalite. */
export class EmulatorProcess extends ChildHandle {
  private ready: EmulatorEndpoints | undefined;

  private constructor(logDir: string) {
    super('the emulator process', forkChild({ entry: SCRIPT, outPath: join(logDir, 'emulators.log') }));
    this.onRawMessage((m) => {
      if ((m as { type?: unknown }).type === 'ready') this.ready = m as EmulatorEndpoints;
    });
  }

  /** Forks the emulator process (its output goes to `<logDir>/emulators.log`) and waits until it serves. */
  static async start(logDir: string, timeoutMs = 60_000): Promise<EmulatorProcess & { readonly endpoints: EmulatorEndpoints }> {
    const p = new EmulatorProcess(logDir);
    const see = `see ${logDir}/emulators.log`;
    await waitUntil(() => p.ready ?? !p.alive, { timeoutMs, intervalMs: 50, message: `the emulator process serves (${see})` });
    if (!p.ready) throw new Error(`the emulator process exited with code ${p.exit?.code} (${see})`);
    return Object.assign(p, { endpoints: p.ready });
  }

  /** The counts of one stream so far. */
  async counts(stream: string): Promise<StreamCounts> {
    return (await this.ask<{ counts: StreamCounts }>({ type: 'counts', stream })).counts;
  }

  /** Turns the 5 GetRecords/s/shard limit on or off (off by default). */
  async enforceGetRecordsLimit(on: boolean): Promise<void> {
    await this.ask({ type: 'enforce-limit', on });
  }

  /** Drops the counts of a stream (after it was deleted). */
  async forget(stream: string): Promise<void> {
    await this.ask({ type: 'forget', stream });
  }
}
