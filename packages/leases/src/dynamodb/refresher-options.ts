/**
 * Options of {@link DynamoDbLeaseRefresher}, their defaults, and their validation.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { assertClock, assertLogger, booleanOption, describeValue, functionOption, numberOption, optionGroup, optionPath, silentLogger, systemClock, type Clock, type Logger } from '@kcl-ts/processor';
import type { InvalidLeaseItem } from '../refresher.js';
import type { LeaseTableBillingMode } from './lease-table.js';
import { DEFAULT_RETRY_BASE_DELAY_MS, DEFAULT_RETRY_MAX_DELAY_MS, MAX_TIMER_DELAY_MS } from '@kcl-ts/processor';

/** Options of a {@link DynamoDbLeaseRefresher}. */
export interface DynamoDbLeaseRefresherOptions {
  /**
   * The DynamoDB client to use. It stays yours: the refresher never destroys it.
   * Java KCL: `ConfigsBuilder`'s `dynamoDBClient`.
   */
  readonly dynamoDbClient: DynamoDBClient;
  /**
   * Name of the lease table (3–255 characters of `A-Z a-z 0-9 _ . -`).
   * Java KCL: `LeaseManagementConfig.tableName` (defaults to the application name).
   */
  readonly tableName: string;
  /** Clock used for backoff sleeps and the table-creation deadline. @default systemClock */
  readonly clock?: Clock;
  /** Logger; the refresher logs as `component: 'dynamodb-lease-refresher'`. @default silentLogger() */
  readonly logger?: Logger;
  /**
   * Capacity mode of a table created by {@link DynamoDbLeaseRefresher.createLeaseTableIfNotExists}.
   * Java KCL: `LeaseManagementConfig.billingMode` with `initialLeaseTableReadCapacity` / `initialLeaseTableWriteCapacity`.
   * @default 'PAY_PER_REQUEST'
   */
  readonly billingMode?: LeaseTableBillingMode;
  /**
   * How long `createLeaseTableIfNotExists` waits for the table to become ACTIVE, in ms.
   * Java KCL: the fixed wait of `waitUntilLeaseTableExists` at start-up.
   * @default 300000 (5 minutes)
   */
  readonly tableCreationTimeoutMs?: number;
  /**
   * Retries of one DynamoDB call after throttling, a 5xx or a network error, with
   * exponential backoff and full jitter (on top of the SDK client's own retries).
   * Java KCL: none of its own (it relies on the SDK's retry policy).
   * @default 8
   */
  readonly maxRetries?: number;
  /** Backoff base in ms: retry `n` waits a random time below `retryBaseDelayMs × 2^n`. @default 50 */
  readonly retryBaseDelayMs?: number;
  /** Cap of one backoff wait in ms; at least `retryBaseDelayMs`. @default 2000 (or `retryBaseDelayMs`, when that is larger) */
  readonly retryMaxDelayMs?: number;
  /** Tags set on a table this refresher creates. Java KCL: `LeaseManagementConfig.tags`. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Create the table with deletion protection on (`DeletionProtectionEnabled`), so it cannot
   * be deleted until someone turns it off. Applies to a table this refresher creates; an
   * endpoint that ignores it (an emulator) gets a warning, logged once.
   * Java KCL: `LeaseManagementConfig.leaseTableDeletionProtectionEnabled`.
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * Switch on point-in-time recovery (`UpdateContinuousBackups`) of a table this refresher
   * creates. An endpoint without that API (dynalite) gets a warning, logged once; the table is
   * used anyway. Java KCL: `LeaseManagementConfig.leaseTablePitrEnabled`.
   * @default false
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Give the table the keys-only global secondary index on `leaseOwner`
   * (`LeaseOwnerToLeaseKeyIndex`, the KCL 3.x name): created with the table, or added to an
   * existing table with one `UpdateTable`. Workers in the `single-scanner` coordination mode
   * use it to find their leases without scanning. Renewals write nothing to it (keys only;
   * they do not change `leaseOwner`); a change of owner costs one index write.
   * Java KCL 3.x: always created (`createLeaseOwnerToLeaseKeyIndexIfNotExists`).
   * @default false
   */
  readonly ownerIndex?: boolean;
  /**
   * Called once per invalid item per scan (`listLeases`, `scanLeaseTable`): an item that is
   * meant as a lease but cannot be read as one (e.g. `leaseCounter` stored as a string, or a
   * checkpoint that is neither a sequence number nor a sentinel). The item is skipped — never
   * taken — and the scan goes on; the refresher also logs it at `error`. Use it to raise an
   * alarm or count a metric. KCL 3.x non-lease items (`entityType` other than `LEASE`) are
   * not reported. An exception thrown by the callback is logged and ignored.
   * Java KCL: none (a malformed item fails the whole scan).
   * @default undefined (log only)
   */
  readonly onInvalidItem?: (item: InvalidLeaseItem) => void;
  /**
   * Items per page (`Limit`) of the scan behind `listLeases`; unset lets DynamoDB fill 1 MB
   * pages. Smaller pages spread a large table's scan over more, smaller requests (each one
   * reads less capacity at once, which helps a provisioned table that throttles on bursts); the
   * total read capacity is the same. Java KCL: none (its scans use 1 MB pages).
   * @default undefined (1 MB pages)
   */
  readonly scanPageSize?: number;
}

