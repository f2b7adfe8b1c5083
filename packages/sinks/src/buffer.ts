/**
 * The buffer of a {@link BatchingProcessor}: items in shard order, plus markers for records
 * that `transform` skipped (consecutive skipped records share one marker), so a checkpoint
 * after a flush can cover them without keeping every skipped record in memory.
 * @module
 */
import type { KinesisClientRecord } from '@kcl-ts/processor';
import type { SinkEntry } from './sink.js';

/** One buffered position: an item, or a run of skipped records ending at `record`. */
interface Slot<T> {
  readonly kind: 'item' | 'skip';
  /** The item (for `item` slots). */
  readonly item: T | undefined;
  /** The record of the item, or the last skipped record of the run. */
  record: KinesisClientRecord;
  /** Bytes of the item (0 for `skip`). */
  readonly size: number;
  /** Skipped records in the run (0 for `item`). */
  skipped: number;
  /** When the slot's first record was appended (monotonic ms). */
  readonly at: number;
}

/** The front of the buffer that one flush writes; see {@link RecordBuffer.peekChunk}. */
export interface Chunk<T> {
  /** Slots the chunk spans (items and skip markers). */
  readonly slots: number;
  /** The items, in order. */
  readonly entries: SinkEntry<T>[];
  /** Bytes of the items. */
  readonly bytes: number;
  /** Skipped records the chunk covers. */
  readonly skipped: number;
  /** The last record the chunk covers: what its checkpoint names. */
  readonly end: KinesisClientRecord;
}

/** Items and skip markers, oldest first. */
export class RecordBuffer<T> {
  private slots: Slot<T>[] = [];
  private itemCount = 0;
  private byteCount = 0;
  /** Slots that existed at the last {@link mark}; {@link rollback} keeps only those. */
  private marked = 0;

  /** Items buffered. */
  get items(): number {
    return this.itemCount;
  }

  /** Bytes of the buffered items. */
  get bytes(): number {
    return this.byteCount;
  }

  /** True when nothing (not even a skipped record) is buffered. */
  get isEmpty(): boolean {
    return this.slots.length === 0;
  }

  /** The last record appended, if the buffer is not empty. */
  get last(): KinesisClientRecord | undefined {
    return this.slots.at(-1)?.record;
  }

  /** When the oldest buffered record was appended (monotonic ms), if any. */
  get oldestAt(): number | undefined {
    return this.slots[0]?.at;
  }

  /** Appends an item. */
  push(item: T, record: KinesisClientRecord, size: number, at: number): void {
    this.slots.push({ kind: 'item', item, record, size, skipped: 0, at });
    this.itemCount++;
    this.byteCount += size;
  }

  /** Appends a skipped record (merged into a skip marker at the end, if there is one). */
  skip(record: KinesisClientRecord, at: number): void {
    const tail = this.slots.at(-1);
    // A marker from before the last mark is never extended, so a rollback can drop this one.
    if (tail?.kind === 'skip' && this.slots.length > this.marked) {
      tail.record = record;
      tail.skipped++;
      return;
    }
    this.slots.push({ kind: 'skip', item: undefined, record, size: 0, skipped: 1, at });
  }

  /**
   * The front of the buffer one flush takes: items up to `maxItems` and `maxBytes` (at least
   * one item, however large), with the skip markers among and right after them. Nothing is
   * removed until {@link commit}. Undefined when the buffer is empty.
   */
  peekChunk(maxItems: number, maxBytes: number): Chunk<T> | undefined {
    const entries: SinkEntry<T>[] = [];
    let bytes = 0;
    let skipped = 0;
    let count = 0;
    for (const slot of this.slots) {
      if (slot.kind === 'item') {
        if (entries.length >= maxItems || (entries.length > 0 && bytes + slot.size > maxBytes)) break;
        entries.push({ item: slot.item as T, record: slot.record });
        bytes += slot.size;
      } else {
        skipped += slot.skipped;
      }
      count++;
    }
    if (count === 0) return undefined;
    return { slots: count, entries, bytes, skipped, end: this.slots[count - 1]!.record };
  }

  /** Removes the first `slots` slots (a chunk that was written). */
  commit(slots: number): void {
    this.forget(this.slots.splice(0, slots));
    this.marked = Math.max(0, this.marked - slots);
  }

  /** Remembers the current end of the buffer: what {@link rollback} returns to. */
  mark(): void {
    this.marked = this.slots.length;
  }

  /**
   * Removes everything appended since the last {@link mark} that was not committed since:
   * the records of a batch whose `processRecords` fails (the Worker delivers them again).
   */
  rollback(): void {
    this.forget(this.slots.splice(this.marked));
  }

  /** Empties the buffer. */
  clear(): void {
    this.slots = [];
    this.itemCount = 0;
    this.byteCount = 0;
    this.marked = 0;
  }

  private forget(removed: readonly Slot<T>[]): void {
    for (const slot of removed) {
      if (slot.kind === 'item') {
        this.itemCount--;
        this.byteCount -= slot.size;
      }
    }
  }
}
