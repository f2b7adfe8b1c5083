/**
 * Entry of the deaggregation child process: kcl-ts's decoder against aws-kinesis-agg's
 * `deaggregateSync` on the same KPL aggregates, alternating runs after a warm-up, as returned
 * and with kcl-ts's records copied into aws-kinesis-agg's output shape (why both: the setup of
 * the report in `bench-deaggregation.ts`), and MD5's share of aws-kinesis-agg's time. Prints
 * one JSON line with the rates (user records per second) of every run.
 * Usage: `node deaggregation-process.js [aggregates] [perAggregate] [runs]`.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { deaggregate, type KinesisClientRecord } from '@kcl-ts/kcl';

interface AggModule {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer } | undefined;
  };
  deaggregateSync(record: { Data: Buffer; PartitionKey: string; SequenceNumber: string }, computeChecksums: boolean, done: (err: Error | null, records?: unknown[]) => void): void;
}

/** What the child prints (one JSON line). */
export interface DeaggregationResult {
  readonly userRecords: number;
  readonly runs: number;
  /** User records per second, one value per run. */
  readonly oursNative: number[];
  readonly oursSameShape: number[];
  readonly oursNoRange: number[];
  readonly theirs: number[];
  /** Seconds of MD5 over every aggregate's protobuf bytes / seconds of aws-kinesis-agg, per run. */
  readonly md5ShareOfTheirs: number[];
}

const aggregates = Number(process.argv[2] ?? 2_000);
const perAggregate = Number(process.argv[3] ?? 50);
const runs = Number(process.argv[4] ?? 15);
const dataBytes = 100;

// The shard owns the lower half of the key space; every partition key is chosen to hash into it.
const SHARD_RANGE = { startingHashKey: '0', endingHashKey: ((1n << 127n) - 1n).toString() };

function keyInShard(i: number): string {
  for (let salt = 0; ; salt++) {
    const key = `customer-${i}-${salt}`;
    if (createHash('md5').update(key).digest()[0]! < 0x80) return key;
  }
}

/** kcl-ts's record copied into aws-kinesis-agg's v3 output shape. */
function sameShape(r: KinesisClientRecord): { PartitionKey: string; ExplicitHashKey: string | undefined; SequenceNumber: string; SubSequenceNumber: number; Data: Buffer } {
  return { PartitionKey: r.partitionKey, ExplicitHashKey: r.explicitHashKey, SequenceNumber: r.sequenceNumber, SubSequenceNumber: r.subSequenceNumber ?? 0, Data: Buffer.from(r.data) };
}

function main(): void {
  const agg = createRequire(import.meta.url)('aws-kinesis-agg') as AggModule;
  const keyPool = Array.from({ length: 5_000 }, (_, i) => keyInShard(i));
  const inputs: { Data: Buffer; PartitionKey: string; SequenceNumber: string; ApproximateArrivalTimestamp: Date }[] = [];
  let seq = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
  for (let a = 0; a < aggregates; a++) {
    const aggregator = new agg.RecordAggregator();
    for (let r = 0; r < perAggregate; r++) aggregator.addUserRecord({ partitionKey: keyPool[(a * perAggregate + r * 7919) % keyPool.length]!, data: randomBytes(dataBytes) });
    const built = aggregator.build()!;
    inputs.push({ Data: built.data, PartitionKey: built.partitionKey, SequenceNumber: (seq++).toString(), ApproximateArrivalTimestamp: new Date() });
  }
  const userRecords = aggregates * perAggregate;
  let sink = 0;

  const ours = (options: { hashKeyRange?: typeof SHARD_RANGE }, shape: boolean) => (): number => {
    let n = 0;
    for (const r of inputs) {
      const out = deaggregate({ data: r.Data, partitionKey: r.PartitionKey, sequenceNumber: r.SequenceNumber, approximateArrivalTimestamp: r.ApproximateArrivalTimestamp }, options);
      if (shape) for (const u of out) sink += sameShape(u).Data.length;
      n += out.length;
    }
    return n;
  };
  const theirs = (): number => {
    let n = 0;
    for (const r of inputs) {
      agg.deaggregateSync(r, true, (err, records) => {
        if (err) throw err;
        n += records!.length;
      });
    }
    return n;
  };
  const md5Only = (): number => {
    for (const r of inputs) sink += createHash('md5').update(r.Data.subarray(4, r.Data.length - 16)).digest()[0]!;
    return userRecords;
  };

  const seconds = (fn: () => number): number => {
    const t0 = performance.now();
    const n = fn();
    const s = (performance.now() - t0) / 1000;
    if (n !== userRecords) throw new Error(`expected ${userRecords} user records, got ${n}`);
    return s;
  };
  const oursNative = ours({ hashKeyRange: SHARD_RANGE }, false);
  const oursSame = ours({ hashKeyRange: SHARD_RANGE }, true);
  const oursNoRange = ours({}, false);
  for (const fn of [oursNative, oursSame, oursNoRange, theirs, md5Only]) seconds(fn); // warm-up (JIT)
  const result: DeaggregationResult = { userRecords, runs, oursNative: [], oursSameShape: [], oursNoRange: [], theirs: [], md5ShareOfTheirs: [] };
  for (let i = 0; i < runs; i++) {
    const order: (() => void)[] = [
      () => result.oursNative.push(userRecords / seconds(oursNative)),
      () => result.oursSameShape.push(userRecords / seconds(oursSame)),
      () => {
        const s = seconds(theirs);
        result.theirs.push(userRecords / s);
        result.md5ShareOfTheirs.push(seconds(md5Only) / s);
      },
    ];
    if (i % 2 === 1) order.reverse();
    for (const run of order) run();
    result.oursNoRange.push(userRecords / seconds(oursNoRange));
  }
  if (sink === -1) process.stderr.write('unreachable\n');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
