/**
 * A DynamoDB sink: one item per record (or per key), written idempotently.
 *
 * - **Plain mode** (default): `BatchWriteItem` in requests of 25 puts, several at once;
 *   `UnprocessedItems` are sent again with backoff. An item keyed by the record's identity
 *   (`recordId(shardId, record)`) overwrites itself when the record is redelivered. Items with
 *   the same key within one flush are reduced to the last one (BatchWriteItem refuses
 *   duplicate keys in one request).
 * - **Newest wins** (`newestWins`): one conditional `PutItem` per key, which writes only if
 *   the stored item is older (`attribute_not_exists(#v) OR #v < :v`, the version being the
 *   record's position by default). A redelivered or late record never overwrites a newer
 *   version; such items are reported as `stale`.
 * @module
 */
import { BatchWriteItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall, type marshallOptions } from '@aws-sdk/util-dynamodb';
import { AbortError, backoffDelay, classifyAwsError, type KinesisClientRecord } from '@kcl-ts/processor';
import { IncompleteWriteError } from '../errors.js';
import { checkFunction, checkInteger, checkObject, checkString } from '../options.js';
import { sortablePosition } from '../position.js';
import type { Sink, SinkBatch, SinkEntry, SinkErrorKind, SinkWriteContext, SinkWriteResult } from '../sink.js';
import { runLimited } from '../limit.js';

/** An item as plain JavaScript values (marshalled with `@aws-sdk/util-dynamodb`). Any object type will do. */
export type DynamoDbItem = Record<string, unknown>;

/** "Newest version wins" settings of {@link DynamoDbSinkOptions.newestWins}. */
export interface NewestWinsOptions<T> {
  /** Attribute holding the version. @default '_kclVersion' */
  readonly versionAttribute?: string;
  /**
   * The version of an item: a string or a number, compared by DynamoDB (`<`). @default
   * `sortablePosition(record)`, exact within a shard; across a reshard it relies on Kinesis
   * sequence numbers of a partition key growing over time (see `sortablePosition`).
   */
  readonly version?: (item: T, record: KinesisClientRecord) => string | number;
}

/** Options of {@link DynamoDbSink}. */
export interface DynamoDbSinkOptions<T extends object = DynamoDbItem> {
  /** Your client; the sink never destroys it. */
  readonly client: DynamoDBClient;
  /** The table written to. */
  readonly tableName: string;
  /** The table's key attributes (hash key, and range key if any): items with equal keys in one flush are written once, the last one. */
  readonly keyAttributes: readonly [string] | readonly [string, string];
  /** Keep the newest version per key with conditional writes (one `PutItem` per key). `true` = the defaults. @default false */
  readonly newestWins?: boolean | NewestWinsOptions<T>;
  /** Requests in flight at once per flush. @default 4 */
  readonly concurrency?: number;
  /** Resends of `UnprocessedItems` before the flush fails (and is retried whole by the processor). @default 8 */
  readonly maxUnprocessedRetries?: number;
  /** Passed to `marshall`. @default { removeUndefinedValues: true, convertClassInstanceToMap: true } */
  readonly marshallOptions?: marshallOptions;
  /** Name in logs and metrics. @default `dynamodb:<tableName>` */
  readonly name?: string;
}

const BATCH_LIMIT = 25;

