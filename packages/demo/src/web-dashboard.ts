// `--dashboard`: runs `kcl dashboard` (the real CLI of @kcl-ts/cli, as an operator would) as a
// child process against the demo's stack, on a free port, and hands back its URL.
import { ChildHandle, forkChild } from '@kcl-ts/fleet';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What the dashboard needs to know about the demo's fleet. */
export interface WebDashboardOptions {
  readonly applicationName: string;
  readonly streamName: string;
  readonly kinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
  readonly region: string;
  /** The workers' lease duration, so the page judges expiry as they do. */
  readonly leaseDurationMs: number;
  /** The child's stderr goes here. */
  readonly logFile: string;
  /** How long to wait for the URL. @default 30000 */
  readonly startTimeoutMs?: number;
}

/** A running `kcl dashboard`. */
export interface WebDashboard {
  /** The page's address. */
  readonly url: string;
  /** Stops it (SIGTERM, which it handles as Ctrl-C); kills it if it has not exited after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The `kcl` bin of the workspace's @kcl-ts/cli (built by `pnpm demo`). */
function kclBin(): string {
  const pkg = createRequire(import.meta.url).resolve('@kcl-ts/cli/package.json');
  return join(dirname(pkg), 'dist', 'bin.js');
}

/** Starts `kcl dashboard --port 0` for the demo and resolves once it printed its URL. */
export function startWebDashboard(options: WebDashboardOptions): Promise<WebDashboard> {
  const args = [
    'dashboard',
    '--app', options.applicationName,
    '--stream', options.streamName,
    '--port', '0',
    '--interval', '1000',
    '--lease-duration', String(options.leaseDurationMs),
    '--region', options.region,
    '--kinesis-endpoint', options.kinesisEndpoint,
    '--dynamodb-endpoint', options.dynamoDbEndpoint,
  ];
  // The emulators accept any key; explicit ones keep a user's AWS_PROFILE out of it.
  const env = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PROFILE: '', AWS_SESSION_TOKEN: '' };
  // A child of the fleet harness: SIGKILLed if the demo exits first, whatever way it does.
  const child = forkChild({ entry: kclBin(), args, env, outPath: options.logFile, pipeStdout: true, execArgv: [] });
  const handle = new ChildHandle('kcl dashboard', child);
  const stop = async (timeoutMs = 5_000): Promise<void> => void (await handle.stop(timeoutMs));
  return new Promise<WebDashboard>((resolve, reject) => {
    let out = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop(1_000);
      reject(new Error(`kcl dashboard ${why}; see ${options.logFile}`));
    };
    const timer = setTimeout(() => fail(`printed no URL within ${options.startTimeoutMs ?? 30_000} ms`), options.startTimeoutMs ?? 30_000);
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited (${signal ?? `code ${code}`}) before printing its URL`);
    child.once('exit', onEarlyExit);
    const onData = (chunk: string): void => {
      out += chunk;
      const url = /(http:\/\/\S+\/)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      child.stdout!.off('data', onData).resume();
      resolve({ url, stop });
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
  });
}
