import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { trackChild } from './children.js';
import { kinesisAnswers, loopbackEndpoint, type EmulatorHandle } from './emulator.js';
import { silentLocalLogger, type LocalLogger } from './logger.js';
import { checkInteger, checkLogger, checkPort, LOCAL_STACK_DEFAULTS } from './options.js';
import { findFreePort } from './ports.js';
import { pollUntil } from './wait.js';

/** Options of {@link startKinesisMock}. */
export interface KinesisMockOptions {
  /** Plain-HTTP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /**
   * HTTPS port (the mock always opens one; HTTP/2 with its self-signed `CN=Unknown` certificate).
   * Event streams do not work over it with the AWS SDK's `NodeHttp2Handler`: the handler sends
   * GOAWAY once the response starts, and the mock answers with an unsolicited PING ACK (a
   * connection error in Node) and resets the stream. Use the plain port, or
   * `startSubscribeToShardServer` for SubscribeToShard over HTTP/2. @default a free port
   */
  readonly tlsPort?: number;
  /** Duration of CREATING / DELETING / UPDATING states, in milliseconds. @default 100 */
  readonly streamOperationDelayMs?: number;
  /** Maximum number of open shards. @default 1000 */
  readonly shardLimit?: number;
  /** Persist streams and records into this directory (loaded again on start). @default in memory */
  readonly persistDirectory?: string;
  /** The mock's default region (used in ARNs). @default 'us-east-1' */
  readonly region?: string;
  /** How long to wait for the first answer. @default 60000 */
  readonly startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. @default 5000 */
  readonly stopTimeoutMs?: number;
  /** Lifecycle logger. @default silent */
  readonly logger?: LocalLogger;
}

/** The folder of the installed `kinesis-local` package (holds `main.js` and `server.json`). */
export function kinesisMockPackageDir(): string {
  // The package has no `exports` map, so its package.json resolves to its folder.
  return dirname(createRequire(import.meta.url).resolve('kinesis-local/package.json'));
}

// Runs the mock inside a process that exits as soon as its stdin pipe closes, i.e. when the
// parent dies even by SIGKILL, so an emulator never outlives the process that started it.
const WATCHDOG = [
  "const main = process.argv[1];",
  "const bye = () => process.exit(0);",
  "process.stdin.on('end', bye); process.stdin.on('error', bye); process.stdin.resume();",
  "require(main);",
].join(' ');

const OUTPUT_TAIL_CHARS = 4_000;

/** Environment variables that configure the Kinesis Mock (see its README). */
export function kinesisMockEnv(settings: {
  readonly dir: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly streamOperationDelayMs: number;
  readonly shardLimit: number;
  readonly region: string;
  readonly persistDirectory: string | undefined;
}): Record<string, string> {
  const d = `${settings.streamOperationDelayMs}ms`;
  const env: Record<string, string> = {
    KINESIS_MOCK_PLAIN_PORT: String(settings.port),
    KINESIS_MOCK_TLS_PORT: String(settings.tlsPort),
    KINESIS_MOCK_CERT_PATH: join(settings.dir, 'server.json'),
    CREATE_STREAM_DURATION: d,
    DELETE_STREAM_DURATION: d,
    MERGE_SHARDS_DURATION: d,
    SPLIT_SHARD_DURATION: d,
    UPDATE_SHARD_COUNT_DURATION: d,
    UPDATE_STREAM_MODE_DURATION: d,
    REGISTER_STREAM_CONSUMER_DURATION: d,
    DEREGISTER_STREAM_CONSUMER_DURATION: d,
    START_STREAM_ENCRYPTION_DURATION: d,
    STOP_STREAM_ENCRYPTION_DURATION: d,
    SHARD_LIMIT: String(settings.shardLimit),
    AWS_REGION: settings.region,
    LOG_LEVEL: 'ERROR',
    ROOT_LOG_LEVEL: 'ERROR',
    SHOULD_PERSIST_DATA: settings.persistDirectory !== undefined ? 'true' : 'false',
  };
  if (settings.persistDirectory !== undefined) {
    env.PERSIST_PATH = settings.persistDirectory;
    env.LOAD_DATA_IF_EXISTS = 'true';
    env.PERSIST_INTERVAL = '1s';
  }
  return env;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const ac = new AbortController();
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  const timedOut = delay(timeoutMs, false, { signal: ac.signal }).catch(() => false);
  try {
    return await Promise.race([exited, timedOut]);
  } finally {
    ac.abort();
  }
}

