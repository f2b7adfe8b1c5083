/**
 * Entry point of one chaos worker process (started with `child_process.fork` by the
 * {@link Fleet}): runs one kcl-ts `Worker` with a {@link RecordingProcessor} per shard and
 * journals its lifecycle and lease events. Configuration comes from `KCL_CHAOS_WORKER`
 * (see {@link WorkerProcessConfig}). SIGTERM/SIGINT shut the worker down gracefully, then the
 * process exits; SIGKILL and SIGSTOP are what the scenarios use to be less kind.
 * @module
 */
import { shutdownOnSignals, Worker } from '@kcl-ts/kcl';
import { pino } from 'pino';
import { errorText, JournalWriter, RecordingProcessor } from './recording-processor.js';
import { workerConfigFromEnv } from './worker-config.js';

function main(): void {
  const config = workerConfigFromEnv();
  const journal = new JournalWriter(config.journalPath, config.workerId);
  journal.write({ type: 'start' });
  const logger = config.logPath
    ? pino({ level: config.logLevel ?? 'info', base: { pid: process.pid, workerId: config.workerId } }, pino.destination({ dest: config.logPath, sync: true }))
    : pino({ level: 'silent' });

  const worker = new Worker({
    applicationName: config.applicationName,
    streamName: config.streamName,
    workerId: config.workerId,
    clientConfig: {
      region: config.region,
      credentials: config.credentials,
      kinesisEndpoint: config.kinesisEndpoint,
      dynamoDbEndpoint: config.dynamoDbEndpoint,
    },
    initialPosition: config.initialPosition ?? 'TRIM_HORIZON',
    processorFactory: (shardId) => new RecordingProcessor(journal, shardId, config.recordDelayMs ?? 0, config.naiveShardEnd ?? false, config.failShardEndedTimes ?? 0),
    logger,
    metrics: { publisher: false },
    ...config.worker,
  });

  worker.on('leaseAcquired', ({ shardId }) => journal.write({ type: 'event', event: 'leaseAcquired', shard: shardId }));
  worker.on('leaseLost', ({ shardId, reason }) => journal.write({ type: 'event', event: 'leaseLost', shard: shardId, reason }));
  worker.on('shardEnded', ({ shardId, childShardIds }) => journal.write({ type: 'event', event: 'shardEnded', shard: shardId, children: [...childShardIds] }));
  worker.on('processorError', ({ shardId, error }) => journal.write({ type: 'processor-error', shard: shardId, error: errorText(error) }));
  worker.on('error', (error) => journal.write({ type: 'error', error: errorText(error) }));
  worker.on('stopped', () => journal.write({ type: 'stopped' }));

  shutdownOnSignals(worker);
  // The test process went away: do not linger.
  process.on('disconnect', () => {
    void worker.shutdown().finally(() => process.exit(0));
  });

  worker.start().then(
    () => journal.write({ type: 'started' }),
    (error: unknown) => {
      journal.write({ type: 'start-failed', error: errorText(error) });
      logger.error({ err: error }, 'worker failed to start');
      process.exit(1);
    },
  );
}

main();
