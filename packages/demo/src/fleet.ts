import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { isWorkerMessage, WORKER_CONFIG_ENV, type ShardProgress, type WorkerMessage, type WorkerProcessConfig } from './messages.js';

/** Where a worker process is in its life. */
export type WorkerProcessState = 'starting' | 'running' | 'stopping' | 'stopped' | 'killed' | 'exited';

/** The orchestrator's view of one worker process. */
export interface WorkerHandle {
  readonly id: string;
  readonly pid: number | undefined;
  state: WorkerProcessState;
  /** Shards it holds, from its events and progress reports. */
  readonly held: Set<string>;
  /** Its per-shard counters from the latest progress report. */
  readonly progress: Map<string, ShardProgress>;
  readonly spawnedAt: number;
  exit?: { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly at: number };
}

/** Options of a {@link Fleet}. */
export interface FleetOptions {
  /** Path of the built `worker-process.js`. */
  readonly script: string;
  /** Everything but the worker id. */
  readonly config: Omit<WorkerProcessConfig, 'workerId'>;
  /** Each worker's stdout/stderr (its pino log) goes to `<logDir>/<id>.log`. */
  readonly logDir: string;
  /** Every IPC message, after the fleet updated its own view. */
  readonly onMessage?: (message: WorkerMessage) => void;
  /** A worker process exited. */
  readonly onExit?: (handle: WorkerHandle) => void;
}

/** Starts, signals and tracks the demo's worker processes (real child processes with IPC). */
export class Fleet {
  private readonly handles = new Map<string, WorkerHandle>();
  private readonly children = new Map<string, ChildProcess>();
  private readonly exits = new Map<string, Promise<void>>();

  constructor(private readonly options: FleetOptions) {}

  /** Forks a worker process with this id. */
  spawn(id: string): WorkerHandle {
    if (this.handles.has(id)) throw new Error(`worker ${id} was already started once; use a new id`);
    const config: WorkerProcessConfig = { ...this.options.config, workerId: id };
    const log = openSync(join(this.options.logDir, `${id}.log`), 'a');
    let child: ChildProcess;
    try {
      child = fork(this.options.script, [], {
        env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
        stdio: ['ignore', log, log, 'ipc'],
        serialization: 'json',
      });
    } finally {
      closeSync(log); // the child has its own copy
    }
    const handle: WorkerHandle = { id, pid: child.pid, state: 'starting', held: new Set(), progress: new Map(), spawnedAt: Date.now() };
    this.handles.set(id, handle);
    this.children.set(id, child);
    child.on('message', (raw: unknown) => {
      if (!isWorkerMessage(raw)) return;
      this.apply(handle, raw);
      this.options.onMessage?.(raw);
    });
    child.on('error', () => undefined); // a failed kill() of a dead process; 'exit' tells the rest
    this.exits.set(
      id,
      new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          handle.exit = { code, signal, at: Date.now() };
          if (handle.state !== 'killed') handle.state = handle.state === 'stopping' ? 'stopped' : 'exited';
          handle.held.clear();
          this.options.onExit?.(handle);
          resolve();
        });
      }),
    );
    return handle;
  }

  private apply(handle: WorkerHandle, message: WorkerMessage): void {
    switch (message.type) {
      case 'started':
        if (handle.state === 'starting') handle.state = 'running';
        break;
      case 'event':
        if (message.shardId === undefined) break;
        if (message.event === 'leaseAcquired') handle.held.add(message.shardId);
        if (message.event === 'leaseLost') handle.held.delete(message.shardId);
        break;
      case 'progress':
        handle.held.clear();
        for (const s of message.held) handle.held.add(s);
        for (const s of message.shards) handle.progress.set(s.shardId, s);
        break;
      default:
        break;
    }
  }

  /** Every worker ever started, in start order. */
  all(): WorkerHandle[] {
    return [...this.handles.values()];
  }

  /** Workers whose process has not exited and was not signalled to stop. */
  live(): WorkerHandle[] {
    return this.all().filter((h) => h.state === 'starting' || h.state === 'running');
  }

  get(id: string): WorkerHandle | undefined {
    return this.handles.get(id);
  }

  /** Sends `signal`; returns the time it was sent. SIGKILL marks the worker killed, SIGTERM stopping. */
  signal(id: string, signal: 'SIGKILL' | 'SIGTERM'): number {
    const handle = this.handles.get(id);
    const child = this.children.get(id);
    if (!handle || !child) throw new Error(`no worker ${id}`);
    const at = Date.now();
    if (!handle.exit) {
      handle.state = signal === 'SIGKILL' ? 'killed' : 'stopping';
      child.kill(signal);
    }
    return at;
  }

  /** Resolves true once the worker exited, false after `timeoutMs`. */
  async waitForExit(id: string, timeoutMs: number): Promise<boolean> {
    const exited = this.exits.get(id);
    if (!exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([exited.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM to every running worker, then SIGKILL to those still alive after `timeoutMs`. */
  async stopAll(timeoutMs: number): Promise<{ graceful: string[]; forced: string[] }> {
    const running = this.all().filter((h) => !h.exit);
    for (const h of running) if (h.state !== 'stopping' && h.state !== 'killed') this.signal(h.id, 'SIGTERM');
    const results = await Promise.all(running.map(async (h) => ({ id: h.id, ok: await this.waitForExit(h.id, timeoutMs) })));
    const forced = results.filter((r) => !r.ok).map((r) => r.id);
    for (const id of forced) this.signal(id, 'SIGKILL');
    await Promise.all(forced.map((id) => this.waitForExit(id, 5_000)));
    return { graceful: results.filter((r) => r.ok).map((r) => r.id), forced };
  }

  /** SIGKILL to every process still alive (last-resort cleanup; synchronous). */
  killAll(): void {
    for (const [id, child] of this.children) {
      const handle = this.handles.get(id);
      if (handle && !handle.exit && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}
