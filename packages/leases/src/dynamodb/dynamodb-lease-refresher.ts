/**
 * The production {@link LeaseRefresher}: the lease table in DynamoDB, every mutation a
 * conditional write with the same conditions as {@link InMemoryLeaseRefresher}.
 * @module
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '@kcl-ts/processor';
import { newLease, ownerId, ownerIncarnation, type Lease, type LeaseOwner, type LeaseUpdate, type NewLease } from '../lease.js';
import type { InvalidLeaseItem, LeaseRefresher, LeaseTableScan } from '../refresher.js';
import { DynamoDbCaller } from './dynamodb-caller.js';
import { isConditionalCheckFailed } from './errors.js';
import {
  itemToLease,
  LEASE_ATTRIBUTES as A,
  leaseToItem,
  numberValue,
  parseLeaseItem,
  stringSetValue,
  stringValue,
  type LeaseItem,
} from './lease-serializer.js';
import { createLeaseTableIfNotExists, leaseTableExists } from './lease-table.js';
import { resolveDynamoDbLeaseRefresherConfig, type DynamoDbLeaseRefresherConfig, type DynamoDbLeaseRefresherOptions } from './refresher-options.js';
import { ExpressionBuilder } from './update-expression.js';

/**
 * {@link LeaseRefresher} backed by a DynamoDB table with the Java KCL's item format (see
 * `lease-serializer.ts`). A lost condition is `undefined`/`false`; throttling, 5xx and
 * network errors are retried with backoff (see {@link DynamoDbLeaseRefresherOptions.maxRetries})
 * and then thrown as a retryable `DependencyError`; a missing table is a `ResourceNotFoundError`.
 *
 * **Retried conditional writes.** If a write's first attempt reached DynamoDB but its
 * response was lost (timeout, reset, 5xx after commit), the retry finds the counter already
 * moved and its condition fails. So when a *retried* renew, take, transfer or update fails
 * its condition, the refresher reads the item back (consistently) and reports success if the
 * stored item shows this write: owner = the intended owner and counter = seen + 1 (for an
 * update also the written checkpoint / pending checkpoint / child ids). The only other way to
 * reach that state is a concurrent write that gives the same owner the same lease at the same
 * counter, which leaves the caller holding exactly what it asked for. Likewise a retried
 * evict that finds the lease ownerless, a retried handoff request that finds its own
 * `handoffTo`, and a retried delete that finds the item gone report success.
 *
 * **Invalid items.** A scan skips an item that is not a valid lease (see `parseLeaseItem`),
 * logs it at `error` with its `leaseKey` and the problem, and reports it to
 * {@link DynamoDbLeaseRefresherOptions.onInvalidItem}; the other leases are returned as
 * usual, so one bad item never stops failover or shard sync. KCL 3.x non-lease items
 * (`entityType` other than `LEASE`) are skipped with a `debug` log only. `getLease` of an
 * invalid item throws `InvalidLeaseItemError`.
 */
export class DynamoDbLeaseRefresher implements LeaseRefresher {
  /** The resolved configuration. */
  readonly config: DynamoDbLeaseRefresherConfig;
  private readonly caller: DynamoDbCaller;
  private readonly logger: Logger;

  /**
   * @param path the option path errors name for the table options (a Worker passes `leaseTable`).
   * @throws TypeError naming an invalid or unknown option.
   */
  constructor(options: DynamoDbLeaseRefresherOptions, path?: string) {
    this.config = resolveDynamoDbLeaseRefresherConfig(options, path);
    this.logger = this.config.logger.child({ component: 'dynamodb-lease-refresher', tableName: this.config.tableName });
    this.caller = new DynamoDbCaller({
      client: this.config.dynamoDbClient,
      tableName: this.config.tableName,
      clock: this.config.clock,
      logger: this.logger,
      maxRetries: this.config.maxRetries,
      retryBaseDelayMs: this.config.retryBaseDelayMs,
      retryMaxDelayMs: this.config.retryMaxDelayMs,
    });
  }

  /** The lease table's name. */
  get tableName(): string {
    return this.config.tableName;
  }

  async createLeaseTableIfNotExists(signal?: AbortSignal): Promise<boolean> {
    const { billingMode, tableCreationTimeoutMs, tags } = this.config;
    return createLeaseTableIfNotExists(this.caller, { billingMode, tableCreationTimeoutMs, tags }, signal);
  }

  async leaseTableExists(signal?: AbortSignal): Promise<boolean> {
    return leaseTableExists(this.caller, signal);
  }

  async listLeases(signal?: AbortSignal): Promise<Lease[]> {
    return (await this.scanLeaseTable(signal)).leases;
  }

