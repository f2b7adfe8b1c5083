/**
 * Creation and inspection of the lease table: hash key `leaseKey` (S), no range key, the
 * same schema the Java KCL creates, so a table can be shared with Java tooling.
 * @module
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
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
}

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
    return false;
  }
  await waitUntilActive(caller, deadline, settings.tableCreationTimeoutMs, signal);
  return created;
}

function createTableInput(tableName: string, settings: LeaseTableSettings): CreateTableCommandInput {
  const billing = settings.billingMode;
  const tags = Object.entries(settings.tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: LEASE_ATTRIBUTES.leaseKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: LEASE_ATTRIBUTES.leaseKey, KeyType: 'HASH' }],
    ...(billing === 'PAY_PER_REQUEST'
      ? { BillingMode: 'PAY_PER_REQUEST' }
      : {
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: billing.readCapacity, WriteCapacityUnits: billing.writeCapacity },
        }),
    ...(tags.length > 0 ? { Tags: tags } : {}),
  };
}

async function waitUntilActive(caller: DynamoDbCaller, deadline: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const { clock, tableName } = caller.config;
  let pollMs = FIRST_POLL_MS;
  let status = 'missing';
  for (;;) {
    // Right after CreateTable the table may not be visible yet: keep polling until the deadline.
    const table = await describeLeaseTable(caller, signal);
    status = table?.TableStatus ?? 'missing';
    if (status === 'ACTIVE') return;
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
