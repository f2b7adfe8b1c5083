/**
 * Options of {@link DynamoDbLeaseRefresher}, their defaults, and their validation.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { silentLogger, systemClock, type Clock, type Logger } from '@kcl-ts/processor';
import type { InvalidLeaseItem } from '../refresher.js';
import type { LeaseTableBillingMode } from './lease-table.js';
import { DEFAULT_RETRY_BASE_DELAY_MS, DEFAULT_RETRY_MAX_DELAY_MS } from '@kcl-ts/processor';

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
  /** Cap of one backoff wait in ms. @default 2000 */
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
 * Merges `options` over {@link DYNAMODB_LEASE_REFRESHER_DEFAULTS} and validates them.
 * @throws TypeError naming the offending option and its value.
 */
export function resolveDynamoDbLeaseRefresherConfig(options: DynamoDbLeaseRefresherOptions): DynamoDbLeaseRefresherConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError(`DynamoDbLeaseRefresher options must be an object, got ${show(options)}`);
  const D = DYNAMODB_LEASE_REFRESHER_DEFAULTS;
  const client = options.dynamoDbClient as unknown;
  if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
    throw new TypeError(`dynamoDbClient must be a DynamoDBClient (an object with send()), got ${show(client)}`);
  }
  if (typeof options.tableName !== 'string' || !TABLE_NAME.test(options.tableName)) {
    throw new TypeError(`tableName must be 3-255 characters of A-Z a-z 0-9 _ . -, got ${show(options.tableName)}`);
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.sleep !== 'function' || typeof clock.elapsed !== 'function' || typeof clock.now !== 'function') {
    throw new TypeError(`clock must implement now(), elapsed() and sleep(), got ${show(clock)}`);
  }
  const logger = options.logger ?? silentLogger();
  if (typeof logger?.child !== 'function') throw new TypeError(`logger must be a pino Logger, got ${show(logger)}`);
  const billingMode = options.billingMode ?? D.billingMode;
  if (billingMode !== 'PAY_PER_REQUEST') {
    const b = billingMode as { readCapacity?: unknown; writeCapacity?: unknown } | null;
    if (typeof b !== 'object' || b === null || !isPositiveInteger(b.readCapacity) || !isPositiveInteger(b.writeCapacity)) {
      throw new TypeError(`billingMode must be 'PAY_PER_REQUEST' or { readCapacity, writeCapacity } with positive integers, got ${show(billingMode)}`);
    }
  }
  const tableCreationTimeoutMs = options.tableCreationTimeoutMs ?? D.tableCreationTimeoutMs;
  if (typeof tableCreationTimeoutMs !== 'number' || !Number.isFinite(tableCreationTimeoutMs) || tableCreationTimeoutMs <= 0) {
    throw new TypeError(`tableCreationTimeoutMs must be a positive number of ms, got ${show(tableCreationTimeoutMs)}`);
  }
  const maxRetries = options.maxRetries ?? D.maxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError(`maxRetries must be an integer >= 0, got ${show(maxRetries)}`);
  const retryBaseDelayMs = options.retryBaseDelayMs ?? D.retryBaseDelayMs;
  if (typeof retryBaseDelayMs !== 'number' || !Number.isFinite(retryBaseDelayMs) || retryBaseDelayMs < 0) {
    throw new TypeError(`retryBaseDelayMs must be a number >= 0, got ${show(retryBaseDelayMs)}`);
  }
  const retryMaxDelayMs = options.retryMaxDelayMs ?? D.retryMaxDelayMs;
  if (typeof retryMaxDelayMs !== 'number' || !Number.isFinite(retryMaxDelayMs) || retryMaxDelayMs < retryBaseDelayMs) {
    throw new TypeError(`retryMaxDelayMs must be a number >= retryBaseDelayMs (${retryBaseDelayMs}), got ${show(retryMaxDelayMs)}`);
  }
  const tags = options.tags ?? {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw new TypeError(`tags must be an object of string values, got ${show(tags)}`);
  }
  const deletionProtection = flag('deletionProtection', options.deletionProtection);
  const pointInTimeRecovery = flag('pointInTimeRecovery', options.pointInTimeRecovery);
  const ownerIndex = flag('ownerIndex', options.ownerIndex);
  const onInvalidItem = options.onInvalidItem;
  if (onInvalidItem !== undefined && typeof onInvalidItem !== 'function') {
    throw new TypeError(`onInvalidItem must be a function, got ${show(onInvalidItem)}`);
  }
  const scanPageSize = options.scanPageSize;
  if (scanPageSize !== undefined && !isPositiveInteger(scanPageSize)) {
    throw new TypeError(`scanPageSize must be a positive integer, got ${show(scanPageSize)}`);
  }
  return {
    dynamoDbClient: options.dynamoDbClient,
    tableName: options.tableName,
    clock,
    logger,
    billingMode,
    tableCreationTimeoutMs,
    maxRetries,
    retryBaseDelayMs,
    retryMaxDelayMs,
    tags: { ...tags },
    deletionProtection,
    pointInTimeRecovery,
    ownerIndex,
    onInvalidItem,
    scanPageSize,
  };
}

function flag(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${show(value)}`);
  return value;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
