/**
 * What the emulator process's front (the chaos suite's fault proxy before kinesalite) counts:
 * requests per operation and GetRecords calls per (stream, shard), with the Kinesis limit of
 * 5 GetRecords calls per second per shard enforced on request. Pure bookkeeping (time is
 * passed in), used by `emulator-process.ts`.
 * @module
 */
import type { FaultRule } from '@kcl-ts/chaos/fault-proxy';
import { createDecipheriv } from 'node:crypto';
import type { StreamCounts } from './emulators.js';

// kinesalite's iterator cipher (db/index.js: ITERATOR_PWD_KEY / ITERATOR_PWD_IV), public constants.
const ITERATOR_KEY = Buffer.from('1133a5a833666b49abf28c8ba302930f0b2fb240dccd43cf4dfbc0ca91f17751', 'hex');
const ITERATOR_IV = Buffer.from('7bf139dbabbea2d9995d6fcae1dff7da', 'hex');

/** Kinesis allows 5 GetRecords calls per second per shard, shared by every consumer. */
export const GET_RECORDS_PER_SECOND = 5;

/**
 * `[stream, shard]` of a kinesalite shard iterator (8 bytes of header, then AES-256-CBC of
 * `time/stream/shard/sequence/padding`), or undefined for anything else.
 */
export function kinesaliteIteratorShard(iterator: string): [stream: string, shard: string] | undefined {
  try {
    const buffer = Buffer.from(iterator, 'base64');
    const decipher = createDecipheriv('aes-256-cbc', ITERATOR_KEY, ITERATOR_IV);
    const pieces = Buffer.concat([decipher.update(buffer.subarray(8)), decipher.final()]).toString('utf8').split('/');
    return pieces.length === 5 ? [pieces[1]!, pieces[2]!] : undefined;
  } catch {
    return undefined;
  }
}

interface Counts {
  readonly getRecords: Map<string, number>;
  readonly attempts: Map<string, number>;
  /** Times (ms) of the served GetRecords calls of the last second, per shard. */
  readonly recent: Map<string, number[]>;
  throttled: number;
  readonly operations: Map<string, number>;
}

const increment = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/** Per-stream counters of Kinesis requests. */
export class CallCounter {
  private readonly streams = new Map<string, Counts>();
  /** Answer GetRecords over the limit with ProvisionedThroughputExceededException. */
  enforceLimit = false;

  private of(stream: string): Counts {
    let c = this.streams.get(stream);
    if (!c) {
      c = { getRecords: new Map(), attempts: new Map(), recent: new Map(), throttled: 0, operations: new Map() };
      this.streams.set(stream, c);
    }
    return c;
  }

  /** Counts one request of `operation` naming `stream`. */
  operation(stream: string, operation: string): void {
    increment(this.of(stream).operations, operation);
  }

  /**
   * Counts one GetRecords call on a shard at `nowMs` (a monotonic time); returns false when it
   * must be throttled: the limit is enforced and the shard already served 5 calls in the last
   * second (a sliding window).
   */
  admitGetRecords(stream: string, shard: string, nowMs: number): boolean {
    const c = this.of(stream);
    increment(c.operations, 'GetRecords');
    increment(c.attempts, shard);
    let recent = c.recent.get(shard);
    if (!recent) c.recent.set(shard, (recent = []));
    while (recent.length > 0 && nowMs - recent[0]! >= 1_000) recent.shift();
    if (this.enforceLimit && recent.length >= GET_RECORDS_PER_SECOND) {
      c.throttled++;
      return false;
    }
    recent.push(nowMs);
    increment(c.getRecords, shard);
    return true;
  }

  /**
   * Counts one request seen by the front (`body`: its JSON text) at `nowMs`; a throttle fault
   * for a GetRecords call over the limit. GetRecords names its shard through the iterator
   * (kinesalite's iterators are AES-encrypted with a fixed, public key), so the count costs the
   * clients nothing. PutRecord(s) are not read: large bodies, and their counts are not needed.
   */
  inspect(operation: string, body: string, nowMs: number): FaultRule | undefined {
    if (operation === 'PutRecords' || operation === 'PutRecord') return undefined;
    let input: { StreamName?: string; StreamARN?: string; ShardIterator?: string };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return undefined; // not JSON: nothing to count
    }
    if (operation === 'GetRecords') {
      const shard = kinesaliteIteratorShard(input.ShardIterator ?? '');
      return shard && !this.admitGetRecords(shard[0], shard[1], nowMs) ? { kind: 'throttle' } : undefined;
    }
    const stream = input.StreamName ?? input.StreamARN?.split('/').pop();
    if (stream) this.operation(stream, operation);
    return undefined;
  }

  /** The counts of one stream so far. */
  snapshot(stream: string): StreamCounts {
    const c = this.of(stream);
    return { getRecords: Object.fromEntries(c.getRecords), attempts: Object.fromEntries(c.attempts), throttled: c.throttled, operations: Object.fromEntries(c.operations) };
  }

  /** Drops a stream's counts. */
  forget(stream: string): void {
    this.streams.delete(stream);
  }
}
