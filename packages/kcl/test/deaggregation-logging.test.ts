import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { deaggregate, KPL_MAGIC, type DeaggregationInput } from '../src/retrieval/index.js';

// Record content (data, partition and hash keys) must never be logged above debug.
const SECRET_KEY = 'customer-4711@example.com';
const SECRET_HASH_KEY = 'not-a-decimal-hash-key';
const SEQ = '49590338271490256608559692538361571095921575989136588898';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger at `level` whose lines are captured, as the fetcher's child logger is built. */
function capturingLogger(level: 'debug' | 'info'): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const root = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger: root.child({ component: 'polling-fetcher', shardId: 'shardId-000000000007' }), lines };
}

const frame = (protobuf: Uint8Array): Buffer => Buffer.concat([KPL_MAGIC, protobuf, createHash('md5').update(protobuf).digest()]);
const record = (data: Uint8Array): DeaggregationInput => ({ data, partitionKey: SECRET_KEY, sequenceNumber: SEQ, approximateArrivalTimestamp: new Date(0) });

// An aggregate whose only user record names explicit hash key 0, a table entry that is no number.
const str = (field: number, s: string): number[] => [field * 8 + 2, s.length, ...Buffer.from(s)];
const badHashKeyAggregate = Uint8Array.from([
  ...str(1, 'pk'),
  ...str(2, SECRET_HASH_KEY),
  ...[3 * 8 + 2, 7, 1 * 8, 0, 2 * 8, 0, 3 * 8 + 2, 1, 0x2a],
]);

const malformed: [string, Uint8Array][] = [
  ['a checksum mismatch', Buffer.concat([KPL_MAGIC, Buffer.from([1, 2, 3]), Buffer.alloc(16)])],
  ['a truncated protobuf', frame(Uint8Array.from([0x0a, 0x40, 0x41]))],
  ['an explicit hash key that is not a number', frame(badHashKeyAggregate)],
];

describe('deaggregate logs malformed aggregates without record content above debug', () => {
  it.each(malformed)('%s: warn has the sequence number and shard id, not the keys', (_, data) => {
    const { logger, lines } = capturingLogger('info');
    const out = deaggregate(record(data), { logger, hashKeyRange: { startingHashKey: '0', endingHashKey: String(2n ** 128n - 1n) } });
    expect(out).toHaveLength(1);
    expect(out[0]!.aggregated).toBe(false);
    expect(lines).toHaveLength(1);
    const warn = lines[0]!;
    expect(warn).toMatchObject({ level: 40, sequenceNumber: SEQ, shardId: 'shardId-000000000007' });
    expect(warn.msg).toMatch(/not a valid aggregate/);
    expect(JSON.stringify(warn)).not.toContain(SECRET_KEY);
    expect(JSON.stringify(warn)).not.toContain(SECRET_HASH_KEY);
    expect(warn).not.toHaveProperty('partitionKey');
  });

  it('the partition key is logged at debug only', () => {
    const { logger, lines } = capturingLogger('debug');
    deaggregate(record(malformed[0]![1]), { logger });
    expect(lines.map((l) => l.level)).toEqual([40, 20]);
    expect(lines[1]).toMatchObject({ level: 20, sequenceNumber: SEQ, partitionKey: SECRET_KEY, shardId: 'shardId-000000000007' });
    for (const line of lines.filter((l) => l.level > 20)) expect(JSON.stringify(line)).not.toContain(SECRET_KEY);
  });
});
