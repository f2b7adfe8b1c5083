// Command-line flags of the demo: parsing and validation, kept apart from main.ts so they can
// be tested without starting anything.

/** The demo's settings. */
export interface DemoOptions {
  /** Shards the stream starts with. */
  readonly shards: number;
  /** Worker processes started at the beginning. */
  readonly workers: number;
  /** How long the producer runs, in seconds. */
  readonly durationS: number;
  /** Records per second put by the producer (all keys together). */
  readonly rate: number;
  /** Distinct partition keys. */
  readonly keys: number;
  /** Run the chaos timeline (split, merge, kill, restart, graceful stop). */
  readonly chaos: boolean;
  /** Write the verdict as JSON to this file. */
  readonly json: string | undefined;
  /** Deadline for processing everything put once the producer stopped, in seconds. */
  readonly drainTimeoutS: number;
  /** Lease duration of the workers, in ms. */
  readonly leaseDurationMs: number;
  /** pino level of the workers' logs (files next to the journals). */
  readonly logLevel: string;
  /** Keep the journals and logs directory even when the verdict passes. */
  readonly keep: boolean;
  /** Also serve `kcl dashboard` for the fleet on a free port and print its URL. */
  readonly dashboard: boolean;
}

/** Defaults: a run of about a minute on a small machine. */
export const DEMO_DEFAULTS: DemoOptions = Object.freeze({
  shards: 4,
  workers: 3,
  durationS: 60,
  rate: 200,
  keys: 500,
  chaos: true,
  json: undefined,
  drainTimeoutS: 60,
  leaseDurationMs: 4_000,
  logLevel: 'warn',
  keep: false,
  dashboard: false,
});

export const USAGE = `Usage: node packages/demo/dist/main.js [flags]     (or: pnpm demo [flags])

Runs a fleet of kcl-ts worker processes against an embedded Kinesis (Kinesis Mock) and
DynamoDB (dynalite), reshards the stream and kills a worker while a producer writes, then
checks that nothing was lost, duplicates are explained and per-key order held.

Flags:
  --shards <n>           shards the stream starts with (1-20)             [default 4]
  --workers <n>          worker processes at the start (1-10)              [default 3]
  --duration <s>         seconds the producer runs (5-3600)                [default 60]
  --rate <n>             records per second put, all keys (1-5000)         [default 200]
  --keys <n>             distinct partition keys (1-100000)                [default 500]
  --no-chaos             no split, merge, kill or graceful stop
  --json <file>          also write the verdict as JSON to <file>
  --drain-timeout <s>    deadline to process everything put (5-600)        [default 60]
  --lease-duration <ms>  the workers' leaseDurationMs (1000-60000)         [default 4000]
  --log-level <level>    workers' log level: fatal|error|warn|info|debug|trace|silent [default warn]
  --keep                 keep the journals and worker logs even if the verdict passes
  --dashboard            also serve the web dashboard (kcl dashboard) for the fleet on a
                         free port and print its URL; it stops when the demo ends
  -h, --help             show this help

Exit code: 0 when the verdict passes, 1 when it fails, 2 for bad flags.`;

/** A bad command line; the message names the flag. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(flag: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || raw.startsWith('--')) throw new FlagError(`${flag} needs a value`);
  if (!/^\d+$/.test(raw)) throw new FlagError(`${flag} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new FlagError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Parses the flags; `'help'` when help was asked for. Throws {@link FlagError}. */
export function parseFlags(argv: readonly string[]): DemoOptions | 'help' {
  const o: { -readonly [K in keyof DemoOptions]: DemoOptions[K] } = { ...DEMO_DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--':
        break; // `pnpm demo -- --flag` passes the separator through
      case '-h':
      case '--help':
        return 'help';
      case '--shards':
        o.shards = integer(flag, value(), 1, 20);
        break;
      case '--workers':
        o.workers = integer(flag, value(), 1, 10);
        break;
      case '--duration':
        o.durationS = integer(flag, value(), 5, 3600);
        break;
      case '--rate':
        o.rate = integer(flag, value(), 1, 5000);
        break;
      case '--keys':
        o.keys = integer(flag, value(), 1, 100_000);
        break;
      case '--drain-timeout':
        o.drainTimeoutS = integer(flag, value(), 5, 600);
        break;
      case '--lease-duration':
        o.leaseDurationMs = integer(flag, value(), 1_000, 60_000);
        break;
      case '--no-chaos':
        if (inline !== undefined) throw new FlagError('--no-chaos takes no value');
        o.chaos = false;
        break;
      case '--keep':
        if (inline !== undefined) throw new FlagError('--keep takes no value');
        o.keep = true;
        break;
      case '--dashboard':
        if (inline !== undefined) throw new FlagError('--dashboard takes no value');
        o.dashboard = true;
        break;
      case '--json': {
        const file = value();
        if (file === undefined || file === '' || file.startsWith('--')) throw new FlagError('--json needs a file name');
        o.json = file;
        break;
      }
      case '--log-level': {
        const level = value();
        if (level === undefined || !LEVELS.includes(level)) throw new FlagError(`--log-level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
        o.logLevel = level;
        break;
      }
      default:
        throw new FlagError(`unknown flag ${JSON.stringify(arg)}`);
    }
  }
  return o;
}
