import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, fstatSync, writeSync } from 'node:fs';
import { join } from 'node:path';

// Every worker process appends what it does to its own journal file, one JSON object per
// line. Records are appended (one write per batch) BEFORE the batch is checkpointed, so a
// SIGKILL can lose nothing that was checkpointed: whatever the journal misses is reprocessed
// by the next owner. The orchestrator reads the journals to decide the verdict.

/** One record as processed by a worker. */
export interface RecordEntry {
  readonly type: 'record';
  readonly worker: string;
  readonly shard: string;
  /** Partition key. */
  readonly key: string;
  /** Per-key sequence number set by the producer (put order of the key). */
  readonly n: number;
  /** Kinesis sequence number (decimal string). */
  readonly seq: string;
  /** Sub-sequence number (aggregated records only). */
  readonly subSeq?: number;
  /** `Date.now()` when the processor handled it. */
  readonly processedAt: number;
  /** `Date.now()` in the producer when the record was built. */
  readonly putAt: number;
}

/** The processor reached the end of a shard; written just before the SHARD_END checkpoint. */
export interface EndEntry {
  readonly type: 'end';
  readonly worker: string;
  readonly shard: string;
  readonly endedAt: number;
}

/** A checkpoint that succeeded (written after the conditional write returned). */
export interface CheckpointEntry {
  readonly type: 'checkpoint';
  readonly worker: string;
  readonly shard: string;
  readonly seq: string;
  readonly subSeq?: number;
  readonly at: number;
}

/** The worker gained or lost a shard's lease (from the Worker's events). */
export interface LeaseEntry {
  readonly type: 'lease';
  readonly worker: string;
  readonly shard: string;
  readonly event: 'acquired' | 'lost';
  /** Why it was lost (e.g. `taken`, `released`, `expired`), as the Worker reports it. */
  readonly reason?: string;
  readonly at: number;
}

/** Any line of a journal. */
export type JournalEntry = RecordEntry | EndEntry | CheckpointEntry | LeaseEntry;

/** Everything read back from a set of journals. */
export interface Journals {
  readonly records: RecordEntry[];
  readonly ends: EndEntry[];
  readonly checkpoints: CheckpointEntry[];
  readonly leases: LeaseEntry[];
  /** Lines that did not parse (a SIGKILL in the middle of a write leaves at most one per file). */
  readonly tornLines: number;
}

/** The journal file of a worker inside `dir`. */
export function journalPath(dir: string, workerId: string): string {
  return join(dir, `${workerId}.jsonl`);
}

/** Appends entries to one journal with a single `write` per call (an O_APPEND file descriptor). */
export class JournalWriter {
  private readonly fd: number;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /** Appends `entries` (synchronously; returns once the kernel has the bytes). */
  append(entries: readonly JournalEntry[]): void {
    if (entries.length === 0 || this.closed) return;
    let text = '';
    for (const e of entries) text += `${JSON.stringify(e)}\n`;
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
  }

  /** Closes the file; later appends are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as { type?: unknown }).type;
  return t === 'record' || t === 'end' || t === 'checkpoint' || t === 'lease';
}

/** Parses journal text; lines that are not complete JSON entries are counted as torn. */
export function parseJournal(text: string, into: Journals = emptyJournals()): Journals {
  let torn = into.tornLines;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      torn++;
      continue;
    }
    if (!isEntry(value)) {
      torn++;
      continue;
    }
    if (value.type === 'record') into.records.push(value);
    else if (value.type === 'end') into.ends.push(value);
    else if (value.type === 'checkpoint') into.checkpoints.push(value);
    else into.leases.push(value);
  }
  return { ...into, tornLines: torn };
}

/** Journals with nothing in them. */
export function emptyJournals(): Journals {
  return { records: [], ends: [], checkpoints: [], leases: [], tornLines: 0 };
}

/** Reads every `*.jsonl` journal in `dir`. */
export function readJournals(dir: string): Journals {
  let out = emptyJournals();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.jsonl')) continue;
    out = parseJournal(readFileSync(join(dir, name), 'utf8'), out);
  }
  return out;
}

/**
 * Follows a growing journal: each `read()` returns only the complete lines appended since the
 * previous call (a trailing partial line is kept for the next call).
 */
export class JournalTail {
  private offset = 0;
  private partial = '';

  constructor(readonly path: string) {}

  read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      let got = 0;
      while (got < buffer.length) {
        const n = readSync(fd, buffer, got, buffer.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      this.offset += got;
      const text = this.partial + buffer.subarray(0, got).toString('utf8');
      const cut = text.lastIndexOf('\n');
      this.partial = cut < 0 ? text : text.slice(cut + 1);
      if (cut < 0) return [];
      const parsed = parseJournal(text.slice(0, cut + 1));
      return [...parsed.records, ...parsed.ends, ...parsed.checkpoints, ...parsed.leases];
    } finally {
      closeSync(fd);
    }
  }
}

/** Follows every journal of a directory and keeps the set of distinct (key, n) processed. */
export class JournalFollower {
  private readonly tails = new Map<string, JournalTail>();
  private readonly seen = new Set<string>();

  constructor(readonly dir: string) {}

  /** Reads what was appended since the last call. */
  poll(): void {
    if (!existsSync(this.dir)) return;
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.jsonl') || this.tails.has(name)) continue;
      this.tails.set(name, new JournalTail(join(this.dir, name)));
    }
    for (const tail of this.tails.values()) {
      for (const entry of tail.read()) if (entry.type === 'record') this.seen.add(`${entry.key}\u0000${entry.n}`);
    }
  }

  /** Distinct records processed so far. */
  get processed(): number {
    return this.seen.size;
  }

  /** Whether (key, n) was processed. */
  has(key: string, n: number): boolean {
    return this.seen.has(`${key}\u0000${n}`);
  }
}
