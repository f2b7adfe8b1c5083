/**
 * The journal a fleet worker process writes: one JSON object per line, appended with
 * `appendFileSync` so a line is on disk before the worker goes on (a `kill -9` loses at most
 * a torn last line, which the reader skips). Each worker process writes its own file; nothing
 * is shared between processes.
 * @module
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Position } from './positions.js';

/** Where a checkpoint was requested from. */
export type CheckpointPhase = 'batch' | 'shutdown' | 'shard-end';

/** Fields common to every line. */
export interface JournalBase {
  /** Worker id. */
  readonly worker: string;
  /** Wall-clock time of the line (ms since the epoch; every process runs on the same machine). */
  readonly at: number;
  /** Process id of the writer. */
  readonly pid: number;
  /**
   * Multi-stream workers only: the stream of the line's shard (shard ids repeat across
   * streams, so a shard is named by (stream, shard)). Absent for a single-stream worker.
   */
  readonly stream?: string;
}

/**
 * The key of a shard across streams: `stream/shard` when the line (or put) names a stream,
 * the bare shard id otherwise (single-stream journals are unchanged).
 */
export function shardKey(stream: string | undefined, shard: string): string {
  return stream === undefined ? shard : `${stream}/${shard}`;
}

/** The stream and shard of a lease key: `account:stream:creationEpoch:shard` (multi-stream), or a bare shard id. */
export function leaseShard(leaseKey: string): { readonly stream?: string; readonly shard: string } {
  const parts = leaseKey.split(':');
  return parts.length === 4 ? { stream: parts[1]!, shard: parts[3]! } : { shard: leaseKey };
}

/** The key of a record: `key#n`, prefixed with `stream/` when a stream is named (the producer writes the same keys to every stream). */
export function recordKey(r: { readonly stream?: string; readonly key: string; readonly n: number }): string {
  return r.stream === undefined ? `${r.key}#${r.n}` : `${r.stream}/${r.key}#${r.n}`;
}

/** Fields of every line about one epoch of one shard. */
type OfEpoch = { readonly shard: string; readonly epoch: string };
/** Fields of every checkpoint line. */
type OfCheckpoint = OfEpoch & Position & { readonly phase: CheckpointPhase };

/** The lines of a journal. An *epoch* is one processor instance: one worker's continuous ownership of one shard. */
export type JournalLine = JournalBase &
  (
    | { readonly type: 'start' | 'started' | 'stopped' }
    | { readonly type: 'start-failed' | 'error'; readonly error: string }
    | { readonly type: 'event'; readonly event: 'leaseAcquired' | 'leaseLost' | 'shardEnded'; readonly shard: string; readonly reason?: string; readonly children?: readonly string[] }
    | { readonly type: 'processor-error'; readonly shard: string; readonly error: string }
    /** The worker saw the coordinator role change hands (`roleChanged`); `holder` absent while it is free. */
    | { readonly type: 'role'; readonly role: string; readonly holder?: string }
    | ({ readonly type: 'init'; readonly checkpoint: string; readonly sub: number } & OfEpoch)
    | ({ readonly type: 'record'; readonly key: string; readonly n: number; readonly putAt?: number } & OfEpoch & Position)
    | ({ readonly type: 'checkpoint-begin' } & OfCheckpoint)
    | ({ readonly type: 'checkpoint'; readonly sentAt: number } & OfCheckpoint)
    | ({ readonly type: 'checkpoint-rejected'; readonly sentAt: number; readonly error: string } & OfCheckpoint)
    | ({ readonly type: 'checkpoint-failed'; readonly sentAt: number; readonly error: string } & OfCheckpoint)
    | ({ readonly type: 'shutdown-requested' | 'shard-ended' | 'lease-lost' } & OfEpoch)
  );

/** The type names of {@link JournalLine}. */
export type JournalLineType = JournalLine['type'];

/** The line of one type. */
export type LineOf<T extends JournalLineType> = Extract<JournalLine, { type: T }>;

/**
 * Parses a journal's text. Blank lines are skipped, and so is a torn LAST line (a process
 * killed in the middle of a write); a malformed line elsewhere throws, because it means the
 * journal is corrupt, not merely cut short.
 */
export function parseJournal(text: string, source = 'journal'): JournalLine[] {
  const lines = text.split('\n');
  const out: JournalLine[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as JournalLine);
    } catch (error) {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new Error(`${source}:${i + 1}: malformed journal line: ${line.slice(0, 200)}`, { cause: error });
    }
  });
  return out;
}

/** Lines of the given type, typed. */
export function linesOf<T extends JournalLineType>(lines: readonly JournalLine[], type: T): LineOf<T>[] {
  return lines.filter((l): l is LineOf<T> => l.type === type);
}

/** Shards a worker holds according to its journal lines (acquired, not yet lost or ended), as {@link shardKey}s. */
export function heldShards(lines: readonly JournalLine[], worker: string): Set<string> {
  const held = new Set<string>();
  for (const l of lines) {
    if (l.worker !== worker || l.type !== 'event') continue;
    if (l.event === 'leaseAcquired') held.add(shardKey(l.stream, l.shard));
    else held.delete(shardKey(l.stream, l.shard));
  }
  return held;
}

/** Distributive Omit, so each line type keeps its own fields. */
type LineBody = JournalLine extends infer L ? (L extends JournalLine ? Omit<L, 'worker' | 'at' | 'pid'> : never) : never;

/** Appends journal lines of one worker to its file. */
export class JournalWriter {
  constructor(
    readonly path: string,
    readonly worker: string,
  ) {}

  /** Appends lines in one synchronous write. */
  write(...bodies: LineBody[]): void {
    if (bodies.length === 0) return;
    const at = Date.now();
    const text = bodies.map((b) => JSON.stringify({ worker: this.worker, at, pid: process.pid, ...b })).join('\n') + '\n';
    appendFileSync(this.path, text);
  }
}

/** Text of an error, for the journal. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Follows a growing journal file: {@link JournalTail.read} returns every complete line so far,
 * reading only the bytes appended since the previous call (a partial last line waits for its end).
 */
export class JournalTail {
  private offset = 0;
  private partial = '';
  private readonly lines: JournalLine[] = [];

  constructor(readonly path: string) {}

  /** Every complete line of the file so far. */
  read(): readonly JournalLine[] {
    if (!existsSync(this.path)) return this.lines;
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, fstatSync(fd).size - this.offset));
      const got = buffer.length > 0 ? readSync(fd, buffer, 0, buffer.length, this.offset) : 0;
      this.offset += got;
      const text = this.partial + buffer.subarray(0, got).toString('utf8');
      const cut = text.lastIndexOf('\n');
      this.partial = text.slice(cut + 1);
      if (cut >= 0) this.lines.push(...parseJournal(text.slice(0, cut + 1), this.path));
      return this.lines;
    } finally {
      closeSync(fd);
    }
  }
}
