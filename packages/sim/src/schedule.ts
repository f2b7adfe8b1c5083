/**
 * Schedules: the replayable description of one simulation run (a configuration and timed
 * events), and the seeded generator that produces them, biased towards the situations that
 * break distributed consumers.
 * @module
 */
import type { ShardFilterSupport } from './memory-kinesis.js';
import { SeededRandom, deriveSeed } from './random.js';

/** Version of the schedule JSON format. */
export const SCHEDULE_VERSION = 1;

/** The run-wide settings of a schedule. */
export interface SimConfig {
  /** Open shards at the start. */
  readonly shards: number;
  /** The Worker's `initialPosition`. */
  readonly initialPosition: 'LATEST' | 'TRIM_HORIZON';
  /** Length of the faulty part of the run (simulated ms); then faults stop and the fleet catches up. */
  readonly durationMs: number;
  /** Partition keys the producer writes (each with its own counter). */
  readonly keys: number;
  /** The processor checkpoints (at the batch's last record) after every this many successful batches. */
  readonly checkpointEvery: number;
  /** Simulated time one `processRecords` call takes. */
  readonly batchWorkMs: number;
  /** The Worker's `maxRecords` (GetRecords `Limit`); small values make many small batches. */
  readonly maxRecords: number;
  /** Kinesis sends `ChildShards` at the end of a closed shard (kinesalite does not). */
  readonly childShards: boolean;
  /** How ListShards treats `ShardFilter`. */
  readonly shardFilter: ShardFilterSupport;
  /** Most shards per ListShards page. */
  readonly listShardsPageSize: number;
  /** The Worker's `leaseDurationMs`. */
  readonly leaseDurationMs: number;
  /** The Worker's `takerIntervalMs`. */
  readonly takerIntervalMs: number;
  /** The Worker's `idleTimeBetweenReadsMs`. */
  readonly idleTimeBetweenReadsMs: number;
  /**
   * The processor: `recording` (the default: journals each batch as it returns, checkpoints
   * every `checkpointEvery` batches) or `batching` (`BatchingProcessor` of `@kcl-ts/sinks`
   * writing to an in-memory sink that journals what it writes; see {@link batching}).
   */
  readonly processor?: 'recording' | 'batching';
  /** Settings of the `batching` processor and its sink (required when `processor` is `batching`). */
  readonly batching?: BatchingSettings;
  /** The Worker's lease `coordination` (and `renewal`) mode; absent: the defaults. */
  readonly coordination?: SimCoordination;
  /**
   * Streams the fleet consumes (each worker all of them, through `WorkerOptions.streams`; the
   * producer writes to every one). Absent or 1: one stream, consumed through `streamName`.
   */
  readonly streams?: number;
}

/** A lease coordination mode of the simulated workers. */
export type SimCoordination = 'every-worker' | 'single-scanner' | 'worker-heartbeat';

/**
 * The `BatchingProcessor`'s options and its simulated sink. Sink outages (`sink-outage`) make
 * the sink's `write` throw; a `hang` makes the worker's next write take that much longer.
 */
export interface BatchingSettings {
  /** `batching.maxRecords`: flush at this many buffered records (and write at most this many at once). */
  readonly maxRecords: number;
  /** `batching.maxAgeMs`: flush when the oldest buffered record waited this long (simulated ms). */
  readonly maxAgeMs: number;
  /** `batching.ageTimer`: flush by age between batches too, from a timer on the worker's clock. */
  readonly ageTimer: boolean;
  /** Simulated time every sink write takes. */
  readonly writeMs: number;
  /** `retry.maxRetries` of a failed flush (then `processRecords` throws). */
  readonly maxRetries: number;
  /** `retry.baseDelayMs`. */
  readonly baseDelayMs: number;
  /** `retry.maxDelayMs`. */
  readonly maxDelayMs: number;
}

/** Share of generated schedules that run the `BatchingProcessor`. */
export const BATCHING_SHARE = 0.3;

