/**
 * The spawner: forks fleet worker processes (the built `dist/worker-process.js`) and mistreats
 * them: `kill -9`, SIGSTOP/SIGCONT, SIGTERM, and a restart under a new id. Every process writes
 * its journal and logs into the fleet's directory and reports progress over IPC.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeTuning, WORKER_CONFIG_ENV, type WorkerProcessConfig } from './config.js';
import { JournalTail, recordKey, type JournalLine } from './journal.js';
import { isWorkerMessage, type WorkerMessage } from './messages.js';

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Where a worker process is in its life, as the parent sees it. */
export type WorkerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'killed' | 'exited';

/** The settings every worker of a fleet shares (all but its id and files). */
export type FleetBase = Omit<WorkerProcessConfig, 'workerId' | 'journalPath' | 'logPath'>;

/** Options of a {@link Fleet}. */
export interface FleetOptions {
  /** Directory for journals (`<workerId>.journal.jsonl`), logs and stdout/stderr. Created if absent. */
  readonly dir: string;
  readonly base: FleetBase;
  /** Every IPC message, after the handle took it into account. */
  readonly onMessage?: (worker: WorkerHandle, message: WorkerMessage) => void;
  readonly onExit?: (worker: WorkerHandle) => void;
}

type Of<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** Every child forked by {@link forkChild} in this process, SIGKILLed on exit so none is left behind. */
const allChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of allChildren) c.kill('SIGKILL');
});

/** Options of {@link forkChild}. */
export interface ForkOptions {
  readonly entry: string;
  /** Extra environment (e.g. the child's configuration as JSON). */
  readonly env?: Readonly<Record<string, string>>;
  /** File that receives the child's stderr, and its stdout unless `pipeStdout`. */
  readonly outPath: string;
  /** Hand the child's stdout to the caller (`child.stdout`) instead of the file. @default false */
  readonly pipeStdout?: boolean;
  readonly args?: readonly string[];
  /** @default ['--enable-source-maps'] */
  readonly execArgv?: readonly string[];
}

/** Forks a Node child with an IPC channel; every child forked this way is SIGKILLed when this process exits. */
export function forkChild(options: ForkOptions): ChildProcess {
  const out = openSync(options.outPath, 'a');
  try {
    const child = fork(options.entry, [...(options.args ?? [])], {
      env: { ...process.env, ...options.env, NODE_NO_WARNINGS: '1' },
      execArgv: [...(options.execArgv ?? ['--enable-source-maps'])],
      stdio: ['ignore', options.pipeStdout ? 'pipe' : out, out, 'ipc'],
      serialization: 'json',
    });
    allChildren.add(child);
    child.once('exit', () => allChildren.delete(child));
    return child;
  } finally {
    closeSync(out); // the child has its own copy
  }
}

/**
 * One forked child process: signals, its exit, its IPC messages, and requests answered by id.
 * {@link WorkerHandle} adds what a fleet worker reports; the benchmarks' processes add their own.
 */
export class ChildHandle {
  readonly exited: Promise<ProcessExit>;
  state: WorkerState = 'starting';
  /** The signal the parent sent last, and when. */
  signalled: { readonly signal: NodeJS.Signals; readonly at: number } | undefined;
  exit: ProcessExit | undefined;
  isPaused = false;
  private readonly listeners = new Set<(m: unknown) => void>();
  private nextRequestId = 1;

