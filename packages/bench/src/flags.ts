/**
 * Command-line flags of `pnpm bench`.
 * @module
 */

/** Names accepted by `--only`, in the order the benchmarks run. */
export const BENCHMARKS = ['deaggregation', 'rebalance', 'dynamodb', 'failover', 'handoff', 'latency', 'throughput', 'idle', 'neighbours', 'rss', 'fanout-pipeline'] as const;

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
                SDK loop; neighbours: two applications on one stream; fanout-pipeline: the
                fan-out pipeline's own latency over HTTP/2)
  --out path    write the Markdown report there (default docs/benchmarks.md when every
                benchmark runs; none with --only unless --out is given)
  --no-out      do not write the Markdown report
`;

/** Parses `argv` (without node and the script); throws an Error with a message for bad input. */
export function parseFlags(argv: readonly string[], defaultOut: string): BenchFlags {
  let only: Set<BenchmarkName> | undefined;
  let runs: number | undefined;
  let quick = false;
  let out: string | undefined | null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--runs') {
      const v = value();
      runs = Number(v);
      if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be an integer between 1 and 50, got ${v}`);
    } else if (arg === '--only') {
      only ??= new Set();
      for (const name of value().split(',')) {
        if (!(BENCHMARKS as readonly string[]).includes(name)) throw new Error(`unknown benchmark "${name}"; choose from ${BENCHMARKS.join(', ')}`);
        only.add(name as BenchmarkName);
      }
    } else if (arg === '--out') out = value();
    else if (arg === '--no-out') out = null;
    else if (arg === '--') continue;
    else throw new Error(`unknown argument ${arg}`);
  }
  return {
    only: only ?? new Set(BENCHMARKS),
    runs: runs ?? (quick ? 3 : 5),
    quick,
    out: out === null ? undefined : (out ?? (only ? undefined : defaultOut)),
    help,
  };
}
