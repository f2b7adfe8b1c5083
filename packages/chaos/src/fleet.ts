/**
 * Starts and mistreats chaos worker processes: `spawn` forks `worker-process.js` (the built
 * one, in `dist/`), and each {@link WorkerHandle} can be killed (`SIGKILL`), paused
 * (`SIGSTOP`/`SIGCONT`) or terminated gracefully (`SIGTERM`). Every process writes its journal
 * and logs into the fleet's directory.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJournalFile, type JournalLine } from './journal.js';
import { mergeTuning, WORKER_CONFIG_ENV, type WorkerProcessConfig } from './worker-config.js';

/** Options of a {@link Fleet}. */
export interface FleetOptions {
  /** Directory for journals (`<workerId>.journal.jsonl`), logs and stdout/stderr. Created if absent. */
  readonly dir: string;
  /** Settings shared by every worker of the fleet. */
  readonly base: Omit<WorkerProcessConfig, 'workerId' | 'journalPath' | 'logPath'>;
  /** The worker entry module. @default `dist/worker-process.js` of this package */
  readonly entry?: string;
}

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every child ever forked by any fleet of this process, killed on exit so none is left behind. */
const allChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function registerChild(child: ChildProcess): void {
  allChildren.add(child);
  child.once('exit', () => allChildren.delete(child));
  if (!exitHookInstalled) {
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
}

/** One worker process. */
export class WorkerHandle {
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private paused = false;

  constructor(
    readonly workerId: string,
    readonly journalPath: string,
    readonly logPath: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

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

  /** `kill -9`: no shutdown, no lease release. */
  kill9(): void {
    this.signal('SIGKILL');
  }

  /** `kill -STOP`: the process freezes (a GC pause, a VM migration, a stuck host). */
  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  /** `kill -CONT`: the frozen process resumes where it was. */
  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** `kill -TERM`: graceful shutdown (checkpoint, release leases), then exit. */
  terminate(): void {
    if (this.paused) this.resume();
    this.signal('SIGTERM');
  }

  /** Sends a signal if the process is still alive. */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      this.child.kill(signal);
    } catch {
      // exited meanwhile
    }
  }

  /** Waits for the exit; rejects after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker ${this.workerId} (pid ${this.pid}) did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** This process's journal. */
  journal(): JournalLine[] {
    return readJournalFile(this.journalPath);
  }
}

/** The built worker entry, checked for presence and freshness against the sources. */
export function workerEntry(): string {
  const entry = fileURLToPath(new URL('../dist/worker-process.js', import.meta.url));
  const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
  const build = 'run `npx tsc --build packages/chaos` (or `pnpm build`) first';
  if (!existsSync(entry)) throw new Error(`${entry} is missing: ${build}`);
  if (existsSync(srcDir)) {
    const distDir = fileURLToPath(new URL('../dist/', import.meta.url));
    const stale = readdirSync(srcDir).filter((f) => {
      if (!f.endsWith('.ts')) return false;
      const built = join(distDir, f.replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(join(srcDir, f)).mtimeMs > statSync(built).mtimeMs;
    });
    if (stale.length > 0) throw new Error(`the chaos build is older than src/${stale[0]}: ${build}`);
  }
  return entry;
}

/** A set of chaos worker processes sharing one stream, application and directory. */
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

  /** Every worker spawned so far (dead ones included). */
  get workers(): readonly WorkerHandle[] {
    return this.handles;
  }

  /** Workers whose process is alive. */
  running(): WorkerHandle[] {
    return this.handles.filter((h) => h.alive);
  }

  /** The handle of a worker id (the latest one spawned with it). */
  get(workerId: string): WorkerHandle {
    const h = this.handles.filter((x) => x.workerId === workerId).at(-1);
    if (!h) throw new Error(`no worker ${workerId} in this fleet`);
    return h;
  }

  /** Forks a worker process. A worker id must be unique within the fleet (each has its own journal). */
  spawn(workerId: string, overrides: Partial<Omit<WorkerProcessConfig, 'workerId' | 'journalPath' | 'logPath'>> = {}): WorkerHandle {
    if (this.handles.some((h) => h.workerId === workerId)) throw new Error(`worker id ${workerId} was already used in this fleet`);
    const journalPath = join(this.options.dir, `${workerId}.journal.jsonl`);
    const logPath = join(this.options.dir, `${workerId}.log`);
    const config: WorkerProcessConfig = {
      ...this.options.base,
      ...overrides,
      worker: mergeTuning(this.options.base.worker, overrides.worker),
      workerId,
      journalPath,
      logPath,
    };
    const out = openSync(join(this.options.dir, `${workerId}.out`), 'a');
    let child: ChildProcess;
    try {
      child = fork(this.entry, [], {
        env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
        execArgv: ['--enable-source-maps'],
        stdio: ['ignore', out, out, 'ipc'],
        serialization: 'json',
      });
    } finally {
      closeSync(out);
    }
    registerChild(child);
    const handle = new WorkerHandle(workerId, journalPath, logPath, child);
    this.handles.push(handle);
    return handle;
  }

  /** Every line of every journal of the fleet. */
  journals(): JournalLine[] {
    return this.handles.flatMap((h) => h.journal());
  }

  /**
   * Graceful stop of every live worker (paused ones are resumed first), in parallel; those
   * not gone after `timeoutMs` are killed. Resolves the ids of the workers that had to be killed.
   */
  async terminateAll(timeoutMs = 30_000): Promise<string[]> {
    const live = this.running();
    for (const h of live) h.terminate();
    const killed: string[] = [];
    await Promise.all(
      live.map(async (h) => {
        try {
          await h.waitForExit(timeoutMs);
        } catch {
          killed.push(h.workerId);
          h.kill9();
          await h.exited;
        }
      }),
    );
    return killed;
  }

  /** SIGKILLs every live worker and waits for them (for afterEach/afterAll, also after failures). */
  async killAll(): Promise<void> {
    const live = this.running();
    for (const h of live) {
      h.kill9();
    }
    await Promise.all(live.map((h) => h.exited));
  }
}