  constructor(
    readonly id: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: unknown) => {
      for (const fn of this.listeners) fn(m);
    });
    child.on('error', () => undefined); // a failed kill() of a dead process; 'exit' tells the rest
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        if (this.state !== 'killed') this.state = this.state === 'stopping' ? 'stopped' : 'exited';
        this.onExit();
        resolve(this.exit);
      });
    });
  }

  /** Called once the process exited, before `exited` resolves. */
  protected onExit(): void {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Calls `fn` on every later IPC message (unchecked); returns the unsubscribe function. */
  onRawMessage(fn: (m: unknown) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Sends an IPC message; false when the channel is gone. */
  send(message: object): boolean {
    if (!this.alive || !this.child.connected) return false;
    try {
      this.child.send(message);
      return true;
    } catch {
      return false; // the channel closed meanwhile
    }
  }

  /** Sends `message` with a fresh `id` and resolves the child's reply carrying the same `id`; rejects after `timeoutMs` or when the child is gone. */
  ask<R>(message: object, timeoutMs = 10_000): Promise<R> {
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const done = (error?: Error, reply?: R): void => {
        clearTimeout(timer);
        off();
        if (error) reject(error);
        else resolve(reply!);
      };
      const timer = setTimeout(() => done(new Error(`${this.id} did not answer ${JSON.stringify(message)} within ${timeoutMs} ms`)), timeoutMs);
      const off = this.onRawMessage((m) => {
        if ((m as { id?: unknown }).id === id) done(undefined, m as R);
      });
      if (!this.send({ ...message, id })) done(new Error(`${this.id} is not running`));
    });
  }

  /** `kill -9`: no shutdown, no lease release. Returns the time it was sent. */
  kill9(): number {
    const at = this.signal('SIGKILL');
    if (this.alive) this.state = 'killed';
    return at;
  }

  /** `kill -STOP`: the process freezes (a GC pause, a VM migration, a stuck host). */
  pause(): number {
    this.isPaused = true;
    return this.signal('SIGSTOP');
  }

  /** `kill -CONT`: the frozen process resumes where it was. */
  resume(): number {
    this.isPaused = false;
    return this.signal('SIGCONT');
  }

  /** `kill -TERM`: graceful shutdown (checkpoint, release leases), then exit. Returns the time it was sent. */
  terminate(): number {
    if (this.isPaused) this.resume();
    const at = this.signal('SIGTERM');
    if (this.alive && this.state !== 'killed') this.state = 'stopping';
    return at;
  }

  /** Sends a signal if the process is still alive; returns the time it was sent. */
  signal(signal: NodeJS.Signals): number {
    const at = Date.now();
    if (!this.alive) return at;
    this.signalled = { signal, at };
    this.child.kill(signal);
    return at;
  }

  /** Waits for the exit; rejects after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.id} (pid ${this.pid}) did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. Resolves true if it stopped gracefully. */
  async stop(timeoutMs = 30_000): Promise<boolean> {
    if (!this.alive) return true;
    this.terminate();
    try {
      await this.waitForExit(timeoutMs);
      return true;
    } catch {
      this.kill9();
      await this.exited;
      return false;
    }
  }
}

/** One fleet worker process: what it reported over IPC, and its journal. */
export class WorkerHandle extends ChildHandle {
  /** Shards it holds, from its lease events and progress reports (empty once it exited). */
  readonly held = new Set<string>();
  /** The latest progress report. */
  progress: Of<'progress'> | undefined;
  /** Lease events, in order. */
  readonly leaseEvents: Of<'event'>[] = [];
  /** The coordinator role as this worker last reported it (`at` is the child's clock); undefined without a role (`coordination: 'every-worker'`). */
  role: { readonly role: string; readonly holder: string | undefined; readonly at: number } | undefined;
  /** `error` and `processorError` events and a fatal start failure. */
  readonly errors: string[] = [];
  /** The child's `Date.now()` just before `worker.start()`, and once it resolved. */
  startingAt: number | undefined;
  startedAt: number | undefined;
  private readonly tail: JournalTail;

  constructor(workerId: string, journalPath: string, child: ChildProcess) {
    super(workerId, child);
    this.tail = new JournalTail(journalPath);
    this.onRawMessage((raw) => {
      if (isWorkerMessage(raw)) this.apply(raw);
    });
  }

  get workerId(): string {
    return this.id;
  }

  /** Calls `fn` on every later worker message (after the handle took it into account); returns the unsubscribe function. */
  onMessage(fn: (m: WorkerMessage) => void): () => void {
    return this.onRawMessage((m) => {
      if (isWorkerMessage(m)) fn(m);
    });
  }

  protected override onExit(): void {
    this.held.clear();
  }

  private apply(m: WorkerMessage): void {
    if (m.type === 'starting') this.startingAt = m.at;
    else if (m.type === 'started') {
      this.startedAt = m.at;
      if (this.state === 'starting') this.state = 'running';
    } else if (m.type === 'fatal') this.errors.push(`fatal: ${m.detail}`);
    else if (m.type === 'role') this.role = { role: m.role, holder: m.holder, at: m.at };
    else if (m.type === 'progress') {
      if (m.role && (this.role === undefined || this.role.at <= m.at)) this.role = { role: m.role.role, holder: m.role.holder, at: m.at };
      this.progress = m;
      if (this.alive) {
        this.held.clear();
        for (const s of m.held) this.held.add(s);
      }
    } else if (m.type === 'event') {
      if (m.event === 'leaseAcquired' || m.event === 'leaseLost') {
        this.leaseEvents.push(m);
        if (m.shardId !== undefined && m.event === 'leaseAcquired') this.held.add(m.shardId);
        else if (m.shardId !== undefined) this.held.delete(m.shardId);
      }
      if (m.event === 'error' || m.event === 'processorError') this.errors.push(`${m.event}${m.shardId ? ` on ${m.shardId}` : ''}: ${m.detail ?? ''}`);
    }
  }

