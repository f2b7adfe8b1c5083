/**
 * kcl-ts example "sink-dynamodb": storing results in DynamoDB idempotently, so the
 * at-least-once delivery of a KCL never double-counts.
 *
 *   node examples/sink-dynamodb/dist/main.js [--duration 15] [--records 50] [--table <name>]
 *
 * Locally it produces `--records` readings, then:
 *   phase 1: a worker stores every result but "crashes" before checkpointing;
 *   phase 2: a new worker receives the same records again (at-least-once) and stores them
 *            again — every write is conditional, so nothing changes — then checkpoints;
 *   finally it checks the per-device totals against what was produced.
 * Against AWS (nothing produced) it runs phase 2 only, storing results of the given stream.
 */
import { Worker } from '@kcl-ts/kcl';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import { commonArgs, parseFlags, runFor, connect, type Connection, runMain } from '@kcl-ts/example-support';
import { SinkProcessor, type SinkStats } from './processor.js';
import { ResultSink } from './sink.js';

const DEVICES = ['boiler', 'pump', 'fan', 'valve'];

function newWorker(connection: Connection, stream: string, app: string, sink: ResultSink, stats: SinkStats, checkpoint: boolean): Worker {
  return new Worker({
    applicationName: app,
    streamName: stream,
    kinesisClient: connection.kinesis,
    dynamoDbClient: connection.dynamoDb,
    initialPosition: 'TRIM_HORIZON',
    processorFactory: () => new SinkProcessor(sink, stats, checkpoint),
  });
}

/** Resolves once `done()` is true (checked every 100 ms) or after `timeoutMs`; returns whether it became true. */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), { table: { type: 'string' } });
  const connection = await connect();
  try {
    const args = commonArgs(flags, 'sink-dynamodb', connection.mode);
    const sink = new ResultSink(connection.dynamoDb, (flags.table as string | undefined) ?? `${args.app}-results`);
    console.log(`sink-dynamodb: ${connection.description}; stream ${args.stream}, application ${args.app}, results table ${sink.tableName}`);
    await sink.ensureTable(connection.dynamoDb);
    if (connection.mode !== 'aws') await createStreamAndWait(connection.kinesis, args.stream, args.shards);

    const expected = new Map<string, number>();
    let phase1: SinkStats | undefined;
    const before = new Map<string, number>();
    if (args.records > 0) {
      for (const d of DEVICES) before.set(d, await sink.total(d)); // a rerun against a kept stack adds to earlier totals
      const readings = Array.from({ length: args.records }, (_, i) => ({ device: DEVICES[i % DEVICES.length]!, amount: (i % 5) + 1 }));
      for (const r of readings) expected.set(r.device, (expected.get(r.device) ?? 0) + r.amount);
      await putRecordsBatched(connection.kinesis, args.stream, readings.map((r) => ({ partitionKey: r.device, data: JSON.stringify(r) })));
      console.log(`produced ${args.records} readings for ${DEVICES.length} devices`);

      // Phase 1: store everything, checkpoint nothing, stop ("crash").
      phase1 = { processed: 0, applied: 0, duplicates: 0 };
      const first = newWorker(connection, args.stream, args.app, sink, phase1, false);
      await first.start();
      await until(() => phase1!.processed >= args.records, 30_000);
      await first.shutdown();
      console.log(`phase 1: stored ${phase1.applied} results, checkpointed nothing`);
    }

    // Phase 2: the records after the last checkpoint are delivered again.
    const stats: SinkStats = { processed: 0, applied: 0, duplicates: 0 };
    const worker = newWorker(connection, args.stream, args.app, sink, stats, true);
    await worker.start();
    const why = await runFor(args.durationS);
    console.log(`stopping (${why})…`);
    await worker.shutdown();
    console.log(`phase 2: ${stats.processed} records delivered, ${stats.duplicates} were duplicates (no write changed anything), ${stats.applied} new results`);
    console.log(`processed ${stats.processed + (phase1?.processed ?? 0)} records`);

    if (expected.size > 0) {
      let ok = true;
      for (const [device, sum] of expected) {
        const stored = (await sink.total(device)) - (before.get(device) ?? 0);
        if (stored !== sum) ok = false;
        console.log(`  ${device}: stored total ${stored}, produced ${sum}`);
      }
      console.log(ok ? 'totals check: OK (every reading counted exactly once)' : 'totals check: FAILED');
      if (!ok) return 1;
    }
    return 0;
  } finally {
    await connection.close();
  }
}

runMain('sink-dynamodb', main);
