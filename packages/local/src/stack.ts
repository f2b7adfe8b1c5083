import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createLocalDynamoDbClient, createLocalKinesisClient, localCredentials, type LocalCredentials } from './clients.js';
import { startDynalite } from './dynalite.js';
import type { EmulatorHandle } from './emulator.js';
import { localStackEnv } from './env.js';
import { startKinesalite } from './kinesalite.js';
import { startKinesisMock } from './kinesis-mock.js';
import { resolveLocalStackConfig, type KinesisImplementation, type LocalStackOptions } from './options.js';

/** A running local Kinesis + DynamoDB stack. */
export interface LocalStack {
  /** Which Kinesis emulator runs. */
  readonly kinesisImplementation: KinesisImplementation;
  /** HTTP endpoint of the Kinesis emulator. */
  readonly kinesisEndpoint: string;
  /** HTTP endpoint of dynalite. */
  readonly dynamoDbEndpoint: string;
  /** Region the clients use. */
  readonly region: string;
  /**
   * Dummy static credentials the emulators accept: a fresh, unfrozen object on every read,
   * safe to hand to an AWS SDK client (which tags the credential object it is given).
   */
  readonly credentials: LocalCredentials;
  /** Process id of the Kinesis Mock child process (undefined for in-process kinesalite). */
  readonly kinesisPid: number | undefined;
  /** Environment variables pointing a process at this stack (see `localStackEnv`). */
  readonly env: Readonly<Record<string, string>>;
  /** A new KinesisClient for this stack (HTTP/1.1 handler). The caller destroys it. */
  kinesisClient(): KinesisClient;
  /** A new DynamoDBClient for this stack (HTTP/1.1 handler). The caller destroys it. */
  dynamoDbClient(): DynamoDBClient;
  /** Stops both emulators and frees their ports. Idempotent: one shared promise. */
  stop(): Promise<void>;
}

/**
 * Starts a Kinesis emulator (the Kinesis Mock by default, or kinesalite) and dynalite on
 * 127.0.0.1, and resolves once both answer a real request. If either fails to start, the
 * other is stopped again before the promise rejects.
 *
 * @example
 * const stack = await startLocalStack();
 * const kinesis = stack.kinesisClient();
 * // ...
 * kinesis.destroy();
 * await stack.stop();
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config = resolveLocalStackConfig(options);
  const logger = config.logger;
  const persistDir = (name: string): string | undefined =>
    config.persistence === false ? undefined : join(config.persistence.directory, name);

  const kinesisStart =
    config.kinesis === 'kinesis-mock'
      ? startKinesisMock({
          ...(config.kinesisPort !== undefined ? { port: config.kinesisPort } : {}),
          streamOperationDelayMs: config.streamOperationDelayMs,
          shardLimit: config.shardLimit,
          region: config.region,
          startTimeoutMs: config.startTimeoutMs,
          logger,
          ...(persistDir('kinesis-mock') !== undefined ? { persistDirectory: persistDir('kinesis-mock') } : {}),
        })
      : startKinesalite({
          ...(config.kinesisPort !== undefined ? { port: config.kinesisPort } : {}),
          streamOperationDelayMs: config.streamOperationDelayMs,
          shardLimit: config.shardLimit,
          startTimeoutMs: config.startTimeoutMs,
          logger,
          ...(persistDir('kinesalite') !== undefined ? { persistDirectory: persistDir('kinesalite') } : {}),
        });
  const dynamoStart = startDynalite({
    ...(config.dynamoDbPort !== undefined ? { port: config.dynamoDbPort } : {}),
    tableOperationDelayMs: config.tableOperationDelayMs,
    startTimeoutMs: config.startTimeoutMs,
    logger,
    ...(persistDir('dynalite') !== undefined ? { persistDirectory: persistDir('dynalite') } : {}),
  });

  const [kinesisResult, dynamoResult] = await Promise.allSettled([kinesisStart, dynamoStart]);
  if (kinesisResult.status === 'rejected' || dynamoResult.status === 'rejected') {
    const started = [kinesisResult, dynamoResult].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await Promise.allSettled(started.map((h) => h.stop()));
    const failed = kinesisResult.status === 'rejected' ? kinesisResult : (dynamoResult as PromiseRejectedResult);
    throw failed.reason;
  }
  const kinesis: EmulatorHandle = kinesisResult.value;
  const dynamo: EmulatorHandle = dynamoResult.value;

  const endpoints = {
    kinesisEndpoint: kinesis.endpoint,
    dynamoDbEndpoint: dynamo.endpoint,
    region: config.region,
    credentials: localCredentials(),
  };
  let stopping: Promise<void> | undefined;
  return {
    kinesisImplementation: config.kinesis,
    kinesisEndpoint: endpoints.kinesisEndpoint,
    dynamoDbEndpoint: endpoints.dynamoDbEndpoint,
    region: endpoints.region,
    // A getter, not a shared object: every reader gets its own copy to give to an SDK client.
    get credentials(): LocalCredentials {
      return localCredentials();
    },
    kinesisPid: kinesis.pid,
    env: Object.freeze(localStackEnv(endpoints)),
    kinesisClient: () => createLocalKinesisClient({ endpoint: kinesis.endpoint, region: config.region }),
    dynamoDbClient: () => createLocalDynamoDbClient({ endpoint: dynamo.endpoint, region: config.region }),
    stop: () => {
      stopping ??= (async () => {
        const results = await Promise.allSettled([kinesis.stop(), dynamo.stop()]);
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
        logger.info({ component: 'local-stack' }, 'local stack stopped');
      })();
      return stopping;
    },
  };
}
