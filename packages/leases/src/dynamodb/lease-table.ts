/**
 * Creation and inspection of the lease table: hash key `leaseKey` (S), no range key, the
 * same schema the Java KCL creates, so a table can be shared with Java tooling.
 * @module
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DependencyError, InvalidStateError } from '@kcl-ts/processor';
import type { DynamoDbCaller } from './dynamodb-caller.js';
import { isResourceInUse, isTableNotFound } from './errors.js';
import { LEASE_ATTRIBUTES } from './lease-serializer.js';

/** Capacity of a newly created lease table: on-demand, or provisioned read/write units. */
export type LeaseTableBillingMode =
  | 'PAY_PER_REQUEST'
  | { readonly readCapacity: number; readonly writeCapacity: number };

/** What {@link createLeaseTableIfNotExists} needs besides the caller. */
export interface LeaseTableSettings {
  readonly billingMode: LeaseTableBillingMode;
  /** How long to wait for the table to become ACTIVE, in ms of the caller's clock. */
  readonly tableCreationTimeoutMs: number;
  /** Tags set on a table this call creates. */
  readonly tags: Readonly<Record<string, string>>;
  /** Deletion protection of a table this call creates. */
  readonly deletionProtection: boolean;
  /** Point-in-time recovery (continuous backups), switched on for a table this call creates. */
  readonly pointInTimeRecovery: boolean;
  /** Create the keys-only `leaseOwner` index ({@link LEASE_OWNER_INDEX}) with the table, or add it to an existing table. */
  readonly ownerIndex: boolean;
  /**
   * Called with a warning when the endpoint refuses or ignores a table setting (an emulator
   * without point-in-time recovery, say): the table is used anyway.
   */
  readonly warn: (setting: string, message: string, error?: unknown) => void;
}

/**
 * Name of the keys-only global secondary index on `leaseOwner`: the name KCL 3.x gives it, so
 * a table created by either has the index the other expects.
 */
export const LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex';

const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 2_000;

/**
 * The table's description, or `undefined` if it does not exist. Throws
 * {@link InvalidStateError} if it exists with a key schema other than `leaseKey (HASH, S)`.
 */
export async function describeLeaseTable(caller: DynamoDbCaller, signal?: AbortSignal): Promise<TableDescription | undefined> {
  const { client, tableName } = caller.config;
  const result = await caller.callExpecting(
    'DescribeTable',
    () => client.send(new DescribeTableCommand({ TableName: tableName })),
    signal,
    isTableNotFound,
  );
  if (!result.ok) return undefined;
  const table = result.output.Table;
  if (table === undefined) return undefined;
  assertLeaseTableSchema(tableName, table);
  return table;
}

/**
 * True if the table exists with the right schema and is usable (ACTIVE or UPDATING, as the
 * Java KCL judges it); false if it is missing, still being created, or being deleted.
 */
export async function leaseTableExists(caller: DynamoDbCaller, signal?: AbortSignal): Promise<boolean> {
  const table = await describeLeaseTable(caller, signal);
  return table !== undefined && isUsable(table);
}

/**
 * Creates the table unless it exists (a concurrent creator is tolerated), then waits until
 * it is ACTIVE. Returns true if this call created it.
 * @throws InvalidStateError if the table exists with a different key schema.
 * @throws DependencyError (retryable) if it does not become ACTIVE within the timeout.
 */
export async function createLeaseTableIfNotExists(
  caller: DynamoDbCaller,
  settings: LeaseTableSettings,
  signal?: AbortSignal,
): Promise<boolean> {
  const { client, tableName, clock, logger } = caller.config;
  const deadline = clock.elapsed() + settings.tableCreationTimeoutMs;
  const existing = await describeLeaseTable(caller, signal);
  let created = false;
  if (existing === undefined) {
    const input = createTableInput(tableName, settings);
    const result = await caller.callExpecting(
      'CreateTable',
      () => client.send(new CreateTableCommand(input)),
      signal,
      isResourceInUse,
    );
    // A retried CreateTable whose first attempt landed also reports ResourceInUse: we then
    // say "not created by us", which only affects the log line below.
    created = result.ok;
    logger.info({ tableName, created }, created ? 'created the lease table' : 'the lease table is being created by another worker');
  } else if (isUsable(existing)) {
    await ensureOwnerIndex(caller, existing, settings, signal);
    return false;
  }
  const table = await waitUntilActive(caller, deadline, settings.tableCreationTimeoutMs, signal);
  if (created) await applyCreationSettings(caller, table, settings, signal);
  else await ensureOwnerIndex(caller, table, settings, signal);
  return created;
}

