// Live progress: on a terminal, a table redrawn in place with event lines scrolling above it;
// elsewhere (CI, a pipe), plain lines: events as they happen and a one-line summary every few
// seconds.

/** One row of the table. */
export interface ShardRow {
  readonly shardId: string;
  /** open: takes writes; closed: resharded away, still being read; ended: read to its end. */
  readonly status: 'open' | 'closed' | 'ended';
  readonly owner: string | undefined;
  /** Records processed on it, by all workers (duplicates included). */
  readonly records: number;
  readonly lagMs: number | undefined;
  /** The latest event on the shard (lease taken or lost, shard ended), shown beside it on a terminal. */
  readonly event?: string;
}

/** What the dashboard shows. */
export interface DashboardState {
  readonly elapsedMs: number;
  readonly put: number;
  /** Distinct records processed so far (from the journals). */
  readonly processed: number;
  readonly shards: readonly ShardRow[];
  readonly workers: readonly { readonly id: string; readonly state: string; readonly leases: number }[];
}

/** Options of a {@link Dashboard}. */
export interface DashboardOptions {
  /** Where to write. @default process.stdout */
  readonly out?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force TTY or plain mode. @default out.isTTY */
  readonly tty?: boolean;
  /** In plain mode, print the summary line at most this often. @default 5000 */
  readonly plainIntervalMs?: number;
  /** Origin of the `+12.3s` stamps (a `Date.now()` value). @default construction time */
  readonly startedAt?: number;
}

/**
 * `shardId-000000000004` → `shard-4`; a multi-stream key `kcl-demo-x-s2/shardId-000000000004`
 * → `s2/shard-4` (the last `-` part of the stream name).
 */
export function shortShard(shardId: string): string {
  const slash = shardId.lastIndexOf('/');
  if (slash >= 0) return `${shardId.slice(0, slash).split('-').at(-1)}/${shortShard(shardId.slice(slash + 1))}`;
  const m = /(\d+)$/.exec(shardId);
  return m ? `shard-${Number(m[1])}` : shardId;
}

/** Formats the table (TTY mode). */
export function formatTable(state: DashboardState): string[] {
  const lines = [
    `  t=${(state.elapsedMs / 1000).toFixed(0)}s  put ${state.put}  processed ${state.processed}`,
    `  ${'shard'.padEnd(10)} ${'owner'.padEnd(6)} ${'records'.padStart(8)} ${'lag ms'.padStart(8)}  ${'state'.padEnd(7)} last event`,
  ];
  for (const s of state.shards) {
    lines.push(`  ${shortShard(s.shardId).padEnd(10)} ${(s.owner ?? '-').padEnd(6)} ${String(s.records).padStart(8)} ${String(s.lagMs ?? '-').padStart(8)}  ${s.status.padEnd(7)} ${s.event ?? ''}`.trimEnd());
  }
  lines.push(`  workers: ${state.workers.map((w) => (w.state === 'running' ? `${w.id}(${w.leases})` : `${w.id}[${w.state}]`)).join(' ')}`);
  return lines;
}

/** Formats the one-line summary (plain mode). */
export function formatLine(state: DashboardState): string {
  const shards = state.shards
    .filter((s) => s.status !== 'ended' || s.owner !== undefined)
    .map((s) => `${shortShard(s.shardId).replace('shard-', 's')}:${s.owner ?? '-'}${s.status === 'open' ? '' : `(${s.status})`} ${s.records}${s.lagMs ? `/${s.lagMs}ms` : ''}`)
    .join(' ');
  return `put=${state.put} processed=${state.processed} | ${shards}`;
}

/** Renders progress and events. */
export class Dashboard {
  private readonly out: NonNullable<DashboardOptions['out']>;
  private readonly tty: boolean;
  private readonly plainIntervalMs: number;
  /** Origin of the time stamps. */
  readonly startedAt: number;
  private drawn = 0;
  private last: DashboardState | undefined;
  private lastPlainAt = Number.NEGATIVE_INFINITY;

  constructor(options: DashboardOptions = {}) {
    this.out = options.out ?? process.stdout;
    this.tty = options.tty ?? Boolean(this.out.isTTY);
    this.plainIntervalMs = options.plainIntervalMs ?? 5_000;
    this.startedAt = options.startedAt ?? Date.now();
  }

  private stamp(): string {
    return `[+${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(5)}s]`;
  }

  private clear(): void {
    if (this.tty && this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(state: DashboardState): void {
    const lines = formatTable(state);
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  /** Prints an event line (above the table on a terminal). */
  event(text: string): void {
    this.clear();
    this.out.write(`${this.stamp()} ${text}\n`);
    if (this.tty && this.last) this.draw(this.last);
  }

  /** Updates the progress display. */
  render(state: DashboardState): void {
    this.last = state;
    if (this.tty) {
      this.clear();
      this.draw(state);
      return;
    }
    const now = Date.now();
    if (now - this.lastPlainAt < this.plainIntervalMs) return;
    this.lastPlainAt = now;
    this.out.write(`${this.stamp()} ${formatLine(state)}\n`);
  }

  /** Stops redrawing; the last table stays on screen. */
  close(): void {
    this.last = undefined;
    this.drawn = 0;
  }
}
