/**
 * The payload of every record the fleet's producer writes: the partition key, the key's own
 * counter `n` (0, 1, 2, … in put order) and the time the record was built, padded on request.
 * @module
 */

/** A decoded payload. */
export interface Payload {
  /** Partition key. */
  readonly k: string;
  /** Per-key counter, in put order. */
  readonly n: number;
  /** `Date.now()` when the record was built (absent in hand-made test records). */
  readonly t?: number;
}

/** Encodes a payload as UTF-8 JSON, padded to about `bytes` bytes when that is more. */
export function encodePayload(payload: Payload, bytes = 0): Uint8Array {
  const base = JSON.stringify(payload);
  const pad = bytes - base.length - 8;
  return Buffer.from(pad > 0 ? JSON.stringify({ ...payload, p: 'x'.repeat(pad) }) : base, 'utf8');
}

/** Decodes a payload written by {@link encodePayload}; `undefined` for anything else. */
export function decodePayload(data: Uint8Array): Payload | undefined {
  try {
    const value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Partial<Payload>;
    if (typeof value.k === 'string' && typeof value.n === 'number') return { k: value.k, n: value.n, ...(typeof value.t === 'number' && { t: value.t }) };
  } catch {
    // not ours
  }
  return undefined;
}

/** One processed record as the tools report it: [partition key, n, put time (epoch ms)]. */
export type SeenRecord = readonly [key: string, n: number, putAt: number];
