/**
 * The orchestrator's side of the emulator child process (`emulator-process.js`): forks it,
 * waits for its endpoints, and asks it for the request counts of a stream.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
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

/** Orchestrator → emulator process. */
export type EmulatorRequest =
  | { readonly type: 'counts'; readonly id: number; readonly stream: string }
  | { readonly type: 'enforce-limit'; readonly id: number; readonly on: boolean }
  | { readonly type: 'forget'; readonly id: number; readonly stream: string };

/** Emulator process → orchestrator. */
export type EmulatorReply =
  | { readonly type: 'ready'; readonly kinesisEndpoint: string; readonly directKinesisEndpoint: string; readonly dynamoDbEndpoint: string; readonly pid: number }
  | { readonly type: 'counts'; readonly id: number; readonly counts: StreamCounts }
  | { readonly type: 'ack'; readonly id: number };

type Ready = Extract<EmulatorReply, { type: 'ready' }>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The running emulator process: kinesalite behind a counting front, and dynalite. */
export class EmulatorProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: EmulatorReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    /** kinesalite through the counting front (every benchmark that reads call counts uses this). */
    readonly kinesisEndpoint: string,
    /** kinesalite directly (bulk pre-loading). */
    readonly directKinesisEndpoint: string,
    readonly dynamoDbEndpoint: string,
    readonly pid: number,
  ) {
    child.on('message', (m: EmulatorReply) => {
      if (m.type === 'ready') return;
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.(m);
    });
  }

  /** Forks the emulator process (its output goes to `<logDir>/emulators.log`) and waits until it serves. */
  static async start(logDir: string, timeoutMs = 60_000): Promise<EmulatorProcess> {
    const log = openSync(join(logDir, 'emulators.log'), 'a');
    let child: ChildProcess;
    try {
      child = fork(SCRIPT, [], { stdio: ['ignore', log, log, 'ipc'], serialization: 'json', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    } finally {
      closeSync(log);
    }
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the emulator process did not start within ${timeoutMs} ms (see ${logDir}/emulators.log)`)), timeoutMs);
      child.once('exit', (code) => reject(new Error(`the emulator process exited with code ${code} (see ${logDir}/emulators.log)`)));
      child.on('message', (m: EmulatorReply) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(m);
      });
    });
    child.removeAllListeners('exit');
    return new EmulatorProcess(child, ready.kinesisEndpoint, ready.directKinesisEndpoint, ready.dynamoDbEndpoint, ready.pid);
  }

  private ask(message: WithoutId<EmulatorRequest>, timeoutMs = 10_000): Promise<EmulatorReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the emulator process did not answer ${message.type}`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send({ ...message, id });
    });
  }

  /** The counts of one stream so far. */
  async counts(stream: string): Promise<StreamCounts> {
    const reply = await this.ask({ type: 'counts', stream });
    if (reply.type !== 'counts') throw new Error(`unexpected reply ${reply.type}`);
    return reply.counts;
  }

  /** Turns the 5 GetRecords/s/shard limit on or off (off by default). */
  async enforceGetRecordsLimit(on: boolean): Promise<void> {
    await this.ask({ type: 'enforce-limit', on });
  }

  /** Drops the counts of a stream (after it was deleted). */
  async forget(stream: string): Promise<void> {
    await this.ask({ type: 'forget', stream });
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL (synchronous; for process exit). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