/** A timed event of a schedule. `worker` names a worker *instance* (`w1`, `w2`, …). */
export type SimEvent =
  /** A new Worker instance starts, with `workerId` (default: its own name; another instance's id makes a duplicate id). */
  | { readonly at: number; readonly kind: 'join'; readonly worker: string; readonly workerId?: string }
  /** kill -9: the instance's timers are dropped. */
  | { readonly at: number; readonly kind: 'kill'; readonly worker: string }
  /** Graceful `worker.shutdown()`. */
  | { readonly at: number; readonly kind: 'stop'; readonly worker: string }
  /**
   * A synchronous stall of the instance. `idle`: starts at once, between two callbacks;
   * `in-callback`: starts at the end of the instance's next `processRecords` (after its
   * work and checkpoint; within 2 s, else idle).
   */
  | { readonly at: number; readonly kind: 'stall'; readonly worker: string; readonly durationMs: number; readonly mode: 'idle' | 'in-callback' }
  /** The producer puts `perTick` records every `everyMs` for `durationMs`. */
  | { readonly at: number; readonly kind: 'produce'; readonly durationMs: number; readonly everyMs: number; readonly perTick: number }
  /** The processors' sink is down: `processRecords` throws (on one instance, or on all when `worker` is absent). */
  | { readonly at: number; readonly kind: 'sink-outage'; readonly worker?: string; readonly durationMs: number }
  /** The instance's next `processRecords` hangs for `durationMs` (honouring its signal). */
  | { readonly at: number; readonly kind: 'hang'; readonly worker: string; readonly durationMs: number }
  /** Splits an open shard (`pick` modulo the open shards, in id order) of stream `stream` (an index; default 0). */
  | { readonly at: number; readonly kind: 'split'; readonly pick: number; readonly stream?: number }
  /** Merges two adjacent open shards (`pick` modulo the adjacent pairs) of stream `stream` (an index; default 0). */
  | { readonly at: number; readonly kind: 'merge'; readonly pick: number; readonly stream?: number }
  /** Lease-table faults for a while (probabilities per call). */
  | { readonly at: number; readonly kind: 'table-faults'; readonly durationMs: number; readonly throttle: number; readonly lostResponse: number }
  /** Kinesis faults for a while (probabilities per call). */
  | { readonly at: number; readonly kind: 'kinesis-faults'; readonly durationMs: number; readonly throttle: number; readonly transient: number }
  /** From now on, the instance's processors keep their checkpointer and checkpoint again `delayMs` after their lease ended. */
  | { readonly at: number; readonly kind: 'stale-checkpointer'; readonly worker: string; readonly delayMs: number };

/** The kinds of {@link SimEvent}. */
export type SimEventKind = SimEvent['kind'];

/** A replayable simulation run. */
export interface Schedule {
  readonly version: typeof SCHEDULE_VERSION;
  /** The seed it was generated from; also seeds the run's own random draws (latencies, keys, faults). */
  readonly seed: number;
  readonly config: SimConfig;
  /** Events, in time order. */
  readonly events: readonly SimEvent[];
}

/** Options of {@link generateSchedule}. */
export interface GenerateOptions {
  /** Range of {@link SimConfig.durationMs}. @default [60_000, 120_000] */
  readonly durationMs?: readonly [number, number];
  /** The coordination mode of every worker ({@link SimConfig.coordination}). @default the Worker's default */
  readonly coordination?: SimCoordination;
  /**
   * Streams of the schedule ({@link SimConfig.streams}): a number, or `'random'` (1 with
   * probability 0.6, else 2 or 3), drawn from a stream of its own so that a seed's other
   * settings and events are the same whichever number of streams it runs. @default 1
   */
  readonly streams?: number | 'random';
}

/** Fixed tuning of every simulated worker (fast, so a run covers many lease durations). */
export const SIM_TUNING = {
  leaseDurationMs: 3_000,
  takerIntervalMs: 500,
  idleTimeBetweenReadsMs: 100,
} as const;

interface Model {
  readonly random: SeededRandom;
  readonly events: SimEvent[];
  /** Instances believed alive (joined, not killed or stopped), by name, with their worker id. */
  readonly alive: Map<string, string>;
  nextWorker: number;
  readonly durationMs: number;
}

function join(m: Model, at: number, workerId?: string): string {
  const worker = `w${++m.nextWorker}`;
  m.events.push({ at, kind: 'join', worker, ...(workerId !== undefined && { workerId }) });
  m.alive.set(worker, workerId ?? worker);
  return worker;
}

/** A live instance, joining one if none is alive. */
function someAlive(m: Model, at: number): string {
  const names = [...m.alive.keys()];
  return names.length > 0 ? m.random.pick(names) : join(m, at);
}

/** Makes sure at least `n` instances are alive at `at`. */
function ensureAlive(m: Model, at: number, n: number): void {
  while (m.alive.size < n) join(m, at);
}

function end(m: Model, worker: string, at: number, how: 'kill' | 'stop'): void {
  m.events.push({ at, kind: how, worker });
  m.alive.delete(worker);
}

