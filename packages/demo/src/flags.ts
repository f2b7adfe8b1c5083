// Command-line flags of the demo (node:util parseArgs), kept apart from main.ts so they can be
// tested without starting anything. One table gives each setting its flag, range, default and
// help line; the parser and the usage text are built from it.
import { checkRetrieval, type RetrievalMode } from '@kcl-ts/fleet';
import { parseArgs } from 'node:util';

/** The demo's settings; each one is a flag (see {@link USAGE}). */
export interface DemoOptions {
  readonly streams: number;
  readonly shards: number;
  readonly workers: number;
  readonly durationS: number;
  readonly rate: number;
  readonly keys: number;
  readonly chaos: boolean;
  readonly retrieval: RetrievalMode;
  readonly json: string | undefined;
  readonly drainTimeoutS: number;
  readonly leaseDurationMs: number;
  readonly logLevel: string;
  readonly keep: boolean;
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

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Each setting's flag (with its value's name, for a flag that takes one), whole-number range and help. */
const FLAGS: { readonly [K in keyof DemoOptions]: { readonly flag: string; readonly value?: string; readonly range?: readonly [number, number]; readonly help: string } } = {
  streams: { flag: 'streams', value: 'n', range: [1, 10], help: 'streams, all consumed by the same multi-stream Workers; the producer writes every record to each, the verdict is given per stream and overall; the chaos timeline reshards the first stream' },
  shards: { flag: 'shards', value: 'n', range: [1, 20], help: 'shards each stream starts with' },
  workers: { flag: 'workers', value: 'n', range: [1, 10], help: 'worker processes at the start' },
  durationS: { flag: 'duration', value: 's', range: [5, 3600], help: 'seconds the producer runs' },
  rate: { flag: 'rate', value: 'n', range: [1, 5000], help: 'records per second put to each stream, all keys' },
  keys: { flag: 'keys', value: 'n', range: [1, 100_000], help: 'distinct partition keys' },
  retrieval: { flag: 'retrieval', value: 'mode', help: 'polling (GetRecords) or fanout (SubscribeToShard)' },
  chaos: { flag: 'no-chaos', help: 'no split, merge, kill or graceful stop' },
  json: { flag: 'json', value: 'file', help: 'also write the verdict as JSON to <file>' },
  drainTimeoutS: { flag: 'drain-timeout', value: 's', range: [5, 600], help: 'deadline to process everything put' },
  leaseDurationMs: { flag: 'lease-duration', value: 'ms', range: [1_000, 60_000], help: "the workers' leaseDurationMs" },
  logLevel: { flag: 'log-level', value: 'level', help: `workers' log level: ${LEVELS.join('|')}` },
  keep: { flag: 'keep', help: 'keep the journals and worker logs even if the verdict passes' },
  dashboard: { flag: 'dashboard', help: 'also serve the web dashboard (kcl dashboard) for the fleet on a free port and print its URL; it stops when the demo ends' },
};

const KEYS = Object.keys(FLAGS) as (keyof DemoOptions)[];

/** The `--help` text. */
export const USAGE = `Usage: node packages/demo/dist/main.js [flags]     (or: pnpm demo [flags])

Runs a fleet of kcl-ts worker processes against an embedded Kinesis (Kinesis Mock) and
DynamoDB (dynalite), reshards the stream and kills a worker while a producer writes, then
checks that nothing was lost, duplicates are explained and per-key order held.

Flags:
${KEYS.map((k) => {
  const { flag, value, range, help } = FLAGS[k];
  const d = DEMO_DEFAULTS[k];
  return `  ${`--${flag}${value ? ` <${value}>` : ''}`.padEnd(22)} ${help}${range ? ` (${range[0]}-${range[1]})` : ''}${value && d !== undefined ? ` [default ${d}]` : ''}`;
}).join('\n')}
  -h, --help             show this help

Exit code: 0 when the verdict passes, 1 when it fails, 2 for bad flags.`;

/** A bad command line; the message names the flag. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** Parses the flags; `'help'` when help was asked for. Throws {@link FlagError}. */
export function parseFlags(argv: readonly string[]): DemoOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(KEYS.map((k) => [FLAGS[k].flag, { type: FLAGS[k].value ? ('string' as const) : ('boolean' as const) }]));
    // `pnpm demo -- --flag` passes the separator through.
    ({ values } = parseArgs({ args: argv.filter((a) => a !== '--'), strict: true, allowPositionals: false, options: { ...options, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    throw new FlagError(error instanceof Error ? error.message : String(error));
  }
  if (values['help']) return 'help';
  const out: Record<string, unknown> = {};
  for (const k of KEYS) {
    const { flag, value, range } = FLAGS[k];
    const raw = values[flag];
    if (!value) out[k] = k === 'chaos' ? !raw : raw === true;
    else if (raw === undefined) out[k] = DEMO_DEFAULTS[k];
    else if (range) {
      if (!/^\d+$/.test(raw as string)) throw new FlagError(`--${flag} must be a whole number, got ${JSON.stringify(raw)}`);
      out[k] = Number(raw);
      if (Number(raw) < range[0] || Number(raw) > range[1]) throw new FlagError(`--${flag} must be between ${range[0]} and ${range[1]}, got ${Number(raw)}`);
    } else out[k] = raw;
  }
  try {
    checkRetrieval(out['retrieval'], '--retrieval');
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
  if (!LEVELS.includes(out['logLevel'] as string)) throw new FlagError(`--log-level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(out['logLevel'])}`);
  if (out['json'] !== undefined && (out['json'] === '' || (out['json'] as string).startsWith('--'))) throw new FlagError('--json needs a file name');
  return out as unknown as DemoOptions;
}