  /**
   * One strongly consistent, paginated scan: the valid leases and the invalid items it
   * skipped (each also logged and passed to `onInvalidItem`, as in {@link listLeases}).
   */
  async scanLeaseTable(signal?: AbortSignal): Promise<LeaseTableScan> {
    const leases: Lease[] = [];
    const invalid: InvalidLeaseItem[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const input = {
        TableName: this.tableName,
        ConsistentRead: true,
        ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        ...(this.config.scanPageSize !== undefined ? { Limit: this.config.scanPageSize } : {}),
      };
      const page = await this.caller.call('Scan', () => this.client.send(new ScanCommand(input)), signal);
      for (const item of page.Items ?? []) {
        const parsed = parseLeaseItem(item);
        if (parsed.kind === 'lease') {
          leases.push(parsed.lease);
        } else if (parsed.kind === 'other') {
          this.logger.debug({ leaseKey: parsed.leaseKey, entityType: parsed.entityType }, 'skipping a non-lease item of the lease table');
        } else {
          invalid.push(parsed.problem);
          this.reportInvalidItem(parsed.problem);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { leases, invalid };
  }

  async getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const input = { TableName: this.tableName, Key: this.key(leaseKey), ConsistentRead: true };
    const out = await this.caller.call('GetItem', () => this.client.send(new GetItemCommand(input)), signal);
    return out.Item === undefined ? undefined : itemToLease(out.Item);
  }

  async createLeaseIfNotExists(init: NewLease, signal?: AbortSignal): Promise<boolean> {
    const b = new ExpressionBuilder();
    b.condition(`attribute_not_exists(${b.name(A.leaseKey)})`);
    const { ConditionExpression, ExpressionAttributeNames } = b.build();
    const input = { TableName: this.tableName, Item: leaseToItem(newLease(init)), ConditionExpression, ExpressionAttributeNames };
    const result = await this.caller.callExpecting(
      'PutItem',
      () => this.client.send(new PutItemCommand(input)),
      signal,
      isConditionalCheckFailed,
    );
    // A retried create whose first attempt landed reports false ("already exists"): harmless,
    // the lease exists either way.
    return result.ok;
  }

  async renewLease(lease: Lease, ownerRef: LeaseOwner, signal?: AbortSignal): Promise<Lease | undefined> {
    const owner = ownerId(ownerRef);
    const b = new ExpressionBuilder();
    this.fence(b, lease.leaseCounter, owner);
    b.setValue(A.leaseCounter, numberValue(lease.leaseCounter + 1));
    this.setIncarnation(b, ownerRef, false);
    return this.updateReturningLease('renewLease', lease.leaseKey, b, signal, (s) => s.leaseOwner === owner && s.leaseCounter === lease.leaseCounter + 1);
  }

  async takeLease(lease: Lease, newOwnerRef: LeaseOwner, signal?: AbortSignal): Promise<Lease | undefined> {
    const newOwner = ownerId(newOwnerRef);
    const b = new ExpressionBuilder();
    this.fence(b, lease.leaseCounter, undefined);
    b.setValue(A.leaseOwner, stringValue(newOwner)).setValue(A.leaseCounter, numberValue(lease.leaseCounter + 1)).remove(A.handoffTo);
    this.setIncarnation(b, newOwnerRef, true);
    // Every owner change moves the counter, so the owner stored at the counter we saw is the
    // owner we saw: the switch is counted against it, as the in-memory refresher counts it.
    // Taking a free lease is not an owner switch (as in the Java KCL).
    if (lease.leaseOwner !== undefined && lease.leaseOwner !== newOwner) this.incrementSwitches(b);
    return this.updateReturningLease('takeLease', lease.leaseKey, b, signal, (s) => s.leaseOwner === newOwner && s.leaseCounter === lease.leaseCounter + 1);
  }

  async evictLease(lease: Lease, ownerRef: LeaseOwner, signal?: AbortSignal): Promise<boolean> {
    const b = new ExpressionBuilder();
    b.condition(`${b.name(A.leaseOwner)} = ${b.value('owner', stringValue(ownerId(ownerRef)))}`);
    b.remove(A.leaseOwner, A.handoffTo, A.ownerIncarnation);
    b.set(A.leaseCounter, `if_not_exists(${b.name(A.leaseCounter)}, ${b.value('zero', numberValue(0))}) + ${b.value('one', numberValue(1))}`);
    const result = await this.update('evictLease', lease.leaseKey, b, 'NONE', signal);
    if (result.ok) return true;
    if (!result.retried) return false;
    const stored = await this.getLease(lease.leaseKey, signal);
    return stored !== undefined && stored.leaseOwner === undefined;
  }

  async requestHandoff(lease: Lease, requester: string, signal?: AbortSignal): Promise<boolean> {
    const seenOwner = lease.leaseOwner;
    // A free lease has nobody to hand it over; the in-memory refresher refuses it the same way.
    if (seenOwner === undefined) return false;
    const b = new ExpressionBuilder();
    b.condition(`${b.name(A.leaseOwner)} = ${b.value('seenOwner', stringValue(seenOwner))}`);
    b.condition(`attribute_not_exists(${b.name(A.handoffTo)})`);
    b.setValue(A.handoffTo, stringValue(requester));
    const result = await this.update('requestHandoff', lease.leaseKey, b, 'NONE', signal);
    if (result.ok) return true;
    if (!result.retried) return false;
    const stored = await this.getLease(lease.leaseKey, signal);
    return stored !== undefined && stored.leaseOwner === seenOwner && stored.handoffTo === requester;
  }

  async transferLease(lease: Lease, ownerRef: LeaseOwner, newOwner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const b = new ExpressionBuilder();
    this.fence(b, lease.leaseCounter, ownerId(ownerRef));
    b.setValue(A.leaseOwner, stringValue(newOwner)).setValue(A.leaseCounter, numberValue(lease.leaseCounter + 1)).remove(A.handoffTo, A.ownerIncarnation);
    this.incrementSwitches(b);
    return this.updateReturningLease('transferLease', lease.leaseKey, b, signal, (s) => s.leaseOwner === newOwner && s.leaseCounter === lease.leaseCounter + 1);
  }

  async updateLease(lease: Lease, ownerRef: LeaseOwner, update: LeaseUpdate, signal?: AbortSignal): Promise<Lease | undefined> {
    const owner = ownerId(ownerRef);
    const b = new ExpressionBuilder();
    this.fence(b, lease.leaseCounter, owner);
    b.setValue(A.leaseCounter, numberValue(lease.leaseCounter + 1));
    this.setIncarnation(b, ownerRef, false);
    const pendingAttributes = [A.pendingCheckpoint, A.pendingCheckpointSubSequenceNumber, A.pendingCheckpointState];
    if (update.checkpoint !== undefined) {
      b.setValue(A.checkpoint, stringValue(update.checkpoint.sequenceNumber));
      b.setValue(A.checkpointSubSequenceNumber, numberValue(update.checkpoint.subSequenceNumber));
      b.setValue(A.ownerSwitchesSinceCheckpoint, numberValue(0));
      if (update.pendingCheckpoint === undefined) b.remove(...pendingAttributes);
    }
    if (update.pendingCheckpoint === null) {
      b.remove(...pendingAttributes);
    } else if (update.pendingCheckpoint !== undefined) {
      b.setValue(A.pendingCheckpoint, stringValue(update.pendingCheckpoint.sequenceNumber));
      b.setValue(A.pendingCheckpointSubSequenceNumber, numberValue(update.pendingCheckpoint.subSequenceNumber));
      if (update.pendingCheckpointState !== undefined) b.setValue(A.pendingCheckpointState, { B: update.pendingCheckpointState });
      else b.remove(A.pendingCheckpointState);
    }
    if (update.childShardIds !== undefined) {
      const children = stringSetValue(update.childShardIds);
      if (children) b.setValue(A.childShardIds, children);
      else b.remove(A.childShardIds);
    }
    if (update.initialTimestamp !== undefined) b.setValue(A.initialTimestamp, numberValue(update.initialTimestamp));
    return this.updateReturningLease('updateLease', lease.leaseKey, b, signal, (s) => s.leaseOwner === owner && s.leaseCounter === lease.leaseCounter + 1 && showsUpdate(s, update));
  }

  async addChildShardIds(leaseKey: string, childShardIds: readonly string[], signal?: AbortSignal): Promise<boolean> {
    const children = stringSetValue(childShardIds);
    // ADD of an empty set is invalid in DynamoDB; nothing to add, so only report existence.
    if (children === undefined) return (await this.getLease(leaseKey, signal)) !== undefined;
    const b = new ExpressionBuilder();
    b.condition(`attribute_exists(${b.name(A.leaseKey)})`);
    b.add(A.childShardIds, children);
    // Adding to a set is idempotent, so a retry whose first attempt landed simply succeeds.
    return (await this.update('addChildShardIds', leaseKey, b, 'NONE', signal)).ok;
  }

  async deleteLease(leaseKey: string, options: { readonly onlyIfShardEnded?: boolean; readonly signal?: AbortSignal } = {}): Promise<boolean> {
    const b = new ExpressionBuilder();
    if (options.onlyIfShardEnded) b.condition(`${b.name(A.checkpoint)} = ${b.value('shardEnd', stringValue('SHARD_END'))}`);
    const input = { TableName: this.tableName, Key: this.key(leaseKey), ReturnValues: 'ALL_OLD' as const, ...b.build() };
    const result = await this.caller.callExpecting(
      'DeleteItem',
      () => this.client.send(new DeleteItemCommand(input)),
      options.signal,
      isConditionalCheckFailed,
    );
    if (!result.ok) {
      // A condition on a missing item fails too: a retried delete whose first attempt landed.
      return result.retried && (await this.getLease(leaseKey, options.signal)) === undefined;
    }
    return result.output.Attributes !== undefined || result.retried;
  }

  /** Logs an invalid item (its key and the problem, never its values) and tells `onInvalidItem`. */
  private reportInvalidItem(problem: InvalidLeaseItem): void {
    this.logger.error(
      { leaseKey: problem.leaseKey, attribute: problem.attribute, reason: problem.reason },
      'skipping an invalid lease table item: it is not taken or processed until it is fixed or deleted',
    );
    const onInvalidItem = this.config.onInvalidItem;
    if (onInvalidItem === undefined) return;
    try {
      onInvalidItem(problem);
    } catch (error) {
      this.logger.warn({ err: error, leaseKey: problem.leaseKey }, 'onInvalidItem threw; ignored');
    }
  }

  private get client() {
    return this.config.dynamoDbClient;
  }

  private key(leaseKey: string): LeaseItem {
    return { [A.leaseKey]: stringValue(leaseKey) };
  }

  /** Condition `leaseCounter = :seen` (and `leaseOwner = :owner` when given). */
  private fence(b: ExpressionBuilder, seenCounter: number, owner: string | undefined): void {
    b.condition(`${b.name(A.leaseCounter)} = ${b.value('seenCounter', numberValue(seenCounter))}`);
    if (owner !== undefined) b.condition(`${b.name(A.leaseOwner)} = ${b.value('owner', stringValue(owner))}`);
  }

  /** Stores the writer's process token; a take by a writer without one removes the previous owner's. */
  private setIncarnation(b: ExpressionBuilder, owner: LeaseOwner, removeIfAbsent: boolean): void {
    const incarnation = ownerIncarnation(owner);
    if (incarnation !== undefined) b.setValue(A.ownerIncarnation, stringValue(incarnation));
    else if (removeIfAbsent) b.remove(A.ownerIncarnation);
  }

  private incrementSwitches(b: ExpressionBuilder): void {
    const n = b.name(A.ownerSwitchesSinceCheckpoint);
    b.set(A.ownerSwitchesSinceCheckpoint, `if_not_exists(${n}, ${b.value('zero', numberValue(0))}) + ${b.value('one', numberValue(1))}`);
  }

  /** A conditional UpdateItem on an existing lease (the condition always implies the item exists). */
  private update(operation: string, leaseKey: string, b: ExpressionBuilder, returnValues: 'NONE' | 'ALL_NEW', signal: AbortSignal | undefined) {
    const input: UpdateItemCommandInput = { TableName: this.tableName, Key: this.key(leaseKey), ReturnValues: returnValues, ...b.build() };
    this.logger.trace({ operation, leaseKey }, 'conditional update');
    return this.caller.callExpecting(
      'UpdateItem',
      () => this.client.send(new UpdateItemCommand(input)),
      signal,
      isConditionalCheckFailed,
    );
  }

  /** UpdateItem returning ALL_NEW; on a lost condition after a retry, checks whether the first attempt landed. */
  private async updateReturningLease(
    operation: string,
    leaseKey: string,
    b: ExpressionBuilder,
    signal: AbortSignal | undefined,
    showsOurWrite: (stored: Lease) => boolean,
  ): Promise<Lease | undefined> {
    const result = await this.update(operation, leaseKey, b, 'ALL_NEW', signal);
    if (result.ok) return itemToLease(result.output.Attributes ?? {});
    if (!result.retried) return undefined;
    const stored = await this.getLease(leaseKey, signal);
    if (stored !== undefined && showsOurWrite(stored)) {
      this.logger.debug({ operation, leaseKey }, 'a retried write found its first attempt applied');
      return stored;
    }
    return undefined;
  }
}

/** True if the stored lease carries every field `update` wrote. */
function showsUpdate(stored: Lease, update: LeaseUpdate): boolean {
  const sameSeq = (a: Lease['checkpoint'] | undefined, b: Lease['checkpoint'] | undefined): boolean =>
    a?.sequenceNumber === b?.sequenceNumber && a?.subSequenceNumber === b?.subSequenceNumber;
  if (update.checkpoint !== undefined && !sameSeq(stored.checkpoint, update.checkpoint)) return false;
  if (update.pendingCheckpoint === null && stored.pendingCheckpoint !== undefined) return false;
  if (update.pendingCheckpoint != null && !sameSeq(stored.pendingCheckpoint, update.pendingCheckpoint)) return false;
  if (update.initialTimestamp !== undefined && stored.initialTimestamp !== update.initialTimestamp) return false;
  if (update.childShardIds !== undefined) {
    const want = [...new Set(update.childShardIds)].sort();
    if (want.join('\n') !== stored.childShardIds.join('\n')) return false;
  }
  return true;
}