/**
 * After this call created the table: switches on point-in-time recovery (a separate API,
 * `UpdateContinuousBackups`, as the Java KCL does), and checks that deletion protection took.
 * Refusals are warnings, never failures: the lease table works without either.
 */
async function applyCreationSettings(caller: DynamoDbCaller, table: TableDescription, settings: LeaseTableSettings, signal?: AbortSignal): Promise<void> {
  const { client, tableName } = caller.config;
  if (settings.deletionProtection && table.DeletionProtectionEnabled !== true) {
    settings.warn('deletionProtection', `the endpoint created lease table "${tableName}" without deletion protection (it ignored DeletionProtectionEnabled)`);
  }
  if (!settings.pointInTimeRecovery) return;
  try {
    await caller.call(
      'UpdateContinuousBackups',
      () => client.send(new UpdateContinuousBackupsCommand({ TableName: tableName, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })),
      signal,
    );
  } catch (error) {
    if (signal?.aborted) throw error;
    settings.warn('pointInTimeRecovery', `could not switch on point-in-time recovery of lease table "${tableName}"; the table is used without it`, error);
  }
}

/**
 * With `ownerIndex`, adds {@link LEASE_OWNER_INDEX} to a table that lacks it (one
 * `UpdateTable`; DynamoDB builds it in the background). Until it is ACTIVE, workers that need
 * it fall back to scans. A refusal is a warning.
 */
async function ensureOwnerIndex(caller: DynamoDbCaller, table: TableDescription, settings: LeaseTableSettings, signal?: AbortSignal): Promise<void> {
  if (!settings.ownerIndex || hasOwnerIndex(table)) return;
  const { client, tableName } = caller.config;
  try {
    await caller.call(
      'UpdateTable',
      () =>
        client.send(
          new UpdateTableCommand({
            TableName: tableName,
            AttributeDefinitions: [{ AttributeName: LEASE_ATTRIBUTES.leaseOwner, AttributeType: 'S' }],
            GlobalSecondaryIndexUpdates: [{ Create: ownerIndexDefinition(indexBilling(table, settings.billingMode)) }],
          }),
        ),
      signal,
    );
    caller.config.logger.info({ tableName, index: LEASE_OWNER_INDEX }, 'adding the leaseOwner index to the lease table');
  } catch (error) {
    if (signal?.aborted) throw error;
    settings.warn('ownerIndex', `could not add index ${LEASE_OWNER_INDEX} to lease table "${tableName}"`, error);
  }
}

/**
 * The billing of an index added to an existing table: the table's own mode, whatever this
 * worker is configured with (DynamoDB refuses an index without capacities on a provisioned
 * table, and one with capacities on an on-demand table). A provisioned table gets the
 * configured capacities if any, else its own. A table created before DynamoDB reported
 * `BillingModeSummary` is provisioned.
 */
function indexBilling(table: TableDescription, configured: LeaseTableBillingMode): LeaseTableBillingMode {
  const mode = table.BillingModeSummary?.BillingMode ?? (table.ProvisionedThroughput?.ReadCapacityUnits ? 'PROVISIONED' : undefined);
  if (mode === 'PAY_PER_REQUEST') return 'PAY_PER_REQUEST';
  if (mode !== 'PROVISIONED' || configured !== 'PAY_PER_REQUEST') return configured;
  const read = table.ProvisionedThroughput?.ReadCapacityUnits;
  const write = table.ProvisionedThroughput?.WriteCapacityUnits;
  return read && write ? { readCapacity: read, writeCapacity: write } : configured;
}