  /** This process's journal so far (read incrementally). */
  journal(): readonly JournalLine[] {
    return this.tail.read();
  }
}

/** The built worker entry, checked for presence and freshness against the sources. */
function workerEntry(): string {
  const entry = fileURLToPath(new URL('../dist/worker-process.js', import.meta.url));
  const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
  const build = 'run `npx tsc --build packages/fleet` (or `pnpm build`) first';
  if (!existsSync(entry)) throw new Error(`${entry} is missing: ${build}`);
  if (existsSync(srcDir)) {
    const distDir = fileURLToPath(new URL('../dist/', import.meta.url));
    const stale = readdirSync(srcDir).filter((f) => {
      const built = join(distDir, f.replace(/\.ts$/, '.js'));
      return f.endsWith('.ts') && (!existsSync(built) || statSync(join(srcDir, f)).mtimeMs > statSync(built).mtimeMs);
    });
    if (stale.length > 0) throw new Error(`the fleet build is older than src/${stale[0]}: ${build}`);
  }
  return entry;
}

/** A set of worker processes sharing one application, its streams and one directory. */
export class Fleet {
  private readonly handles: WorkerHandle[] = [];
  private readonly entry = workerEntry();

  constructor(private readonly options: FleetOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  /** Every worker spawned so far (dead ones included), in spawn order. */
  get workers(): readonly WorkerHandle[] {
    return this.handles;
  }

  /** Workers alive and not told to stop (starting or running). */
  live(): WorkerHandle[] {
    return this.handles.filter((h) => h.alive && (h.state === 'starting' || h.state === 'running'));
  }

  get(workerId: string): WorkerHandle {
    const h = this.handles.find((x) => x.workerId === workerId);
    if (!h) throw new Error(`no worker ${workerId} in this fleet`);
    return h;
  }

  /** Forks a worker process. A worker id must be unique within the fleet (each has its own journal). */
  spawn(workerId: string, overrides: Partial<FleetBase> = {}): WorkerHandle {
    if (this.handles.some((h) => h.workerId === workerId)) throw new Error(`worker id ${workerId} was already used in this fleet`);
    const path = (suffix: string): string => join(this.options.dir, `${workerId}${suffix}`);
    const base = this.options.base;
    const config: WorkerProcessConfig = { ...base, ...overrides, worker: mergeTuning(base.worker, overrides.worker), workerId, journalPath: path('.journal.jsonl'), logPath: path('.log') };
    const child = forkChild({ entry: this.entry, env: { [WORKER_CONFIG_ENV]: JSON.stringify(config) }, outPath: path('.out') });
    const handle = new WorkerHandle(workerId, config.journalPath, child);
    this.handles.push(handle);
    const { onMessage, onExit } = this.options;
    if (onMessage) handle.onMessage((m) => onMessage(handle, m));
    if (onExit) void handle.exited.then(() => onExit(handle));
    return handle;
  }

  /** Replaces a worker: waits for its process to end (SIGTERM first if it still runs), then spawns `newId` with the same settings. */
  async restart(workerId: string, newId: string, timeoutMs = 30_000): Promise<WorkerHandle> {
    await this.get(workerId).stop(timeoutMs);
    return this.spawn(newId);
  }

  /** Every line of every journal of the fleet. */
  journals(): JournalLine[] {
    return this.handles.flatMap((h) => h.journal());
  }

  /** Distinct records (`key#n`, `stream/key#n` on several streams) processed so far, per the journals. */
  processedIds(): Set<string> {
    return new Set(this.journals().flatMap((l) => (l.type === 'record' ? [recordKey(l)] : [])));
  }

  /** How many of `puts` were not processed yet, per the journals. */
  unprocessed(puts: readonly { readonly stream?: string; readonly key: string; readonly n: number }[]): number {
    const ids = this.processedIds();
    return puts.filter((p) => !ids.has(recordKey(p))).length;
  }

  /** Graceful stop of every live worker in parallel (paused ones resumed first); those not gone after `timeoutMs` are killed, and their ids resolved. */
  async terminateAll(timeoutMs = 30_000): Promise<string[]> {
    const results = await Promise.all(this.handles.filter((h) => h.alive).map(async (h) => ({ id: h.workerId, graceful: await h.stop(timeoutMs) })));
    return results.filter((r) => !r.graceful).map((r) => r.id);
  }

  /** SIGKILLs every live worker and waits for them (cleanup, also after failures). */
  async killAll(): Promise<void> {
    const live = this.handles.filter((h) => h.alive);
    for (const h of live) h.kill9();
    await Promise.all(live.map((h) => h.exited));
  }
}
