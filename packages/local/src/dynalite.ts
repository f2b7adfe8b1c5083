import type { Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import { dynamoDbAnswers, loopbackEndpoint, type EmulatorHandle } from './emulator.js';
import { closeServer, listenOn } from './in-process-server.js';
import { silentLocalLogger, type LocalLogger } from './logger.js';
import { checkInteger, checkLogger, checkPort, LOCAL_STACK_DEFAULTS } from './options.js';
import { findFreePort } from './ports.js';
import { pollUntil } from './wait.js';

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
  // An in-process emulator must not keep a process alive that is otherwise done.
  server.unref();
  const port = await listenOn(server, requestedPort);
  const endpoint = loopbackEndpoint(port);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= closeServer(server).then(() => logger.debug({ component: 'dynalite', endpoint }, 'dynalite stopped'));
    return stopping;
  };
  try {
    await pollUntil(() => dynamoDbAnswers(endpoint, 'us-east-1'), {
      timeoutMs: startTimeoutMs,
      intervalMs: 50,
      what: `dynalite at ${endpoint}`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  logger.info({ component: 'dynalite', endpoint }, 'dynalite ready');
  return { endpoint, port, pid: undefined, stop };
}