/** True if the table has {@link LEASE_OWNER_INDEX} (in any state; see {@link ownerIndexStatus}). */
export function hasOwnerIndex(table: TableDescription): boolean {
  return ownerIndexStatus(table) !== undefined;
}

/** The status of {@link LEASE_OWNER_INDEX} (`ACTIVE`, `CREATING`...), or `undefined` without one. */
export function ownerIndexStatus(table: TableDescription): string | undefined {
  return table.GlobalSecondaryIndexes?.find((i) => i.IndexName === LEASE_OWNER_INDEX)?.IndexStatus;
}

function ownerIndexDefinition(billing: LeaseTableBillingMode) {
  return {
    IndexName: LEASE_OWNER_INDEX,
    KeySchema: [{ AttributeName: LEASE_ATTRIBUTES.leaseOwner, KeyType: 'HASH' as const }],
    // Keys only: a renewal changes no indexed attribute, so it writes nothing to the index.
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
    ...(billing === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: { ReadCapacityUnits: billing.readCapacity, WriteCapacityUnits: billing.writeCapacity } }),
  };
}

function createTableInput(tableName: string, settings: LeaseTableSettings): CreateTableCommandInput {
  const billing = settings.billingMode;
  const tags = Object.entries(settings.tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: LEASE_ATTRIBUTES.leaseKey, AttributeType: 'S' },
      ...(settings.ownerIndex ? [{ AttributeName: LEASE_ATTRIBUTES.leaseOwner, AttributeType: 'S' as const }] : []),
    ],
    KeySchema: [{ AttributeName: LEASE_ATTRIBUTES.leaseKey, KeyType: 'HASH' }],
    ...(settings.ownerIndex ? { GlobalSecondaryIndexes: [ownerIndexDefinition(billing)] } : {}),
    ...(settings.deletionProtection ? { DeletionProtectionEnabled: true } : {}),
    ...(billing === 'PAY_PER_REQUEST'
      ? { BillingMode: 'PAY_PER_REQUEST' }
      : {
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: billing.readCapacity, WriteCapacityUnits: billing.writeCapacity },
        }),
    ...(tags.length > 0 ? { Tags: tags } : {}),
  };
}

async function waitUntilActive(caller: DynamoDbCaller, deadline: number, timeoutMs: number, signal?: AbortSignal): Promise<TableDescription> {
  const { clock, tableName } = caller.config;
  let pollMs = FIRST_POLL_MS;
  let status = 'missing';
  for (;;) {
    // Right after CreateTable the table may not be visible yet: keep polling until the deadline.
    const table = await describeLeaseTable(caller, signal);
    status = table?.TableStatus ?? 'missing';
    if (table !== undefined && status === 'ACTIVE') return table;
    const left = deadline - clock.elapsed();
    if (left <= 0) {
      throw new DependencyError(
        'dynamodb',
        'DescribeTable',
        `lease table "${tableName}" did not become ACTIVE within ${timeoutMs} ms (last status: ${status})`,
        { retryable: true },
      );
    }
    await clock.sleep(Math.min(pollMs, left), signal);
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
}

function isUsable(table: TableDescription): boolean {
  return table.TableStatus === 'ACTIVE' || table.TableStatus === 'UPDATING';
}

/** Throws {@link InvalidStateError} unless the key schema is exactly `leaseKey (HASH, S)`. */
export function assertLeaseTableSchema(tableName: string, table: TableDescription): void {
  const keys = table.KeySchema ?? [];
  const types = new Map((table.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
  const ok =
    keys.length === 1 &&
    keys[0]!.AttributeName === LEASE_ATTRIBUTES.leaseKey &&
    keys[0]!.KeyType === 'HASH' &&
    types.get(LEASE_ATTRIBUTES.leaseKey) === 'S';
  if (ok) return;
  const found = keys.map((k) => `${k.AttributeName} (${k.KeyType}, ${types.get(k.AttributeName) ?? '?'})`).join(', ') || 'none';
  throw new InvalidStateError(
    `table "${tableName}" is not a lease table: its key schema is [${found}], but a lease table needs exactly ` +
      `[${LEASE_ATTRIBUTES.leaseKey} (HASH, S)] and no range key; use another table name, or delete and recreate this table`,
  );
}