function keyOf(item: Record<string, AttributeValue>, keyAttributes: readonly string[]): string {
  return JSON.stringify(keyAttributes.map((a) => item[a]));
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * Writes flushes to a DynamoDB table; see the module notes for the two modes. Every write is
 * idempotent: a redelivered record puts the same item again (plain mode) or is refused by
 * the version condition (newest wins).
 */
export class DynamoDbSink<T extends object = DynamoDbItem> implements Sink<T> {
  /** `dynamodb:<tableName>` unless `name` was given. */
  readonly name: string;
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly keyAttributes: readonly string[];
  private readonly versionAttribute: string | undefined;
  private readonly version: (item: T, record: KinesisClientRecord) => string | number;
  private readonly concurrency: number;
  private readonly maxUnprocessedRetries: number;
  private readonly marshallOptions: marshallOptions;

  /** @throws TypeError naming the bad option (`dynamoDb.tableName`, …). */
  constructor(options: DynamoDbSinkOptions<T>) {
    const o = checkObject('dynamoDb', options, false);
    const client = checkObject('dynamoDb.client', o.client, false);
    checkFunction('dynamoDb.client.send', client.send, false);
    this.client = options.client;
    this.tableName = checkString('dynamoDb.tableName', o.tableName);
    const keys = o.keyAttributes;
    if (!Array.isArray(keys) || keys.length < 1 || keys.length > 2 || !keys.every((k) => typeof k === 'string' && k.length > 0)) {
      throw new TypeError(`dynamoDb.keyAttributes must be [hashKey] or [hashKey, rangeKey] (attribute names), got ${JSON.stringify(keys)}`);
    }
    this.keyAttributes = [...(keys as string[])];
    const newest = o.newestWins;
    if (newest !== undefined && typeof newest !== 'boolean') checkObject('dynamoDb.newestWins', newest, false);
    const newestOptions = (typeof newest === 'object' ? newest : {}) as NewestWinsOptions<T>;
    this.versionAttribute = newest === undefined || newest === false ? undefined : newestOptions.versionAttribute === undefined ? '_kclVersion' : checkString('dynamoDb.newestWins.versionAttribute', newestOptions.versionAttribute);
    this.version = checkFunction<NewestWinsOptions<T>['version']>('dynamoDb.newestWins.version', newestOptions.version, true) ?? ((_item, record) => sortablePosition(record));
    this.concurrency = checkInteger('dynamoDb.concurrency', o.concurrency, 1, 64) ?? 4;
    this.maxUnprocessedRetries = checkInteger('dynamoDb.maxUnprocessedRetries', o.maxUnprocessedRetries, 0, 100) ?? 8;
    this.marshallOptions = (o.marshallOptions as marshallOptions | undefined) ?? { removeUndefinedValues: true, convertClassInstanceToMap: true };
    this.name = o.name === undefined ? `dynamodb:${this.tableName}` : checkString('dynamoDb.name', o.name);
  }

  /** Writes the batch; resolves when every item is stored (or refused as stale). */
  async write(batch: SinkBatch<T>, context: SinkWriteContext): Promise<SinkWriteResult> {
    const items = this.latestPerKey(batch.entries);
    if (this.versionAttribute !== undefined) return this.putNewest(items, context);
    const requests: WriteRequest[][] = [];
    for (let i = 0; i < items.length; i += BATCH_LIMIT) {
      requests.push(items.slice(i, i + BATCH_LIMIT).map(({ item }) => ({ PutRequest: { Item: item } })));
    }
    await runLimited(requests, this.concurrency, (chunk) => this.batchWrite(chunk, context));
    return { stale: 0 };
  }

  /** Throttling is `throttled`; client errors (validation, access) are `fatal`; the rest `transient`. */
  classifyError(error: unknown): SinkErrorKind {
    if (error instanceof IncompleteWriteError) return 'transient';
    if (error instanceof TypeError) return 'fatal'; // a malformed item: writing it again cannot help
    const kind = classifyAwsError(error);
    if (kind === 'throttled') return 'throttled';
    if (kind === 'transient') return 'transient';
    return (error as { $fault?: unknown } | null)?.$fault === 'client' ? 'fatal' : 'transient';
  }

  /** Marshalls the items and keeps the last one of every key, in first-seen key order. */
  private latestPerKey(entries: readonly SinkEntry<T>[]): Array<{ item: Record<string, AttributeValue>; entry: SinkEntry<T> }> {
    const byKey = new Map<string, { item: Record<string, AttributeValue>; entry: SinkEntry<T> }>();
    for (const entry of entries) {
      const plain = (this.versionAttribute === undefined ? entry.item : { ...entry.item, [this.versionAttribute]: this.version(entry.item, entry.record) }) as DynamoDbItem;
      const item = marshall(plain, this.marshallOptions) as Record<string, AttributeValue>;
      for (const attribute of this.keyAttributes) {
        if (item[attribute] === undefined) throw new TypeError(`an item for ${this.tableName} has no key attribute ${JSON.stringify(attribute)}: transform must set it`);
      }
      byKey.set(keyOf(item, this.keyAttributes), { item, entry });
    }
    return [...byKey.values()];
  }

  private async batchWrite(requests: WriteRequest[], { signal, clock }: SinkWriteContext): Promise<void> {
    let pending = requests;
    for (let attempt = 0; ; attempt++) {
      const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = out.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt >= this.maxUnprocessedRetries) {
        throw new IncompleteWriteError(`${pending.length} items of ${this.tableName} were still unprocessed after ${attempt + 1} BatchWriteItem calls`, pending.length);
      }
      await clock.sleep(Math.max(25, backoffDelay(attempt, 50, 2_000)), signal);
    }
  }

  private async putNewest(items: Array<{ item: Record<string, AttributeValue>; entry: SinkEntry<T> }>, { signal }: SinkWriteContext): Promise<SinkWriteResult> {
    const attribute = this.versionAttribute!;
    let stale = 0;
    await runLimited(items, this.concurrency, async ({ item }) => {
      if (signal?.aborted) throw new AbortError('the DynamoDB write was aborted');
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
            ExpressionAttributeNames: { '#v': attribute },
            ExpressionAttributeValues: { ':v': item[attribute]! },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        stale++; // a newer (or the same) version is stored already
      }
    });
    return { stale };
  }
}
