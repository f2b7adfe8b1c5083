/**
 * Deaggregation throughput: kcl-ts's decoder versus aws-kinesis-agg's `deaggregateSync`.
 *
 * Run after a build: `node packages/kcl/dist/bench/deaggregation-bench.js [aggregates] [perAggregate] [runs]`.
 * Not part of the public API; aws-kinesis-agg is a devDependency, loaded dynamically.
 *
 * Both sides verify the MD5 checksum. Ours additionally checks every user record's hash key
 * against the shard's range (all records of an aggregate belong to the shard, as the KPL
 * produces them), which aws-kinesis-agg cannot do. Runs alternate between the two decoders
 * so machine noise hits both alike; the table shows the median and the spread.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { deaggregate } from '../retrieval/aggregation/deaggregate.js';

interface AggModule {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer } | undefined;
  };
  deaggregateSync(record: { Data: Buffer; PartitionKey: string; SequenceNumber: string }, computeChecksums: boolean, done: (err: Error | null, records?: unknown[]) => void): void;
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

function loadAgg(): AggModule {
  // aws-kinesis-agg is CommonJS and only a devDependency: resolve it at run time.
  const require = createRequire(import.meta.url);
  return require('aws-kinesis-agg') as AggModule;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function main(): void {
  const agg = loadAgg();
  const keyPool = Array.from({ length: 5_000 }, (_, i) => keyInShard(i));
  const inputs: { Data: Buffer; PartitionKey: string; SequenceNumber: string; ApproximateArrivalTimestamp: Date }[] = [];
  let seq = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
  for (let a = 0; a < aggregates; a++) {
    const aggregator = new agg.RecordAggregator();
    for (let r = 0; r < perAggregate; r++) {
      aggregator.addUserRecord({ partitionKey: keyPool[(a * perAggregate + r * 7919) % keyPool.length]!, data: randomBytes(dataBytes) });
    }
    const built = aggregator.build()!;
    inputs.push({ Data: built.data, PartitionKey: built.partitionKey, SequenceNumber: (seq++).toString(), ApproximateArrivalTimestamp: new Date() });
  }
  const userRecords = aggregates * perAggregate;

  const oursWith = (options: { hashKeyRange?: typeof SHARD_RANGE }) => (): number => {
    let n = 0;
    for (const r of inputs) {
      n += deaggregate(
        { data: r.Data, partitionKey: r.PartitionKey, sequenceNumber: r.SequenceNumber, approximateArrivalTimestamp: r.ApproximateArrivalTimestamp },
        options,
      ).length;
    }
    return n;
  };
  const ours = oursWith({ hashKeyRange: SHARD_RANGE });
  const oursNoRange = oursWith({});
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

  const measure = (fn: () => number): number => {
    const t0 = performance.now();
    const n = fn();
    const ms = performance.now() - t0;
    if (n !== userRecords) throw new Error(`expected ${userRecords} user records, got ${n}`);
    return (n / ms) * 1000;
  };

  // Warm-up (JIT) of both, then alternate.
  measure(ours);
  measure(oursNoRange);
  measure(theirs);
  const oursRates: number[] = [];
  const oursNoRangeRates: number[] = [];
  const theirsRates: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      oursRates.push(measure(ours));
      theirsRates.push(measure(theirs));
    } else {
      theirsRates.push(measure(theirs));
      oursRates.push(measure(ours));
    }
    oursNoRangeRates.push(measure(oursNoRange));
  }

  const rows = [
    ['kcl-ts deaggregate (+ hash-range check)', oursRates],
    ['kcl-ts deaggregate (no range check)', oursNoRangeRates],
    ['aws-kinesis-agg deaggregateSync', theirsRates],
  ] as const;
  console.log(`Deaggregation: ${fmt(aggregates)} aggregated records x ${perAggregate} user records of ${dataBytes} B (${fmt(userRecords)} user records), ${runs} alternating runs, node ${process.version}`);
  console.log('');
  console.log(`${'decoder'.padEnd(42)} ${'median rec/s'.padStart(14)}   spread (min - max)`);
  for (const [name, rates] of rows) {
    console.log(`${name.padEnd(42)} ${fmt(median(rates)).padStart(14)}   ${fmt(Math.min(...rates))} - ${fmt(Math.max(...rates))}`);
  }
  console.log('');
  // The headline compares ours WITH the range check against theirs. Each run of ours is paired with the adjacent run of theirs; pairing cancels slow drifts in
  // machine load better than comparing medians alone.
  const paired = oursRates.map((r, i) => r / theirsRates[i]!);
  console.log(`ratio ours/theirs: ${(median(oursRates) / median(theirsRates)).toFixed(1)}x (medians); paired runs: median ${median(paired).toFixed(1)}x, spread ${Math.min(...paired).toFixed(1)}x - ${Math.max(...paired).toFixed(1)}x`);
}

try {
  main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