/** The situations the generator biases towards; each adds a few related events at `at`. */
const MOTIFS: Record<string, (m: Model, at: number, config: SimConfig) => void> = {
  /** A batch fails (sink outage), then the owner is stopped gracefully while it retries. */
  'failed-batch-then-stop': (m, at) => {
    ensureAlive(m, at, 2);
    const w = someAlive(m, at);
    m.events.push({ at, kind: 'sink-outage', worker: w, durationMs: m.random.int(2_000, 6_000) });
    end(m, w, at + m.random.int(300, 1_800), 'stop');
  },
  /** A batch fails, then a new worker joins and asks for a graceful handoff while it retries. */
  'failed-batch-then-handoff': (m, at) => {
    const w = someAlive(m, at);
    m.events.push({ at, kind: 'sink-outage', worker: w, durationMs: m.random.int(3_000, 8_000) });
    join(m, at + m.random.int(200, 1_500));
  },
  /** Under LATEST, the first owner of a shard changes before its first checkpoint. */
  'early-owner-change': (m, _at, config) => {
    if (config.initialPosition !== 'LATEST') return;
    ensureAlive(m, 0, 2);
    const w = someAlive(m, 0);
    const at = m.random.int(1_200, 5_000);
    if (m.random.chance(0.7)) m.events.push({ at: m.random.int(100, 600), kind: 'sink-outage', worker: w, durationMs: m.random.int(4_000, 10_000) });
    const how = m.random.int(0, 3);
    if (how === 0) end(m, w, at, 'kill');
    else if (how === 1) end(m, w, at, 'stop');
    else if (how === 2) m.events.push({ at, kind: 'stall', worker: w, durationMs: stallDuration(m), mode: 'idle' });
    else join(m, at);
  },
  /** A worker stalls longer than its lease while batches are prefetched (a slow batch first). */
  'stall-with-prefetch': (m, at) => {
    ensureAlive(m, at, 2);
    const w = someAlive(m, at);
    if (m.random.chance(0.6)) m.events.push({ at, kind: 'hang', worker: w, durationMs: m.random.int(600, 2_500) });
    const durationMs = m.random.int(Math.floor(SIM_TUNING.leaseDurationMs * 1.5), SIM_TUNING.leaseDurationMs * 3);
    m.events.push({ at: at + m.random.int(100, 1_200), kind: 'stall', worker: w, durationMs, mode: m.random.chance(0.7) ? 'in-callback' : 'idle' });
  },
  /** A second Worker is started with the worker id of a running one. */
  'duplicate-id': (m, at) => {
    const w = someAlive(m, at);
    join(m, at, m.alive.get(w));
  },
  /** A worker is killed and restarted with the same worker id (adopting its own leases). */
  restart: (m, at) => {
    ensureAlive(m, at, 2);
    const w = someAlive(m, at);
    const workerId = m.alive.get(w)!;
    end(m, w, at, 'kill');
    join(m, at + m.random.int(100, 4_000), workerId);
  },
  /** The lease table throttles and loses responses for a while. */
  'table-trouble': (m, at) => {
    m.events.push({ at, kind: 'table-faults', durationMs: m.random.int(2_000, 9_000), throttle: round(m.random.next() * 0.6), lostResponse: round(m.random.next() * 0.3) });
  },
  /** A processor keeps its checkpointer and checkpoints after losing its lease. */
  'stale-processor': (m, at) => {
    ensureAlive(m, at, 2);
    const w = someAlive(m, at);
    m.events.push({ at, kind: 'stale-checkpointer', worker: w, delayMs: m.random.int(200, 5_000) });
    const t = at + m.random.int(200, 2_000);
    const how = m.random.int(0, 2);
    if (how === 0) m.events.push({ at: t, kind: 'stall', worker: w, durationMs: stallDuration(m), mode: 'idle' });
    else if (how === 1) end(m, w, t, 'stop');
    else join(m, t);
  },
  /** Resharding while the fleet runs. */
  reshard: (m, at) => {
    m.events.push({ at, kind: 'split', pick: m.random.int(0, 7) });
    if (m.random.chance(0.5)) m.events.push({ at: at + m.random.int(500, 6_000), kind: 'merge', pick: m.random.int(0, 7) });
  },
};

const MOTIF_WEIGHTS: readonly [string, number][] = [
  ['failed-batch-then-stop', 3],
  ['failed-batch-then-handoff', 3],
  ['early-owner-change', 3],
  ['stall-with-prefetch', 3],
  ['duplicate-id', 2],
  ['restart', 1],
  ['table-trouble', 2],
  ['stale-processor', 2],
  ['reshard', 2],
];