/** Fully resolved {@link DynamoDbLeaseRefresherOptions}. */
export interface DynamoDbLeaseRefresherConfig {
  readonly dynamoDbClient: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly billingMode: LeaseTableBillingMode;
  readonly tableCreationTimeoutMs: number;
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly deletionProtection: boolean;
  readonly pointInTimeRecovery: boolean;
  readonly ownerIndex: boolean;
  readonly onInvalidItem: ((item: InvalidLeaseItem) => void) | undefined;
  readonly scanPageSize: number | undefined;
}

/** Defaults of the optional {@link DynamoDbLeaseRefresherOptions}. */
export const DYNAMODB_LEASE_REFRESHER_DEFAULTS = {
  billingMode: 'PAY_PER_REQUEST',
  tableCreationTimeoutMs: 300_000,
  maxRetries: 8,
  retryBaseDelayMs: DEFAULT_RETRY_BASE_DELAY_MS,
  retryMaxDelayMs: DEFAULT_RETRY_MAX_DELAY_MS,
} as const;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * The options of the lease table itself: every key of {@link DynamoDbLeaseRefresherOptions}
 * but the client, clock, logger and callback a Worker supplies. A Worker's `leaseTable` group
 * takes exactly these.
 */
export const LEASE_TABLE_OPTION_KEYS = [
  'tableName',
  'billingMode',
  'tableCreationTimeoutMs',
  'maxRetries',
  'retryBaseDelayMs',
  'retryMaxDelayMs',
  'tags',
  'deletionProtection',
  'pointInTimeRecovery',
  'ownerIndex',
  'scanPageSize',
] as const satisfies readonly (keyof DynamoDbLeaseRefresherOptions)[];

/**
 * The options of the lease table alone ({@link DynamoDbLeaseRefresherOptions} without the
 * client, clock, logger and callback), as a Worker's `leaseTable` group takes them; there,
 * `tableName` defaults to the application name.
 */
export type LeaseTableOptions = Omit<DynamoDbLeaseRefresherOptions, 'dynamoDbClient' | 'clock' | 'logger' | 'onInvalidItem' | 'tableName'> & {
  /** Name of the lease table. Java KCL: `LeaseManagementConfig.tableName`. @default the application name */
  readonly tableName?: string;
};

const KEYS = [...LEASE_TABLE_OPTION_KEYS, 'dynamoDbClient', 'clock', 'logger', 'onInvalidItem'] as const satisfies readonly (keyof DynamoDbLeaseRefresherOptions)[];

