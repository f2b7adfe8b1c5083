/**
 * The spawner: forks fleet worker processes (`worker-process.js`, the built one in `dist/`)
 * and mistreats them. Each {@link WorkerHandle} can be killed (`SIGKILL`), paused and resumed
 * (`SIGSTOP`/`SIGCONT`) or terminated gracefully (`SIGTERM`); the {@link Fleet} restarts a
 * worker under a new id. Every process writes its journal and logs into the fleet's
 * directory and reports progress over IPC, which the handle keeps.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_CONFIG_ENV, type WorkerProcessConfig } from './config.js';
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
  /** Settings shared by every worker of the fleet. */
  readonly base: FleetBase;
  /** The worker entry module. @default `dist/worker-process.js` of this package */
  readonly entry?: string;
  /** Keep every `progress` message (memory sampling) instead of only the latest. @default false */
  readonly keepProgress?: boolean;
  /** Every IPC message, after the handle took it into account. */
  readonly onMessage?: (worker: WorkerHandle, message: WorkerMessage) => void;
  /** A worker process exited. */
  readonly onExit?: (worker: WorkerHandle) => void;
}

type Of<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** Every child ever forked by any fleet of this process, killed on exit so none is left behind. */
const allChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function registerChild(child: ChildProcess): void {
  allChildren.add(child);
  child.once('exit', () => allChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of allChildren) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Options of {@link forkChild}. */
export interface ForkOptions {
  /** The module to run. */
  readonly entry: string;
  /** Extra environment (e.g. the child's configuration as JSON). */
  readonly env: Readonly<Record<string, string>>;
  /** File that receives the child's stdout and stderr. */
  readonly outPath: string;
  /** Node options of the child. @default ['--enable-source-maps'] */
  readonly execArgv?: readonly string[];
}

/** Forks a Node child with an IPC channel; every child forked this way is SIGKILLed when this process exits. */
export function forkChild(options: ForkOptions): ChildProcess {
  const out = openSync(options.outPath, 'a');
  let child: ChildProcess;
  try {
    child = fork(options.entry, [], {
      env: { ...process.env, ...options.env, NODE_NO_WARNINGS: '1' },
      execArgv: [...(options.execArgv ?? ['--enable-source-maps'])],
      stdio: ['ignore', out, out, 'ipc'],
      serialization: 'json',
    });
  } finally {
    closeSync(out); // the child has its own copy
  }
  registerChild(child);
  return child;
}

/**
 * One forked child process: signals (kill -9, SIGSTOP/SIGCONT, SIGTERM), its exit, and its
 * IPC messages. {@link WorkerHandle} adds what a fleet worker reports; the benchmarks' peer
 * processes add their own.
 */
export class ChildHandle {
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** `Date.now()` at the fork. */
  readonly spawnedAt = Date.now();
  state: WorkerState = 'starting';
  /** The signal the parent sent last, and when. */
  signalled: { readonly signal: NodeJS.Signals; readonly at: number } | undefined;
  private exitInfo: ProcessExit | undefined;
  private paused = false;
  private readonly listeners = new Set<(m: unknown) => void>();

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
        this.exitInfo = { code, signal };
        if (this.state !== 'killed') this.state = this.state === 'stopping' ? 'stopped' : 'exited';
        this.onExit();
        resolve(this.exitInfo);
      });
    });
  }

  /** Called once the process exited, before `exited` resolves. */
  protected onExit(): void {}

  /** Process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** True while stopped with SIGSTOP. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** How the process exited, once it has. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** Calls `fn` on every later IPC message (unchecked); returns the unsubscribe function. */
  onRawMessage(fn: (m: unknown) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Sends an IPC message; false when the channel is gone. */
  send(message: unknown): boolean {
    if (!this.alive || !this.child.connected) return false;
    try {
      this.child.send(message as object);
      return true;
    } catch {
      return false; // the channel closed meanwhile
    }
  }

  /** `kill -9`: no shutdown, no lease release. Returns the time it was sent. */
  kill9(): number {
    const at = this.signal('SIGKILL');
    if (this.alive) this.state = 'killed';
    return at;
  }

  /** `kill -STOP`: the process freezes (a GC pause, a VM migration, a stuck host). */
  pause(): number {
    this.paused = true;
    return this.signal('SIGSTOP');
  }

  /** `kill -CONT`: the frozen process resumes where it was. */
  resume(): number {
    this.paused = false;
    return this.signal('SIGCONT');
  }

  /** `kill -TERM`: graceful shutdown (checkpoint, release leases), then exit. Returns the time it was sent. */
  terminate(): number {
    if (this.paused) this.resume();
    const at = this.signal('SIGTERM');
    if (this.alive && this.state !== 'killed') this.state = 'stopping';
    return at;
  }

  /** Sends a signal if the process is still alive; returns the time it was sent. */
  signal(signal: NodeJS.Signals): number {
    const at = Date.now();
    if (!this.alive) return at;
    this.signalled = { signal, at };
    try {
      this.child.kill(signal);
    } catch {
      // exited meanwhile
    }
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
  /** Progress messages: the latest only, or all with `keepProgress`. */
  readonly progressHistory: Of<'progress'>[] = [];
  /** `batch` messages (with `reportBatches`). */
  readonly batches: Of<'batch'>[] = [];
  /** Lease events, in order. */
  readonly leaseEvents: Of<'event'>[] = [];
  /**
   * The coordinator role as this worker last reported it (`roleChanged` events and progress
   * reports; `at` is the child's clock); undefined before the first report, or without a role
   * (`coordination: 'every-worker'`).
   */
  role: { readonly role: string; readonly holder: string | undefined; readonly at: number } | undefined;
  /** `error` and `processorError` events and a fatal start failure. */
  readonly errors: string[] = [];
  /** The child's `Date.now()` just before `worker.start()`. */
  startingAt: number | undefined;
  /** The child's `Date.now()` once `worker.start()` resolved. */
  startedAt: number | undefined;
  private readonly tail: JournalTail;
  private readonly workerListeners = new Set<(m: WorkerMessage) => void>();

  constructor(
    workerId: string,
    readonly journalPath: string,
    readonly logPath: string,
    child: ChildProcess,
    private readonly keepProgress = false,
  ) {
    super(workerId, child);
    this.tail = new JournalTail(journalPath);
    this.onRawMessage((raw) => {
      if (isWorkerMessage(raw)) this.apply(raw);
    });
  }

  /** The worker id. */
  get workerId(): string {
    return this.id;
  }

  protected override onExit(): void {
    this.held.clear();
  }

  /** The latest progress report. */
  get progress(): Of<'progress'> | undefined {
    return this.progressHistory.at(-1);
  }

  /** Calls `fn` on every later message; returns the unsubscribe function. */
  onMessage(fn: (m: WorkerMessage) => void): () => void {
    this.workerListeners.add(fn);
    return () => this.workerListeners.delete(fn);
  }

  private apply(m: WorkerMessage): void {
    switch (m.type) {
      case 'starting':
        this.startingAt = m.at;
        break;
      case 'started':
        this.startedAt = m.at;
        if (this.state === 'starting') this.state = 'running';
        break;
      case 'fatal':
        this.errors.push(`fatal: ${m.detail}`);
        break;
      case 'batch':
        this.batches.push(m);
        break;
      case 'role':
        this.role = { role: m.role, holder: m.holder, at: m.at };
        break;
      case 'progress':
        if (m.role && (this.role === undefined || this.role.at <= m.at)) this.role = { role: m.role.role, holder: m.role.holder, at: m.at };
        if (!this.keepProgress) this.progressHistory.length = 0;
        this.progressHistory.push(m);
        if (this.alive) {
          this.held.clear();
          for (const s of m.held) this.held.add(s);
        }
        break;
      case 'event':
        if (m.event === 'leaseAcquired' || m.event === 'leaseLost') {
          this.leaseEvents.push(m);
          if (m.shardId !== undefined && m.event === 'leaseAcquired') this.held.add(m.shardId);
          if (m.shardId !== undefined && m.event === 'leaseLost') this.held.delete(m.shardId);
        }
        if (m.event === 'error' || m.event === 'processorError') this.errors.push(`${m.event}${m.shardId ? ` on ${m.shardId}` : ''}: ${m.detail ?? ''}`);
        break;
      default:
        break;
    }
    for (const fn of this.workerListeners) fn(m);
  }

  /** This process's journal so far (read incrementally). */
  journal(): readonly JournalLine[] {
    return this.tail.read();
  }
}

/** The built worker entry, checked for presence and freshness against the sources. */
export function workerEntry(): string {
  const entry = fileURLToPath(new URL('../dist/worker-process.js', import.meta.url));
  const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
  const build = 'run `npx tsc --build packages/fleet` (or `pnpm build`) first';
  if (!existsSync(entry)) throw new Error(`${entry} is missing: ${build}`);
  if (existsSync(srcDir)) {
    const distDir = fileURLToPath(new URL('../dist/', import.meta.url));
    const stale = readdirSync(srcDir).filter((f) => {
      if (!f.endsWith('.ts')) return false;
      const built = join(distDir, f.replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(join(srcDir, f)).mtimeMs > statSync(built).mtimeMs;
    });
    if (stale.length > 0) throw new Error(`the fleet build is older than src/${stale[0]}: ${build}`);
  }
  return entry;
}

/** A set of worker processes sharing one application, its streams and one directory. */
export class Fleet {
  private readonly handles: WorkerHandle[] = [];
  private readonly entry: string;

  constructor(private readonly options: FleetOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.entry = options.entry ?? workerEntry();
  }

  /** The fleet's directory. */
  get dir(): string {
    return this.options.dir;
  }

  /** Every worker spawned so far (dead ones included), in spawn order. */
  get workers(): readonly WorkerHandle[] {
    return this.handles;
  }

  /** Workers whose process is alive. */
  running(): WorkerHandle[] {
    return this.handles.filter((h) => h.alive);
  }

  /** Workers alive and not told to stop (starting or running). */
  live(): WorkerHandle[] {
    return this.handles.filter((h) => h.alive && (h.state === 'starting' || h.state === 'running'));
  }

  /** The handle of a worker id. */
  get(workerId: string): WorkerHandle {
    const h = this.handles.find((x) => x.workerId === workerId);
    if (!h) throw new Error(`no worker ${workerId} in this fleet`);
    return h;
  }

  /** Forks a worker process. A worker id must be unique within the fleet (each has its own journal). */
  spawn(workerId: string, overrides: Partial<FleetBase> = {}): WorkerHandle {
    if (this.handles.some((h) => h.workerId === workerId)) throw new Error(`worker id ${workerId} was already used in this fleet`);
    const journalPath = join(this.options.dir, `${workerId}.journal.jsonl`);
    const logPath = join(this.options.dir, `${workerId}.log`);
    const base = this.options.base;
    const config: WorkerProcessConfig = { ...base, ...overrides, worker: { ...base.worker, ...overrides.worker }, workerId, journalPath, logPath };
    const child = forkChild({ entry: this.entry, env: { [WORKER_CONFIG_ENV]: JSON.stringify(config) }, outPath: join(this.options.dir, `${workerId}.out`) });
    const handle = new WorkerHandle(workerId, journalPath, logPath, child, this.options.keepProgress);
    this.handles.push(handle);
    const { onMessage, onExit } = this.options;
    if (onMessage) handle.onMessage((m) => onMessage(handle, m));
    if (onExit) void handle.exited.then(() => onExit(handle));
    return handle;
  }

  /**
   * Replaces a worker: waits for its process to end (SIGTERM first if it still runs), then
   * spawns `newId` with the same settings.
   */
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
    const ids = new Set<string>();
    for (const l of this.journals()) if (l.type === 'record') ids.add(recordKey(l));
    return ids;
  }

  /** How many of `puts` were not processed yet, per the journals. */
  unprocessed(puts: readonly { readonly stream?: string; readonly key: string; readonly n: number }[]): number {
    const ids = this.processedIds();
    return puts.reduce((n, p) => n + (ids.has(recordKey(p)) ? 0 : 1), 0);
  }

  /**
   * Graceful stop of every live worker (paused ones are resumed first), in parallel; those
   * not gone after `timeoutMs` are killed. Resolves the ids of the workers that had to be killed.
   */
  async terminateAll(timeoutMs = 30_000): Promise<string[]> {
    const results = await Promise.all(this.running().map(async (h) => ({ id: h.workerId, graceful: await h.stop(timeoutMs) })));
    return results.filter((r) => !r.graceful).map((r) => r.id);
  }

  /** SIGKILLs every live worker and waits for them (cleanup, also after failures). */
  async killAll(): Promise<void> {
    const live = this.running();
    for (const h of live) h.kill9();
    await Promise.all(live.map((h) => h.exited));
  }
}