/**
 * Starts the Kinesis Mock (npm `kinesis-local`) as a child process on 127.0.0.1 and waits
 * until it answers ListStreams. Rejects with the tail of its output if it exits early.
 */
export async function startKinesisMock(options: KinesisMockOptions = {}): Promise<EmulatorHandle> {
  const logger = checkLogger('logger', options.logger ?? silentLocalLogger);
  const streamOperationDelayMs = checkInteger(
    'streamOperationDelayMs',
    options.streamOperationDelayMs ?? LOCAL_STACK_DEFAULTS.streamOperationDelayMs,
    0,
  );
  const shardLimit = checkInteger('shardLimit', options.shardLimit ?? LOCAL_STACK_DEFAULTS.shardLimit, 1);
  const startTimeoutMs = checkInteger('startTimeoutMs', options.startTimeoutMs ?? LOCAL_STACK_DEFAULTS.startTimeoutMs, 1);
  const stopTimeoutMs = checkInteger('stopTimeoutMs', options.stopTimeoutMs ?? 5_000, 1);
  const region = options.region ?? LOCAL_STACK_DEFAULTS.region;
  const port = checkPort('port', options.port) ?? (await findFreePort());
  let tlsPort = checkPort('tlsPort', options.tlsPort) ?? (await findFreePort());
  while (tlsPort === port) tlsPort = await findFreePort();

  const persistDirectory = options.persistDirectory !== undefined ? resolvePath(options.persistDirectory) : undefined;
  if (persistDirectory !== undefined) await mkdir(persistDirectory, { recursive: true });

  const dir = kinesisMockPackageDir();
  const env = kinesisMockEnv({ dir, port, tlsPort, streamOperationDelayMs, shardLimit, region, persistDirectory });
  const child = spawn(process.execPath, ['-e', WATCHDOG, join(dir, 'main.js')], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: persistDirectory ?? dir,
  });
  trackChild(child);
  const endpoint = loopbackEndpoint(port);

  logger.debug({ component: 'kinesis-mock', pid: child.pid, endpoint }, 'starting Kinesis Mock');

  let outputTail = '';
  const keep = (chunk: Buffer): void => {
    outputTail = (outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdin?.on('error', () => undefined);
  // Do not let the child keep the parent alive: a parent that exits without stop() kills it
  // in its 'exit' handler (children.ts), and a parent killed outright closes its stdin pipe.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const exitedEarly = new AbortController();
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
    exitedEarly.abort(err);
  });
  child.once('exit', (code, signal) => {
    exitedEarly.abort(new Error(`Kinesis Mock exited with ${signal ?? `code ${code}`}`));
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, stopTimeoutMs))) {
          child.kill('SIGKILL');
          await waitForExit(child, stopTimeoutMs);
        }
      }
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      logger.debug({ component: 'kinesis-mock', pid: child.pid }, 'Kinesis Mock stopped');
    })();
    return stopping;
  };

  try {
    await pollUntil(() => kinesisAnswers(endpoint, region, exitedEarly.signal), {
      timeoutMs: startTimeoutMs,
      intervalMs: 100,
      what: `the Kinesis Mock at ${endpoint}`,
      signal: exitedEarly.signal,
    });
  } catch (err) {
    await stop();
    const reason = spawnError ?? err;
    throw new Error(
      `Kinesis Mock failed to start: ${reason instanceof Error ? reason.message : String(reason)}` +
        (outputTail ? `\n--- output tail ---\n${outputTail}` : ''),
      { cause: reason },
    );
  }
  logger.info({ component: 'kinesis-mock', pid: child.pid, endpoint }, 'Kinesis Mock ready');
  return { endpoint, port, pid: child.pid, stop };
}
