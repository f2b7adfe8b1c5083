// Command-line flags of the demo (node:util parseArgs), kept apart from main.ts so they can be
// tested without starting anything.
import { RETRIEVAL_MODES, type RetrievalMode } from '@kcl-ts/fleet';
import { parseArgs } from 'node:util';

/** The demo's settings. */
export interface DemoOptions {
  /** Streams to create and consume, all with the same Workers (more than one: multi-stream Workers). */
  readonly streams: number;
  /** Shards each stream starts with. */
  readonly shards: number;
  /** Worker processes started at the beginning. */
  readonly workers: number;
  /** How long the producer runs, in seconds. */
  readonly durationS: number;
  /** Records per second put by the producer (all keys together), to each stream. */
  readonly rate: number;
  /** Distinct partition keys. */
  readonly keys: number;
  /** Run the timeline of disruptions (split, merge, kill, restart, graceful stop). */
  readonly chaos: boolean;
  /** How the workers read the stream. */
  readonly retrieval: RetrievalMode;
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
  streams: 1,
  shards: 4,
  workers: 3,
  durationS: 60,
  rate: 200,
  keys: 500,
  chaos: true,
  retrieval: 'polling',
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
  --streams <n>          streams, all consumed by the same multi-stream Workers;
                         the producer writes every record to each, the verdict is
                         given per stream and overall; the chaos timeline reshards
                         the first stream (1-10)                           [default 1]
  --shards <n>           shards each stream starts with (1-20)            [default 4]
  --workers <n>          worker processes at the start (1-10)              [default 3]
  --duration <s>         seconds the producer runs (5-3600)                [default 60]
  --rate <n>             records per second put to each stream, all keys (1-5000) [default 200]
  --keys <n>             distinct partition keys (1-100000)                [default 500]
  --retrieval <mode>     polling (GetRecords) or fanout (SubscribeToShard)  [default polling]
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

function integer(flag: string, raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new FlagError(`${flag} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new FlagError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Parses the flags; `'help'` when help was asked for. Throws {@link FlagError}. */
export function parseFlags(argv: readonly string[]): DemoOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.filter((a) => a !== '--'), // `pnpm demo -- --flag` passes the separator through
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        streams: { type: 'string' },
        shards: { type: 'string' },
        workers: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        keys: { type: 'string' },
        retrieval: { type: 'string' },
        'no-chaos': { type: 'boolean' },
        json: { type: 'string' },
        'drain-timeout': { type: 'string' },
        'lease-duration': { type: 'string' },
        'log-level': { type: 'string' },
        keep: { type: 'boolean' },
        dashboard: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new FlagError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const d = DEMO_DEFAULTS;
  const retrieval = values.retrieval ?? d.retrieval;
  if (!RETRIEVAL_MODES.includes(retrieval as RetrievalMode)) throw new FlagError(`--retrieval must be one of ${RETRIEVAL_MODES.join(', ')}, got ${JSON.stringify(retrieval)}`);
  const level = values['log-level'] ?? d.logLevel;
  if (!LEVELS.includes(level)) throw new FlagError(`--log-level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  if (values.json !== undefined && (values.json === '' || values.json.startsWith('--'))) throw new FlagError('--json needs a file name');
  return {
    streams: integer('--streams', values.streams, 1, 10, d.streams),
    shards: integer('--shards', values.shards, 1, 20, d.shards),
    workers: integer('--workers', values.workers, 1, 10, d.workers),
    durationS: integer('--duration', values.duration, 5, 3600, d.durationS),
    rate: integer('--rate', values.rate, 1, 5000, d.rate),
    keys: integer('--keys', values.keys, 1, 100_000, d.keys),
    chaos: !values['no-chaos'],
    retrieval: retrieval as RetrievalMode,
    json: values.json,
    drainTimeoutS: integer('--drain-timeout', values['drain-timeout'], 5, 600, d.drainTimeoutS),
    leaseDurationMs: integer('--lease-duration', values['lease-duration'], 1_000, 60_000, d.leaseDurationMs),
    logLevel: level,
    keep: values.keep ?? false,
    dashboard: values.dashboard ?? false,
  };
}
