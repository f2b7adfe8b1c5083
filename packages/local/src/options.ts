import { silentLocalLogger, type LocalLogger } from './logger.js';

/** Which Kinesis emulator a local stack runs. */
export type KinesisImplementation = 'kinesis-mock' | 'kinesalite';

/** Where the emulators keep their data between restarts. */
export interface PersistenceOptions {
  /** A directory; each emulator uses its own sub-directory inside it. Created if missing. */
  readonly directory: string;
}

/** Options of {@link startLocalStack}. Every field is optional. */
export interface LocalStackOptions {
  /**
   * The Kinesis emulator: the Kinesis Mock (npm `kinesis-local`, run as a child process;
   * supports UpdateShardCount, ShardFilter and ChildShards) or kinesalite (in-process; older,
   * faster, no UpdateShardCount, ignores ShardFilter, no ChildShards).
   * @default 'kinesis-mock'
   */
  readonly kinesis?: KinesisImplementation;
  /** Port of the Kinesis endpoint on 127.0.0.1. @default a free port */
  readonly kinesisPort?: number;
  /** Port of the DynamoDB endpoint on 127.0.0.1. @default a free port */
  readonly dynamoDbPort?: number;
  /**
   * How long a stream stays CREATING / DELETING / UPDATING after a create, delete or
   * reshard call, in milliseconds (the emulators' own default is 500).
   * @default 100
   */
  readonly streamOperationDelayMs?: number;
  /** How long a table stays CREATING / DELETING / UPDATING, in milliseconds. @default 100 */
  readonly tableOperationDelayMs?: number;
  /** Keep data on disk between restarts, or `false` for in-memory only. @default false */
  readonly persistence?: false | PersistenceOptions;
  /**
   * Maximum number of open shards over all streams. Tests share one stack and never delete
   * their streams, so the default is far above the emulators' own (50 and 10).
   * @default 1000
   */
  readonly shardLimit?: number;
  /** Region the clients and the exported environment use. @default 'us-east-1' */
  readonly region?: string;
  /** How long to wait for each emulator to answer its first request. @default 60000 */
  readonly startTimeoutMs?: number;
  /** A pino (or compatible) logger for lifecycle messages. @default a silent logger */
  readonly logger?: LocalLogger;
}

/** {@link LocalStackOptions} with every default applied. */
export interface LocalStackConfig {
  readonly kinesis: KinesisImplementation;
  readonly kinesisPort: number | undefined;
  readonly dynamoDbPort: number | undefined;
  readonly streamOperationDelayMs: number;
  readonly tableOperationDelayMs: number;
  readonly persistence: false | PersistenceOptions;
  readonly shardLimit: number;
  readonly region: string;
  readonly startTimeoutMs: number;
  readonly logger: LocalLogger;
}

/** The defaults of {@link LocalStackOptions}. */
export const LOCAL_STACK_DEFAULTS = Object.freeze({
  kinesis: 'kinesis-mock',
  streamOperationDelayMs: 100,
  tableOperationDelayMs: 100,
  persistence: false,
  shardLimit: 1000,
  region: 'us-east-1',
  startTimeoutMs: 60_000,
} as const);

const KINESIS_IMPLEMENTATIONS: readonly KinesisImplementation[] = ['kinesis-mock', 'kinesalite'];

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Throws a `TypeError` naming `name` unless `value` is undefined or a valid TCP port (1–65535). */
export function checkPort(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new TypeError(`${name} must be an integer port between 1 and 65535, got ${describe(value)}`);
  }
  return value;
}

/** Throws a `TypeError` naming `name` unless `value` is an integer within [min, max]. */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer between ${min} and ${max}, got ${describe(value)}`);
  }
  return value;
}

/** Throws a `TypeError` naming `name` unless `value` is `false`/undefined or `{ directory: non-empty string }`. */
export function checkPersistence(name: string, value: unknown): false | PersistenceOptions {
  if (value === undefined || value === false) return false;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { directory?: unknown }).directory !== 'string' ||
    (value as { directory: string }).directory.length === 0
  ) {
    throw new TypeError(`${name} must be false or { directory: string }, got ${describe(value)}`);
  }
  return { directory: (value as PersistenceOptions).directory };
}

/** Throws a `TypeError` unless `value` looks like a logger. */
export function checkLogger(name: string, value: unknown): LocalLogger {
  if (value === undefined) return silentLocalLogger;
  const l = value as Partial<LocalLogger> | null;
  if (
    typeof l !== 'object' ||
    l === null ||
    typeof l.info !== 'function' ||
    typeof l.warn !== 'function' ||
    typeof l.error !== 'function' ||
    typeof l.debug !== 'function'
  ) {
    throw new TypeError(`${name} must be a logger with debug/info/warn/error methods, got ${describe(value)}`);
  }
  return l as LocalLogger;
}

/**
 * Applies {@link LOCAL_STACK_DEFAULTS} to `options` and validates every field, throwing a
 * `TypeError` that names the offending option and its value.
 */
export function resolveLocalStackConfig(options: LocalStackOptions = {}): LocalStackConfig {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const kinesis = options.kinesis ?? LOCAL_STACK_DEFAULTS.kinesis;
  if (!KINESIS_IMPLEMENTATIONS.includes(kinesis)) {
    throw new TypeError(`kinesis must be one of ${KINESIS_IMPLEMENTATIONS.join(', ')}, got ${describe(kinesis)}`);
  }
  const kinesisPort = checkPort('kinesisPort', options.kinesisPort);
  const dynamoDbPort = checkPort('dynamoDbPort', options.dynamoDbPort);
  if (kinesisPort !== undefined && kinesisPort === dynamoDbPort) {
    throw new TypeError(`kinesisPort and dynamoDbPort must differ, both are ${kinesisPort}`);
  }
  const region = options.region ?? LOCAL_STACK_DEFAULTS.region;
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region)) {
    throw new TypeError(`region must be a region name such as "us-east-1", got ${describe(region)}`);
  }
  return {
    kinesis,
    kinesisPort,
    dynamoDbPort,
    streamOperationDelayMs: checkInteger(
      'streamOperationDelayMs',
      options.streamOperationDelayMs ?? LOCAL_STACK_DEFAULTS.streamOperationDelayMs,
      0,
      600_000,
    ),
    tableOperationDelayMs: checkInteger(
      'tableOperationDelayMs',
      options.tableOperationDelayMs ?? LOCAL_STACK_DEFAULTS.tableOperationDelayMs,
      0,
      600_000,
    ),
    persistence: checkPersistence('persistence', options.persistence),
    shardLimit: checkInteger('shardLimit', options.shardLimit ?? LOCAL_STACK_DEFAULTS.shardLimit, 1, 1_000_000),
    region,
    startTimeoutMs: checkInteger(
      'startTimeoutMs',
      options.startTimeoutMs ?? LOCAL_STACK_DEFAULTS.startTimeoutMs,
      1,
      3_600_000,
    ),
    logger: checkLogger('logger', options.logger),
  };
}
