/**
 * kcl-ts example "basic": one Worker consuming a stream with a processor that checkpoints
 * every N records or T seconds (whichever first), and on shutdown and shard end.
 *
 *   node examples/basic/dist/main.js [--duration 15] [--records 50] [--checkpoint-every 25]
 *        [--checkpoint-seconds 5] [--stream <name>] [--app <name>] [--shards 2]
 *
 * With no AWS/KCL environment it starts an embedded Kinesis + DynamoDB, creates the stream,
 * produces records, consumes them for --duration seconds and exits 0 (see connect.ts).
 */
import { Worker } from '@kcl-ts/kcl';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import { commonArgs, numberFlag, parseFlags, runFor, connect, runMain } from '@kcl-ts/example-support';
import { CheckpointingProcessor, type Stats } from './processor.js';

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), {
    'checkpoint-every': { type: 'string' },
    'checkpoint-seconds': { type: 'string' },
  });
  const connection = await connect();
  try {
    const args = commonArgs(flags, 'basic', connection.mode);
    const policy = { everyRecords: Math.max(1, numberFlag(flags, 'checkpoint-every', 25)), everyMs: numberFlag(flags, 'checkpoint-seconds', 5) * 1000 };
    console.log(`basic: ${connection.description}; stream ${args.stream}, application ${args.app}`);

    if (connection.mode !== 'aws') await createStreamAndWait(connection.kinesis, args.stream, args.shards);
    const produce = (from: number, count: number) =>
      putRecordsBatched(
        connection.kinesis,
        args.stream,
        Array.from({ length: count }, (_, i) => ({ partitionKey: `user-${(from + i) % 10}`, data: JSON.stringify({ n: from + i, at: new Date().toISOString() }) })),
      );
    if (args.records > 0) {
      await produce(0, args.records);
      console.log(`produced ${args.records} records`);
    }

    const stats: Stats = { processed: 0, checkpoints: 0 };
    const worker = new Worker({
      applicationName: args.app, // also the lease table's name
      streamName: args.stream,
      kinesisClient: connection.kinesis, // our clients: the worker never destroys them
      dynamoDbClient: connection.dynamoDb,
      initialPosition: 'TRIM_HORIZON', // only for shards with no checkpoint yet
      processing: { callProcessRecordsEvenForEmptyList: true }, // so the time-based checkpoint fires on quiet shards
      processorFactory: () => new CheckpointingProcessor(policy, stats),
    });
    worker.on('processorError', ({ shardId, error }) => console.error(`[${shardId}] processor error:`, error));
    await worker.start();
    console.log(`worker ${worker.workerId} started; holding ${worker.heldShards().join(', ') || 'no shards yet'}`);

    // Locally, keep a trickle of records coming so the time-based checkpoints show.
    let trickle = args.records;
    const timer = connection.mode !== 'aws' && args.records > 0 ? setInterval(() => void produce(trickle++, 1).catch(() => undefined), 1000) : undefined;

    const why = await runFor(args.durationS);
    clearInterval(timer);
    console.log(`stopping (${why})…`);
    await worker.shutdown(); // shutdownRequested → checkpoint; leases released for peers
    console.log(`processed ${stats.processed} records (${trickle} produced by this run), ${stats.checkpoints} checkpoints`);
    return 0;
  } finally {
    await connection.close();
  }
}

runMain('basic', main);