function stallDuration(m: Model): number {
  return m.random.int(SIM_TUNING.leaseDurationMs + 500, Math.floor(SIM_TUNING.leaseDurationMs * 2.5));
}

function round(p: number): number {
  return Math.round(p * 100) / 100;
}

function weighted(random: SeededRandom, weights: readonly [string, number][]): string {
  const total = weights.reduce((n, [, w]) => n + w, 0);
  let x = random.next() * total;
  for (const [name, w] of weights) {
    x -= w;
    if (x < 0) return name;
  }
  return weights.at(-1)![0];
}

/** A random event of any kind, for variety beyond the motifs. */
function randomEvent(m: Model, at: number): void {
  const kind = m.random.int(0, 9);
  switch (kind) {
    case 0:
      join(m, at);
      return;
    case 1:
      if (m.alive.size > 1) end(m, someAlive(m, at), at, 'kill');
      return;
    case 2:
      if (m.alive.size > 1) end(m, someAlive(m, at), at, 'stop');
      return;
    case 3:
      m.events.push({ at, kind: 'hang', worker: someAlive(m, at), durationMs: m.random.int(200, 4_000) });
      return;
    case 4:
      m.events.push({ at, kind: 'sink-outage', ...(m.random.chance(0.5) && { worker: someAlive(m, at) }), durationMs: m.random.int(500, 5_000) });
      return;
    case 5:
      m.events.push({ at, kind: 'kinesis-faults', durationMs: m.random.int(1_000, 6_000), throttle: round(m.random.next() * 0.5), transient: round(m.random.next() * 0.2) });
      return;
    case 6:
      m.events.push({ at, kind: 'stall', worker: someAlive(m, at), durationMs: m.random.chance(0.5) ? stallDuration(m) : m.random.int(200, 2_000), mode: m.random.chance(0.5) ? 'in-callback' : 'idle' });
      return;
    case 7:
      m.events.push({ at, kind: 'split', pick: m.random.int(0, 7) });
      return;
    case 8:
      m.events.push({ at, kind: 'merge', pick: m.random.int(0, 7) });
      return;
    default:
      m.events.push({ at, kind: 'table-faults', durationMs: m.random.int(1_000, 5_000), throttle: round(m.random.next() * 0.4), lostResponse: round(m.random.next() * 0.2) });
  }
}

/** Generates the schedule of `seed`: the same seed always gives the same schedule. */
export function generateSchedule(seed: number, options: GenerateOptions = {}): Schedule {
  const random = new SeededRandom(deriveSeed(seed, 'schedule'));
  const [minDuration, maxDuration] = options.durationMs ?? [60_000, 120_000];
  const durationMs = random.int(minDuration, maxDuration);
  const motifs = Array.from({ length: random.int(2, 4) }, () => weighted(random, MOTIF_WEIGHTS));
  const config: SimConfig = {
    shards: random.int(1, 4),
    // An early owner change matters under LATEST (where the start must be resolved once).
    initialPosition: motifs.includes('early-owner-change') || random.chance(0.5) ? 'LATEST' : 'TRIM_HORIZON',
    durationMs,
    keys: random.int(3, 12),
    checkpointEvery: random.int(1, 3),
    batchWorkMs: random.pick([0, 0, 5, 20, 60, 150]),
    maxRecords: random.pick([2, 5, 10, 100, 10_000]),
    childShards: random.chance(0.75),
    shardFilter: random.pick(['supported', 'supported', 'rejected', 'ignored'] as const),
    listShardsPageSize: random.pick([1, 2, 1000]),
    ...SIM_TUNING,
    ...(options.coordination !== undefined && options.coordination !== 'every-worker' ? { coordination: options.coordination } : {}),
  };
  const withProcessor = { ...config, ...processorConfig(seed) };
  const m: Model = { random, events: [], alive: new Map(), nextWorker: 0, durationMs };
  const initial = random.int(1, 3);
  for (let i = 0; i < initial; i++) join(m, random.int(0, 400));

  // The producer: a steady stream from the start, and sometimes extra bursts.
  m.events.push({ at: random.int(0, 300), kind: 'produce', durationMs, everyMs: random.int(80, 400), perTick: random.int(1, 3) });
  for (let i = random.int(0, 2); i > 0; i--) {
    m.events.push({ at: random.int(0, durationMs - 2_000), kind: 'produce', durationMs: random.int(500, 5_000), everyMs: random.int(10, 50), perTick: random.int(1, 5) });
  }

  // Motifs and random events are placed in time order, so the model of who is alive at a
  // given time stays roughly right (events on an instance that is not running are skipped
  // at run time anyway).
  const latest = durationMs - 4_000;
  const actions: { at: number; run: (at: number) => void }[] = [];
  for (const name of motifs) {
    const motif = MOTIFS[name]!;
    actions.push({ at: random.int(800, latest), run: (at) => motif(m, at, config) });
  }
  for (let i = random.int(2, 8); i > 0; i--) actions.push({ at: random.int(500, latest), run: (at) => randomEvent(m, at) });
  for (const action of actions.sort((a, b) => a.at - b.at)) action.run(action.at);

  const events = m.events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => e);
  return withStreams({ version: SCHEDULE_VERSION, seed, config: withProcessor, events }, options.streams ?? 1);
}

