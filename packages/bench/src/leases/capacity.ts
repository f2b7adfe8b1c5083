/**
 * DynamoDB capacity rules, as the service charges them, for the lease simulation:
 * - item size: the sum over attributes of the name's UTF-8 length plus the value's size
 *   (strings: UTF-8 length; numbers: about one byte per two significant digits, plus one;
 *   binary: its length; sets and lists: the sum of their elements);
 * - reads in 4 KB units: a strongly consistent read costs 1 unit per 4 KB, an eventually
 *   consistent one half; a Scan or Query is charged on the total size of the items it reads
 *   (per 1 MB page, rounded up to 4 KB), whatever the projection; a Query of a keys-only index
 *   reads the index entries;
 * - writes in 1 KB units of the larger of the item before and after, failed conditional
 *   writes included;
 * - a global secondary index costs one write per entry put or deleted: a change of an
 *   indexed attribute deletes the old entry and puts the new one.
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Bytes of one attribute value. */
export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberBytes(s), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueBytes(v), 0);
  if (value.M !== undefined) return 3 + itemBytes(value.M);
  return 0;
}

/** Bytes of a number: one per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  return Math.ceil(Math.max(1, digits) / 2) + 1;
}

/** Bytes of an item (the unit DynamoDB charges by). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  return n;
}

/** Read units of reading `bytes` at once (one GetItem, or one page of a Scan or Query). */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}

/** The largest page a Scan or Query returns. */
export const PAGE_BYTES = 1024 * 1024;

/** Read units of a Scan (or Query) reading `totalBytes` in 1 MB pages. */
export function scanReadUnits(totalBytes: number, consistent: boolean): number {
  const fullPages = Math.floor(totalBytes / PAGE_BYTES);
  const rest = totalBytes - fullPages * PAGE_BYTES;
  return fullPages * readUnits(PAGE_BYTES, consistent) + (rest > 0 || fullPages === 0 ? readUnits(rest, consistent) : 0);
}

/** Write units of a write whose item is `before` bytes before and `after` bytes after (0 when absent). */
export function writeUnits(before: number, after: number): number {
  return Math.max(1, Math.ceil(Math.max(before, after) / 1024));
}
