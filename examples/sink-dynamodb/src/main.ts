/**
 * kcl-ts example "sink-dynamodb": a checkpoint-safe, idempotent DynamoDB sink with
 * `@kcl-ts/sinks` — `batchingProcessorFactory` + `DynamoDbSink` — under at-least-once delivery.
 *
 *   node examples/sink-dynamodb/dist/main.js [--duration 15] [--records 50] [--table <name>]
 *
 * Locally it produces `--records` readings, then:
 *   phase 1: a worker writes every reading, but its checkpoints are dropped (as if it crashed
 *            right after each write);
 *   phase 2: a new worker receives every record again (at-least-once) and writes it again:
 *            event items overwrite themselves, stale "latest reading" writes are refused;
 *   finally it checks the table: one event item per reading, the right latest reading per device.
 * Against AWS (nothing produced) it runs phase 2 only, for --duration seconds.
 */
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Worker, type RecordProcessorCheckpointer, type ShardRecordProcessor, type ShardRecordProcessorFactory } from '@kcl-ts/kcl';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import { batchingProcessorFactory, type FlushReport } from '@kcl-ts/sinks';
import { commonArgs, parseFlags, runFor, connect, type Connection, runMain } from '@kcl-ts/example-support';
import { ensureTable, parseReading, readingSinks, type Reading } from './sinks.js';

const DEVICES = ['boiler', 'pump', 'fan', 'valve'];

/** Totals of one phase, from the processor's flush reports. */
interface PhaseStats {
  written: number;
  stale: number;
}

/** A processor whose checkpoints go nowhere: the worker "crashes" after every write. */
function droppingCheckpoints(factory: ShardRecordProcessorFactory): ShardRecordProcessorFactory {
  return async (shardId, shard) => {
    const inner = await factory(shardId, shard);
    const nowhere = {
      shardId,
      lastCheckpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      checkpoint: async () => undefined,
      prepareCheckpoint: async () => {
        throw new Error('not used by this example');
      },
    } as RecordProcessorCheckpointer;
    const processor: ShardRecordProcessor = {
      initialize: (input) => inner.initialize(input),
      processRecords: (input) => inner.processRecords({ ...input, checkpointer: nowhere }),
      shutdownRequested: (input) => inner.shutdownRequested?.({ ...input, checkpointer: nowhere }),
      leaseLost: (input) => inner.leaseLost?.(input),
    };
    return processor;
  };
}

function newWorker(connection: Connection, stream: string, app: string, factory: ShardRecordProcessorFactory): Worker {
  return new Worker({
    applicationName: app,
    streamName: stream,
    kinesisClient: connection.kinesis,
    dynamoDbClient: connection.dynamoDb,
    initialPosition: 'TRIM_HORIZON',
    processorFactory: factory,
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

async function scanTable(client: DynamoDBClient, tableName: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(start && { ExclusiveStartKey: start }) }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), { table: { type: 'string' } });
  const connection = await connect();
  try {
    const args = commonArgs(flags, 'sink-dynamodb', connection.mode);
    // Locally a fresh table per run (a kept stack may hold an earlier run's items); on AWS a stable one.
    const tableName = (flags.table as string | undefined) ?? (connection.mode === 'aws' ? `${args.app}-results` : `${args.app}-results-${Date.now().toString(36)}`);
    console.log(`sink-dynamodb: ${connection.description}; stream ${args.stream}, application ${args.app}, results table ${tableName}`);
    await ensureTable(connection.dynamoDb, tableName);
    if (connection.mode !== 'aws') await createStreamAndWait(connection.kinesis, args.stream, args.shards);

    const stats = { phase1: { written: 0, stale: 0 }, phase2: { written: 0, stale: 0 } };
    let current: PhaseStats = stats.phase1;
    const factory = batchingProcessorFactory({
      sink: readingSinks(connection.dynamoDb, tableName),
      transform: parseReading,
      batching: { maxRecords: 25, maxAgeMs: 500 },
      onFlush: (report: FlushReport) => {
        if (!report.ok) return;
        current.written += report.items;
        current.stale += report.stale;
      },
    });

    const readings: Reading[] = Array.from({ length: args.records }, (_, i) => ({ device: DEVICES[i % DEVICES.length]!, amount: (i % 5) + 1, i }));
    if (args.records > 0) {
      await putRecordsBatched(connection.kinesis, args.stream, readings.map((r) => ({ partitionKey: r.device, data: JSON.stringify(r) })));
      console.log(`produced ${args.records} readings for ${DEVICES.length} devices`);

      // Phase 1: every reading written, no checkpoint kept: the next owner gets them all again.
      const first = newWorker(connection, args.stream, args.app, droppingCheckpoints(factory));
      await first.start();
      await until(() => stats.phase1.written >= args.records, 60_000);
      await first.shutdown();
      console.log(`phase 1: wrote ${stats.phase1.written} readings; their checkpoints were dropped (as if the worker crashed after each write)`);
    }

    // Phase 2: the same records again, from the last checkpoint (none).
    current = stats.phase2;
    const worker = newWorker(connection, args.stream, args.app, factory);
    await worker.start();
    const why = args.records > 0 ? ((await until(() => stats.phase2.written >= args.records, 60_000)) ? 'all records written' : 'timed out') : await runFor(args.durationS);
    console.log(`stopping (${why})…`);
    await worker.shutdown(); // flushes what is buffered, checkpoints it, hands the shards over
    console.log(`phase 2: ${stats.phase2.written} records delivered again and written again; ${stats.phase2.stale} "latest reading" writes refused as stale`);
    console.log(`processed ${stats.phase1.written + stats.phase2.written} records`);

    if (readings.length > 0) {
      const items = await scanTable(connection.dynamoDb, tableName);
      const events = items.filter((i) => String(i.pk).startsWith('event#'));
      const latest = new Map(items.filter((i) => String(i.pk).startsWith('device#')).map((i) => [String(i.device), Number(i.i)]));
      const expectedLatest = new Map(readings.map((r) => [r.device, r.i])); // the last reading of each device wins
      const eventsOk = events.length === readings.length && new Set(events.map((e) => Number(e.i))).size === readings.length;
      const latestOk = [...expectedLatest].every(([device, i]) => latest.get(device) === i);
      console.log(`  events stored: ${events.length} for ${readings.length} readings; latest reading per device: ${[...latest].map(([d, i]) => `${d}=#${i}`).join(', ')}`);
      console.log(eventsOk && latestOk ? 'table check: OK (every reading stored exactly once, latest readings correct)' : 'table check: FAILED');
      if (!(eventsOk && latestOk)) return 1;
    }
    return 0;
  } finally {
    await connection.close();
  }
}

runMain('sink-dynamodb', main);