/**
 * Merges `options` over {@link DYNAMODB_LEASE_REFRESHER_DEFAULTS} and validates them.
 * @param path the option path errors name for the table options, e.g. `leaseTable` (the Worker's group).
 * @throws TypeError naming the offending option (and unknown keys) and its value.
 */
export function resolveDynamoDbLeaseRefresherConfig(options: DynamoDbLeaseRefresherOptions, path?: string): DynamoDbLeaseRefresherConfig {
  const o = optionGroup(options, path ?? 'DynamoDbLeaseRefresher options', KEYS);
  const at = (name: string): string => optionPath(path, name);
  const D = DYNAMODB_LEASE_REFRESHER_DEFAULTS;
  const client = o.dynamoDbClient;
  if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
    throw new TypeError(`dynamoDbClient must be a DynamoDBClient (an object with send()), got ${describeValue(client)}`);
  }
  if (typeof o.tableName !== 'string' || !TABLE_NAME.test(o.tableName)) {
    throw new TypeError(`${at('tableName')} must be 3-255 characters of A-Z a-z 0-9 _ . -, got ${describeValue(o.tableName)}`);
  }
  const clock = o.clock ?? systemClock;
  assertClock(clock, 'clock');
  const logger = o.logger ?? silentLogger();
  assertLogger(logger, 'logger');
  const billingMode = (o.billingMode ?? D.billingMode) as LeaseTableBillingMode;
  if (billingMode !== 'PAY_PER_REQUEST') {
    const b = billingMode as { readCapacity?: unknown; writeCapacity?: unknown } | null;
    if (typeof b !== 'object' || b === null || !isPositiveInteger(b.readCapacity) || !isPositiveInteger(b.writeCapacity)) {
      throw new TypeError(`${at('billingMode')} must be 'PAY_PER_REQUEST' or { readCapacity, writeCapacity } with positive integers, got ${describeValue(billingMode)}`);
    }
  }
  const timer = { max: MAX_TIMER_DELAY_MS, integer: false } as const;
  const tableCreationTimeoutMs = numberOption(o.tableCreationTimeoutMs, at('tableCreationTimeoutMs'), D.tableCreationTimeoutMs, { ...timer, minInclusive: false });
  const maxRetries = numberOption(o.maxRetries, at('maxRetries'), D.maxRetries);
  const retryBaseDelayMs = numberOption(o.retryBaseDelayMs, at('retryBaseDelayMs'), D.retryBaseDelayMs, timer);
  // A base above the default cap raises the cap with it (as in the other groups), so the cap is never below the base.
  const retryMaxDelayMs = numberOption(o.retryMaxDelayMs, at('retryMaxDelayMs'), Math.max(D.retryMaxDelayMs, retryBaseDelayMs), { ...timer, min: retryBaseDelayMs });
  const tags = o.tags ?? {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw new TypeError(`${at('tags')} must be an object of string values, got ${describeValue(tags)}`);
  }
  const deletionProtection = booleanOption(o.deletionProtection, at('deletionProtection'), false);
  const pointInTimeRecovery = booleanOption(o.pointInTimeRecovery, at('pointInTimeRecovery'), false);
  const ownerIndex = booleanOption(o.ownerIndex, at('ownerIndex'), false);
  const onInvalidItem = functionOption<(item: InvalidLeaseItem) => void>(o.onInvalidItem, 'onInvalidItem');
  const scanPageSize = o.scanPageSize === undefined ? undefined : numberOption(o.scanPageSize, at('scanPageSize'), 0, { minInclusive: false });
  return {
    dynamoDbClient: client as DynamoDBClient,
    tableName: o.tableName,
    clock,
    logger,
    billingMode,
    tableCreationTimeoutMs,
    maxRetries,
    retryBaseDelayMs,
    retryMaxDelayMs,
    tags: { ...(tags as Record<string, string>) },
    deletionProtection,
    pointInTimeRecovery,
    ownerIndex,
    onInvalidItem,
    scanPageSize,
  };
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
