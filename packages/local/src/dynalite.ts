import type { Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import { dynamoDbAnswers, type EmulatorHandle } from './emulator.js';
import { serveInProcess } from './in-process-server.js';
import { silentLocalLogger, type LocalLogger } from './logger.js';
import { checkInteger, checkLogger, checkPort, LOCAL_STACK_DEFAULTS } from './options.js';
import { findFreePort } from './ports.js';

/** Options of {@link startDynalite}. */
export interface DynaliteOptions {
  /** Port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Duration of CREATING / DELETING / UPDATING table states, in milliseconds. @default 100 */
  readonly tableOperationDelayMs?: number;
  /** Keep the LevelDB store in this directory. @default in memory */
  readonly persistDirectory?: string;
  /** How long to wait for the first answer. @default 60000 */
  readonly startTimeoutMs?: number;
  /** Lifecycle logger. @default silent */
  readonly logger?: LocalLogger;
}

interface DynaliteFactoryOptions {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
  path?: string;
}

type DynaliteFactory = (options: DynaliteFactoryOptions) => Server;

/**
 * Starts dynalite (a DynamoDB emulator; conditional writes work) in this process on
 * 127.0.0.1 and waits until it answers ListTables.
 */
export async function startDynalite(options: DynaliteOptions = {}): Promise<EmulatorHandle> {
  const logger = checkLogger('logger', options.logger ?? silentLocalLogger);
  const delayMs = checkInteger(
    'tableOperationDelayMs',
    options.tableOperationDelayMs ?? LOCAL_STACK_DEFAULTS.tableOperationDelayMs,
    0,
  );
  const startTimeoutMs = checkInteger('startTimeoutMs', options.startTimeoutMs ?? LOCAL_STACK_DEFAULTS.startTimeoutMs, 1);
  const requestedPort = checkPort('port', options.port) ?? (await findFreePort());
  const path = options.persistDirectory !== undefined ? resolvePath(options.persistDirectory) : undefined;
  if (path !== undefined) await mkdir(path, { recursive: true });

  const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;
  const server = dynalite({
    createTableMs: delayMs,
    deleteTableMs: delayMs,
    updateTableMs: delayMs,
    ...(path !== undefined ? { path } : {}),
  });
  return serveInProcess({
    name: 'dynalite',
    server,
    port: requestedPort,
    answers: (endpoint) => dynamoDbAnswers(endpoint, 'us-east-1'),
    startTimeoutMs,
    logger,
  });
}
