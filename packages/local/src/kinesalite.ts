import type { Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import { kinesisAnswers, type EmulatorHandle } from './emulator.js';
import { serveInProcess } from './in-process-server.js';
import { silentLocalLogger, type LocalLogger } from './logger.js';
import { checkInteger, checkLogger, checkPort, LOCAL_STACK_DEFAULTS } from './options.js';
import { findFreePort } from './ports.js';

/** Options of {@link startKinesalite}. */
export interface KinesaliteOptions {
  /** Port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Duration of CREATING / DELETING / UPDATING states, in milliseconds. @default 100 */
  readonly streamOperationDelayMs?: number;
  /** Maximum number of open shards. @default 1000 */
  readonly shardLimit?: number;
  /** Keep the LevelDB store in this directory. @default in memory */
  readonly persistDirectory?: string;
  /** How long to wait for the first answer. @default 60000 */
  readonly startTimeoutMs?: number;
  /** Lifecycle logger. @default silent */
  readonly logger?: LocalLogger;
}

interface KinesaliteFactoryOptions {
  createStreamMs: number;
  deleteStreamMs: number;
  updateStreamMs: number;
  shardLimit: number;
  path?: string;
}

type KinesaliteFactory = (options: KinesaliteFactoryOptions) => Server;

/**
 * Starts kinesalite in this process on 127.0.0.1 and waits until it answers ListStreams.
 * kinesalite is older than the Kinesis Mock: no UpdateShardCount, ShardFilter is ignored,
 * GetRecords has no ChildShards. It takes its region for ARNs from `AWS_REGION`.
 */
export async function startKinesalite(options: KinesaliteOptions = {}): Promise<EmulatorHandle> {
  const logger = checkLogger('logger', options.logger ?? silentLocalLogger);
  const delayMs = checkInteger(
    'streamOperationDelayMs',
    options.streamOperationDelayMs ?? LOCAL_STACK_DEFAULTS.streamOperationDelayMs,
    0,
  );
  const shardLimit = checkInteger('shardLimit', options.shardLimit ?? LOCAL_STACK_DEFAULTS.shardLimit, 1);
  const startTimeoutMs = checkInteger('startTimeoutMs', options.startTimeoutMs ?? LOCAL_STACK_DEFAULTS.startTimeoutMs, 1);
  const requestedPort = checkPort('port', options.port) ?? (await findFreePort());
  const path = options.persistDirectory !== undefined ? resolvePath(options.persistDirectory) : undefined;
  if (path !== undefined) await mkdir(path, { recursive: true });

  const kinesalite = createRequire(import.meta.url)('kinesalite') as KinesaliteFactory;
  const server = kinesalite({
    createStreamMs: delayMs,
    deleteStreamMs: delayMs,
    updateStreamMs: delayMs,
    shardLimit,
    ...(path !== undefined ? { path } : {}),
  });
  return serveInProcess({
    name: 'kinesalite',
    server,
    port: requestedPort,
    answers: (endpoint) => kinesisAnswers(endpoint, 'us-east-1'),
    startTimeoutMs,
    logger,
  });
}
