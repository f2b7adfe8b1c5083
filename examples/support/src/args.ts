/**
 * Command-line flags shared by the examples (each example may add its own).
 *
 *   --duration <s>   stop after this many seconds of consuming; 0 = until SIGINT/SIGTERM
 *                    (default: 15 on the embedded stack, 0 otherwise)
 *   --stream <name>  stream to consume (default: $KCL_STREAM, or kcl-example-<name> locally;
 *                    required against AWS)
 *   --app <name>     application name = lease table (default: $KCL_APP or kcl-example-<name>)
 *   --records <n>    records to produce before consuming (default: 50 locally, 0 against AWS)
 *   --shards <n>     shards of a stream the example creates locally (default: 2)
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Mode } from './connect.js';

/** The resolved common flags. */
export interface CommonArgs {
  readonly durationS: number;
  readonly stream: string;
  readonly app: string;
  readonly records: number;
  readonly shards: number;
}

const COMMON_OPTIONS = {
  duration: { type: 'string' },
  stream: { type: 'string' },
  app: { type: 'string' },
  records: { type: 'string' },
  shards: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Parses `argv` (without node and script; a leading `--` from `pnpm start -- …` is ignored). */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], extra: T = {} as T): Record<string, string | boolean | undefined> {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  return parseArgs({ args, options: { ...COMMON_OPTIONS, ...extra }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
}

/** A non-negative number flag, or `fallback` when absent. */
export function numberFlag(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0, got ${String(raw)}`);
  return n;
}

/** Resolves the common flags for `example` in `mode`. */
export function commonArgs(values: Record<string, unknown>, example: string, mode: Mode, env: NodeJS.ProcessEnv = process.env): CommonArgs {
  const local = mode !== 'aws';
  const stream = (values.stream as string | undefined) ?? env.KCL_STREAM ?? (local ? `kcl-example-${example}` : undefined);
  if (!stream) throw new Error('against AWS, name the stream to consume: --stream <name> (or KCL_STREAM)');
  return {
    durationS: numberFlag(values, 'duration', mode === 'embedded' ? 15 : 0),
    stream,
    app: (values.app as string | undefined) ?? env.KCL_APP ?? `kcl-example-${example}`,
    records: Math.floor(numberFlag(values, 'records', local ? 50 : 0)),
    shards: Math.max(1, Math.floor(numberFlag(values, 'shards', 2))),
  };
}

/**
 * Resolves after `seconds` (never, for 0) or at the first SIGINT/SIGTERM, whichever comes
 * first; returns what ended the wait. The signal handlers are removed afterwards.
 */
export function runFor(seconds: number): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(why);
    };
    const onSignal = (signal: NodeJS.Signals): void => done(signal);
    const timer = seconds > 0 ? setTimeout(() => done(`${seconds} s elapsed`), seconds * 1000) : undefined;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

/**
 * Runs an example's `main` and exits with its code (1, with the error printed, if it throws).
 * The AWS SDK's notice that its 2027 releases need Node 22 is turned off first, as in the demo
 * (the README says it once); an application sets the same switch if it wants.
 */
export function runMain(name: string, main: () => Promise<number>): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`${name} failed:`, error);
      process.exit(1);
    },
  );
}
