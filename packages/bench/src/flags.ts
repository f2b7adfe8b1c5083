/**
 * Command-line flags of `pnpm bench` (node:util parseArgs).
 * @module
 */
import { parseArgs } from 'node:util';

/** Names accepted by `--only`, in the order the benchmarks run. */
export const BENCHMARKS = ['deaggregation', 'rebalance', 'dynamodb', 'failover', 'handoff', 'latency', 'throughput', 'idle', 'neighbours', 'rss', 'fanout-pipeline', 'fanout'] as const;

/** One benchmark's name. */
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** Parsed flags. */
export interface BenchFlags {
  readonly only: ReadonlySet<BenchmarkName>;
  readonly runs: number;
  readonly quick: boolean;
  /** Where the Markdown report goes; `undefined` = do not write one. */
  readonly out: string | undefined;
  readonly help: boolean;
}

/** Usage text. */
export const USAGE = `Usage: pnpm bench [--quick] [--runs N] [--only name[,name…]] [--out path | --no-out]

  --quick       fewer runs, shorter windows and smaller data sets (about 8 minutes; the full run about 30)
  --runs N      repetitions per figure (default 5, or 3 with --quick; benchmarks cap it
                where a run is long: latency and idle 3, rss and neighbours 2)
  --only names  run only these benchmarks: ${BENCHMARKS.join(', ')}
                (latency, throughput, idle, rss: kcl-ts against lifion-kinesis and the raw
                SDK loop; neighbours: two applications on one stream; fanout: enhanced
                fan-out beside polling on the Kinesis Mock; fanout-pipeline: the fan-out
                pipeline's own latency over HTTP/2)
  --out path    write the Markdown report there (default docs/benchmarks.md when every
                benchmark runs; none with --only unless --out is given)
  --no-out      do not write the Markdown report
  -h, --help    show this help
`;

/** Parses `argv` (without node and the script); throws an Error with a message for bad input. */
export function parseFlags(argv: readonly string[], defaultOut: string): BenchFlags {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      runs: { type: 'string' },
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      'no-out': { type: 'boolean' },
    },
  });
  let only: Set<BenchmarkName> | undefined;
  for (const name of (values.only ?? []).flatMap((v) => v.split(','))) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) throw new Error(`unknown benchmark "${name}"; choose from ${BENCHMARKS.join(', ')}`);
    (only ??= new Set()).add(name as BenchmarkName);
  }
  const quick = values.quick ?? false;
  const runs = values.runs === undefined ? (quick ? 3 : 5) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be an integer between 1 and 50, got ${values.runs}`);
  return {
    only: only ?? new Set(BENCHMARKS),
    runs,
    quick,
    out: values['no-out'] ? undefined : (values.out ?? (only ? undefined : defaultOut)),
    help: values.help ?? false,
  };
}
