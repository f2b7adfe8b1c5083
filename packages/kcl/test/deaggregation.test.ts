import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '@kcl-ts/processor';
import { deaggregate, hashKeyForPartitionKey, isAggregated, KPL_MAGIC, type DeaggregationInput } from '../src/retrieval/index.js';
import { md5Into } from '../src/retrieval/aggregation/md5.js';

// The official KPL aggregation library produces the test vectors; our decoder shares no code with it.
const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg') as {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer; explicitHashKey?: string }): void;
    build(): { partitionKey: string; data: Buffer } | undefined;
  };
  deaggregateSync(
    record: { Data: Buffer; PartitionKey: string; SequenceNumber: string },
    computeChecksums: boolean,
    done: (err: Error | null, records?: { PartitionKey: string; ExplicitPartitionKey?: string; SubSequenceNumber: number; Data: string }[]) => void,
  ): void;
};

interface UserRecordSpec {
  partitionKey: string;
  data: Buffer;
  explicitHashKey?: string;
}

const ARRIVAL = new Date('2026-01-02T03:04:05.000Z');
const SEQ = '49590338271490256608559692538361571095921575989136588898';

function aggregate(records: readonly UserRecordSpec[]): Buffer {
  const aggregator = new agg.RecordAggregator();
  for (const r of records) aggregator.addUserRecord({ ...r });
  const built = aggregator.build();
  if (!built) throw new Error('aws-kinesis-agg built nothing');
  return built.data;
}

function kinesisRecord(data: Uint8Array, overrides: Partial<DeaggregationInput> = {}): DeaggregationInput {
  return { data, partitionKey: 'outer-key', sequenceNumber: SEQ, approximateArrivalTimestamp: ARRIVAL, ...overrides };
}

function md5(bytes: Uint8Array): Buffer {
  return createHash('md5').update(bytes).digest();
}

/** Wraps hand-made protobuf bytes as a KPL record with a correct checksum. */
function frame(protobuf: Uint8Array): Buffer {
  return Buffer.concat([KPL_MAGIC, protobuf, md5(protobuf)]);
}

// A tiny protobuf writer for hand-made (and deliberately broken) aggregates.
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const tag = (field: number, wireType: number): number[] => varint(field * 8 + wireType);
const bytesField = (field: number, payload: Uint8Array | number[]): number[] => [...tag(field, 2), ...varint(payload.length), ...payload];
const stringField = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s, 'utf8')]);
const varintField = (field: number, n: number): number[] => [...tag(field, 0), ...varint(n)];

function fakeLogger(): { logger: Logger; warn: ReturnType<typeof vi.fn> } {
  const warn = vi.fn();
  return { logger: { warn } as unknown as Logger, warn };
}

