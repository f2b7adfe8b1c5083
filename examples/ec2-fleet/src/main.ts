/**
 * kcl-ts example "ec2-fleet": the worker process you run on every instance of an EC2 fleet
 * (one per instance, under systemd — see deploy/). Every instance runs the same command;
 * the lease table spreads the shards over the fleet.
 *
 *   AWS_REGION=eu-west-1 node dist/main.js --stream orders --app orders-billing
 *   (or KCL_STREAM / KCL_APP in the environment, as the systemd unit does)
 *
 * SIGTERM (systemd stop, an Auto Scaling lifecycle hook, a Spot interruption handler) and
 * SIGINT run a graceful shutdown through `shutdownOnSignals`: processors checkpoint in
 * `shutdownRequested`, the leases are released, peers take the shards over at once and
 * re-process nothing. Logs are JSON lines on stdout (pino); the metrics are CloudWatch
 * Embedded Metric Format lines in the same log.
 *
 * With no AWS/KCL environment it starts an embedded stack, creates the stream, produces
 * records and stops after --duration seconds (default 15), like the other examples.
 */
import { shutdownOnSignals, Worker } from '@kcl-ts/kcl';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import { pino } from 'pino';
import { commonArgs, parseFlags, connect } from '@kcl-ts/example-support';
import { FleetProcessor, type Totals } from './processor.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const connection = await connect();
  try {
    const args = commonArgs(flags, 'ec2-fleet', connection.mode);
    logger.info({ target: connection.description, stream: args.stream, app: args.app }, 'ec2-fleet starting');

    if (connection.mode !== 'aws') await createStreamAndWait(connection.kinesis, args.stream, args.shards);
    if (args.records > 0) {
      const records = Array.from({ length: args.records }, (_, i) => ({ partitionKey: `order-${i % 16}`, data: JSON.stringify({ orderId: i, amount: (i % 7) + 1 }) }));
      await putRecordsBatched(connection.kinesis, args.stream, records);
      logger.info({ records: args.records }, 'produced records');
    }

    const totals: Totals = { records: 0, amount: 0 };
    const worker = new Worker({
      applicationName: args.app,
      streamName: args.stream,
      kinesisClient: connection.kinesis,
      dynamoDbClient: connection.dynamoDb,
      initialPosition: 'TRIM_HORIZON',
      logger, // library logs and EMF metrics go to the same JSON stream
      // Keep below systemd's TimeoutStopSec (deploy/kcl-consumer.service: 90 s) and the
      // Spot notice (120 s), leaving time to release the leases after the processors finish.
      processing: { shutdownTimeoutMs: 30_000 },
      processorFactory: (shardId) => new FleetProcessor(logger.child({ shardId }), totals),
    });
    worker.on('leaseAcquired', ({ shardId }) => logger.info({ shardId }, 'lease acquired'));
    worker.on('leaseLost', ({ shardId, reason }) => logger.info({ shardId, reason }, 'lease lost'));
    worker.on('shardEnded', ({ shardId, childShardIds }) => logger.info({ shardId, childShardIds }, 'shard ended'));

    // SIGTERM/SIGINT → worker.shutdown(); a second signal exits at once. `exit: false` lets
    // this function finish (summary, client cleanup) once the worker has stopped.
    shutdownOnSignals(worker, { exit: false });
    const stopped = new Promise<void>((resolve) => worker.once('stopped', () => resolve()));

    await worker.start();
    logger.info({ workerId: worker.workerId, shards: worker.heldShards() }, 'worker started');
    const timer = args.durationS > 0 ? setTimeout(() => void worker.shutdown(), args.durationS * 1000) : undefined;
    await stopped;
    clearTimeout(timer);
    await worker.shutdown(); // the same promise: rethrows if the shutdown failed
    logger.info({ records: totals.records, amount: totals.amount }, `processed ${totals.records} records`);
    return 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    logger.fatal({ err: error }, 'ec2-fleet failed');
    process.exit(1);
  },
);