/**
 * The schedule on `streams` streams (drawn for `'random'`), with each reshard event given a
 * stream, from a random stream of the seed's own: one stream leaves the schedule unchanged.
 */
function withStreams(schedule: Schedule, streams: number | 'random'): Schedule {
  const random = new SeededRandom(deriveSeed(schedule.seed, 'streams'));
  const n = streams === 'random' ? (random.chance(0.6) ? 1 : random.int(2, 3)) : streams;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`streams must be a positive integer or "random", got ${String(streams)}`);
  if (n === 1) return schedule;
  const events = schedule.events.map((e) => (e.kind === 'split' || e.kind === 'merge' ? { ...e, stream: random.int(0, n - 1) } : e));
  return { ...schedule, config: { ...schedule.config, streams: n }, events };
}

/**
 * The processor of `seed`'s schedule, drawn from a stream of its own, so a seed's events are
 * the same whichever processor it runs: {@link BATCHING_SHARE} of the seeds run the
 * `BatchingProcessor`, with thresholds small enough that count, age, shutdown and shard-end
 * flushes all happen, and retry budgets that some sink outages outlast.
 */
function processorConfig(seed: number): Pick<SimConfig, 'processor' | 'batching'> {
  const random = new SeededRandom(deriveSeed(seed, 'processor'));
  if (!random.chance(BATCHING_SHARE)) return {};
  const baseDelayMs = random.pick([20, 100, 300]);
  return {
    processor: 'batching',
    batching: {
      maxRecords: random.pick([1, 3, 10, 50, 500]),
      maxAgeMs: random.pick([100, 500, 2_000, 5_000]),
      ageTimer: random.chance(0.85),
      writeMs: random.pick([0, 0, 5, 30, 200]),
      maxRetries: random.pick([0, 1, 2, 4]),
      baseDelayMs,
      maxDelayMs: Math.max(baseDelayMs, random.pick([500, 1_000, 2_000])),
    },
  };
}

/**
 * Checks that `value` is a schedule this version can replay (JSON from a file).
 * @throws TypeError naming what is wrong.
 */
export function parseSchedule(value: unknown): Schedule {
  if (typeof value !== 'object' || value === null) throw new TypeError('a schedule must be a JSON object');
  const s = value as Partial<Schedule>;
  if (s.version !== SCHEDULE_VERSION) throw new TypeError(`schedule.version must be ${SCHEDULE_VERSION}, got ${JSON.stringify(s.version)}`);
  if (typeof s.seed !== 'number') throw new TypeError('schedule.seed must be a number');
  if (typeof s.config !== 'object' || s.config === null) throw new TypeError('schedule.config must be an object');
  if (!Array.isArray(s.events)) throw new TypeError('schedule.events must be an array');
  const processor = s.config.processor;
  if (processor !== undefined && processor !== 'recording' && processor !== 'batching') throw new TypeError(`schedule.config.processor must be "recording" or "batching", got ${JSON.stringify(processor)}`);
  if (processor === 'batching' && (typeof s.config.batching !== 'object' || s.config.batching === null)) throw new TypeError('schedule.config.batching must be an object when processor is "batching"');
  const streams = s.config.streams;
  if (streams !== undefined && (!Number.isInteger(streams) || streams < 1)) throw new TypeError(`schedule.config.streams must be a positive integer, got ${JSON.stringify(streams)}`);
  for (const [i, e] of s.events.entries()) {
    if (typeof e !== 'object' || e === null || typeof (e as SimEvent).at !== 'number' || typeof (e as SimEvent).kind !== 'string') {
      throw new TypeError(`schedule.events[${i}] must be an object with a numeric "at" and a "kind"`);
    }
  }
  return s as Schedule;
}