function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${md5(Buffer.from(partitionKey, 'utf8')).toString('hex')}`);
}

const MAX = (1n << 128n) - 1n;
const LOWER_HALF = { startingHashKey: '0', endingHashKey: ((1n << 127n) - 1n).toString() };
const UPPER_HALF = { startingHashKey: (1n << 127n).toString(), endingHashKey: MAX.toString() };

describe('deaggregate', () => {
  it('returns every user record of an aws-kinesis-agg aggregate with data, keys and sub-sequence numbers', () => {
    const specs: UserRecordSpec[] = Array.from({ length: 25 }, (_, i) => ({
      partitionKey: `key-${i % 7}`,
      data: Buffer.from(`payload #${i} `.repeat(i + 1)),
      ...(i % 5 === 0 && { explicitHashKey: (BigInt(i) * 10n ** 30n).toString() }),
    }));
    const data = aggregate(specs);
    expect(isAggregated(data)).toBe(true);

    const out = deaggregate(kinesisRecord(data, { encryptionType: 'KMS' }));

    expect(out).toHaveLength(specs.length);
    out.forEach((r, i) => {
      expect(Buffer.from(r.data).equals(specs[i]!.data)).toBe(true);
      expect(r.partitionKey).toBe(specs[i]!.partitionKey);
      expect(r.explicitHashKey).toBe(specs[i]!.explicitHashKey);
      expect(r.subSequenceNumber).toBe(i);
      expect(r.sequenceNumber).toBe(SEQ);
      expect(r.aggregated).toBe(true);
      expect(r.approximateArrivalTimestamp).toBe(ARRIVAL);
      expect(r.encryptionType).toBe('KMS');
    });
  });

  it('agrees with aws-kinesis-agg deaggregateSync on random aggregates', () => {
    const spec = fc.record({
      // aws-kinesis-agg keeps its key table in a plain object, so it mis-encodes '__proto__'.
      partitionKey: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((k) => k !== '__proto__'),
      data: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 30 }), (specs) => {
        const data = aggregate(specs);
        let theirs: { PartitionKey: string; SubSequenceNumber: number; Data: string }[] = [];
        agg.deaggregateSync({ Data: data, PartitionKey: 'p', SequenceNumber: SEQ }, true, (err, records) => {
          if (err) throw err;
          theirs = records!;
        });
        const ours = deaggregate(kinesisRecord(data));
        expect(ours.map((r) => ({ pk: r.partitionKey, sub: r.subSequenceNumber, data: Buffer.from(r.data).toString('base64') }))).toEqual(
          theirs.map((r) => ({ pk: r.PartitionKey, sub: r.SubSequenceNumber, data: r.Data })),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('returns data blobs as views of the input, without copying', () => {
    const data = aggregate([{ partitionKey: 'a', data: Buffer.from('hello') }]);
    const [r] = deaggregate(kinesisRecord(data));
    expect(r!.data.buffer).toBe(data.buffer);
  });

  it('drops user records outside the hash-key range but keeps the others\u2019 sub-sequence numbers', () => {
    const specs: UserRecordSpec[] = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `user-${i}`, data: Buffer.from(`d${i}`) }));
    const data = aggregate(specs);
    const expectedLower = specs.map((s, i) => ({ s, i })).filter(({ s }) => hashKeyOf(s.partitionKey) < 1n << 127n);
    // Sanity: the split really separates the records.
    expect(expectedLower.length).toBeGreaterThan(0);
    expect(expectedLower.length).toBeLessThan(specs.length);

    const lower = deaggregate(kinesisRecord(data), { hashKeyRange: LOWER_HALF });
    const upper = deaggregate(kinesisRecord(data), { hashKeyRange: UPPER_HALF });

    expect(lower.map((r) => r.subSequenceNumber)).toEqual(expectedLower.map(({ i }) => i));
    expect(lower.map((r) => r.partitionKey)).toEqual(expectedLower.map(({ s }) => s.partitionKey));
    expect([...lower, ...upper].map((r) => r.subSequenceNumber).sort((a, b) => a! - b!)).toEqual(specs.map((_, i) => i));
  });

  it('uses the explicit hash key, not the partition key, for range checks when one is set', () => {
    const inLower = '12345';
    const inUpper = (MAX - 5n).toString();
    const specs: UserRecordSpec[] = [
      { partitionKey: 'same', data: Buffer.from('a'), explicitHashKey: inLower },
      { partitionKey: 'same', data: Buffer.from('b'), explicitHashKey: inUpper },
      { partitionKey: 'same', data: Buffer.from('c'), explicitHashKey: inLower },
    ];
    const data = aggregate(specs);
    const lower = deaggregate(kinesisRecord(data), { hashKeyRange: LOWER_HALF });
    expect(lower.map((r) => [r.subSequenceNumber, Buffer.from(r.data).toString(), r.explicitHashKey])).toEqual([
      [0, 'a', inLower],
      [2, 'c', inLower],
    ]);
    const upper = deaggregate(kinesisRecord(data), { hashKeyRange: UPPER_HALF });
    expect(upper.map((r) => r.subSequenceNumber)).toEqual([1]);
  });

  it('treats range bounds as inclusive', () => {
    const key = 'boundary';
    const h = hashKeyOf(key).toString();
    const data = aggregate([{ partitionKey: key, data: Buffer.from('x') }]);
    expect(deaggregate(kinesisRecord(data), { hashKeyRange: { startingHashKey: h, endingHashKey: h } })).toHaveLength(1);
    const below = (hashKeyOf(key) - 1n).toString();
    expect(deaggregate(kinesisRecord(data), { hashKeyRange: { startingHashKey: '0', endingHashKey: below } })).toHaveLength(0);
  });

  it('handles unicode partition keys, for both the keys and the range checks', () => {
    const keys = ['caf\u00e9', '\u6771\u4eac', '\ud83d\ude80 rocket', '\u0645\u0631\u062d\u0628\u0627', 'z\u0308\u00df'];
    const data = aggregate(keys.map((k, i) => ({ partitionKey: k, data: Buffer.from([i]) })));
    expect(deaggregate(kinesisRecord(data)).map((r) => r.partitionKey)).toEqual(keys);
    const lower = deaggregate(kinesisRecord(data), { hashKeyRange: LOWER_HALF });
    expect(lower.map((r) => r.partitionKey)).toEqual(keys.filter((k) => hashKeyOf(k) < 1n << 127n));
    for (const k of keys) expect(hashKeyForPartitionKey(k)).toBe(hashKeyOf(k));
  });

  it('handles partition keys that are special to plain objects', () => {
    const keys = ['__proto__', 'constructor', 'toString'];
    const proto = Uint8Array.from([...keys.flatMap((k) => stringField(1, k)), ...keys.flatMap((_, i) => bytesField(3, [...varintField(1, i), ...bytesField(3, [i])]))]);
    expect(deaggregate(kinesisRecord(frame(proto))).map((r) => r.partitionKey)).toEqual(keys);
  });

  it('passes a non-aggregated record through as is', () => {
    const data = Buffer.from('just a plain record');
    const out = deaggregate(kinesisRecord(data, { explicitHashKey: '42' }), { hashKeyRange: UPPER_HALF });
    expect(out).toEqual([
      { data, partitionKey: 'outer-key', sequenceNumber: SEQ, subSequenceNumber: undefined, approximateArrivalTimestamp: ARRIVAL, explicitHashKey: '42', aggregated: false, encryptionType: undefined },
    ]);
    expect(out[0]!.data).toBe(data);
  });

  it('passes through a record that starts with the magic bytes but is too short for a checksum', () => {
    const data = Buffer.from([...KPL_MAGIC, 1, 2, 3]);
    const { logger, warn } = fakeLogger();
    const out = deaggregate(kinesisRecord(data), { logger });
    expect(out).toHaveLength(1);
    expect(out[0]!.data).toBe(data);
    expect(out[0]!.aggregated).toBe(false);
    expect(warn).not.toHaveBeenCalled();
  });

  it('delivers a record with a bad MD5 as is and logs a warning', () => {
    const data = aggregate([
      { partitionKey: 'a', data: Buffer.from('one') },
      { partitionKey: 'b', data: Buffer.from('two') },
    ]);
    data[data.length - 1]! ^= 0xff;
    const { logger, warn } = fakeLogger();
    const out = deaggregate(kinesisRecord(data), { logger });
    expect(out).toHaveLength(1);
    expect(out[0]!.data).toBe(data);
    expect(out[0]!.subSequenceNumber).toBeUndefined();
    expect(out[0]!.aggregated).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatchObject({ sequenceNumber: SEQ, reason: 'checksum mismatch' });
  });

  it('delivers a record whose data was cut short as is', () => {
    const data = aggregate([{ partitionKey: 'a', data: Buffer.alloc(100, 7) }]);
    const cut = data.subarray(0, data.length - 30);
    const out = deaggregate(kinesisRecord(cut));
    expect(out).toHaveLength(1);
    expect(out[0]!.data).toBe(cut);
    expect(out[0]!.aggregated).toBe(false);
  });

  it('delivers a truncated protobuf with a matching checksum as is and logs why', () => {
    const proto = aggregate([{ partitionKey: 'a', data: Buffer.alloc(100, 7) }]).subarray(4, -16);
    for (const cut of [1, 5, 50, proto.length - 1]) {
      const data = frame(proto.subarray(0, cut));
      const { logger, warn } = fakeLogger();
      const out = deaggregate(kinesisRecord(data), { logger });
      expect(out).toHaveLength(1);
      expect(out[0]!.data).toBe(data);
      expect(out[0]!.aggregated).toBe(false);
      expect(warn).toHaveBeenCalledTimes(1);
    }
  });

  it('delivers an aggregate with an out-of-range table index as is', () => {
    const proto = Uint8Array.from([...stringField(1, 'only-key'), ...bytesField(3, [...varintField(1, 0), ...bytesField(3, [1])]), ...bytesField(3, [...varintField(1, 3), ...bytesField(3, [2])])]);
    const { logger, warn } = fakeLogger();
    const out = deaggregate(kinesisRecord(frame(proto)), { logger });
    expect(out).toHaveLength(1);
    expect(out[0]!.aggregated).toBe(false);
    expect(String(warn.mock.calls[0]![0].reason)).toMatch(/partition key index 3 out of range/);

    const badEhk = Uint8Array.from([...stringField(1, 'k'), ...bytesField(3, [...varintField(1, 0), ...varintField(2, 0), ...bytesField(3, [1])])]);
    expect(deaggregate(kinesisRecord(frame(badEhk)))[0]!.aggregated).toBe(false);
  });

  it('yields no records for an empty aggregate', () => {
    expect(deaggregate(kinesisRecord(frame(new Uint8Array(0))))).toEqual([]);
    // A key table but no records is empty too.
    expect(deaggregate(kinesisRecord(frame(Uint8Array.from(stringField(1, 'k')))))).toEqual([]);
  });

  it('skips unknown fields and tags of every wire type', () => {
    const record = [...varintField(1, 1), ...tag(9, 5), 1, 2, 3, 4, ...bytesField(4, [...stringField(1, 'tag'), ...stringField(2, 'v')]), ...bytesField(3, [...Buffer.from('hi')]), ...tag(10, 1), 0, 0, 0, 0, 0, 0, 0, 0];
    const proto = Uint8Array.from([...varintField(15, 300), ...stringField(1, 'k0'), ...stringField(1, 'k1'), ...bytesField(3, record), ...bytesField(20, [9, 9, 9])]);
    const out = deaggregate(kinesisRecord(frame(proto)));
    expect(out.map((r) => [r.partitionKey, Buffer.from(r.data).toString(), r.subSequenceNumber])).toEqual([['k1', 'hi', 0]]);
  });

  it('rejects aggregates with a field of the wrong wire type or a group', () => {
    const wrongWire = Uint8Array.from([...varintField(1, 5)]);
    expect(deaggregate(kinesisRecord(frame(wrongWire)))[0]!.aggregated).toBe(false);
    const group = Uint8Array.from([...tag(5, 3)]);
    expect(deaggregate(kinesisRecord(frame(group)))[0]!.aggregated).toBe(false);
    const noKeyIndex = Uint8Array.from([...stringField(1, 'k'), ...bytesField(3, bytesField(3, [1]))]);
    expect(deaggregate(kinesisRecord(frame(noKeyIndex)))[0]!.aggregated).toBe(false);
  });

  it('decodes multi-byte varints (long data, large tables)', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const specs = keys.map((k) => ({ partitionKey: k, data: Buffer.alloc(300, 1) }));
    specs.push({ partitionKey: 'big', data: Buffer.alloc(70_000, 2) });
    const out = deaggregate(kinesisRecord(aggregate(specs)));
    expect(out).toHaveLength(201);
    expect(out[199]!.partitionKey).toBe('k199');
    expect(out[200]!.data.length).toBe(70_000);
  });

  it('throws a TypeError for a malformed hash-key range', () => {
    const data = aggregate([{ partitionKey: 'a', data: Buffer.from('x') }]);
    expect(() => deaggregate(kinesisRecord(data), { hashKeyRange: { startingHashKey: 'abc', endingHashKey: '1' } })).toThrow(TypeError);
    expect(() => deaggregate(kinesisRecord(data), { hashKeyRange: { startingHashKey: '5', endingHashKey: '1' } })).toThrow(/empty/);
  });
});

describe('md5Into', () => {
  it('matches node:crypto for every input length up to 300 bytes', () => {
    const out = new Uint8Array(16);
    for (let n = 0; n <= 300; n++) {
      const input = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      md5Into(input, 0, n, out);
      expect(Buffer.from(out).toString('hex')).toBe(md5(input).toString('hex'));
    }
  });

  it('matches node:crypto on random slices', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        const out = new Uint8Array(20);
        md5Into(bytes, start, end, out, 4);
        expect(Buffer.from(out.subarray(4)).equals(md5(bytes.subarray(start, end)))).toBe(true);
      }),
    );
  });
});
