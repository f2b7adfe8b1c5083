/**
 * Idempotent writes of processing results to DynamoDB.
 *
 * kcl-ts delivers every record AT LEAST once: after a failover the next owner of a shard
 * re-delivers the records after the last checkpoint. A sink that must not double-count
 * therefore makes every write conditional on "this record was not applied yet":
 *
 * 1. One item per record, keyed by the record's identity in the stream —
 *    shard id + sequence number + sub-sequence number — written with
 *    `attribute_not_exists(pk)`. A re-delivered record hits the same key and the condition
 *    fails: nothing changes.
 * 2. An aggregate per key (here: a total per device), updated with `ADD` only if the record's
 *    position is past the item's high-water mark for that shard. Positions of one shard grow
 *    monotonically and kcl-ts delivers a shard's records in order (and a child shard only
 *    after its parents), so "position ≤ high-water mark" means "already applied".
 *    Sequence numbers have up to 129 digits — beyond DynamoDB's 38-digit numbers — so the
 *    mark is a zero-padded string, which compares like the number.
 *
 * Updates of one key must be applied in record order (one at a time): applying record n+1
 * before record n would move the mark past n and make n look like a duplicate.
 */
import { CreateTableCommand, ResourceInUseException, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisClientRecord } from '@kcl-ts/kcl';

/** What one write did. */
export type WriteOutcome = 'applied' | 'duplicate';

/** A record's position as a string that sorts like (sequence number, sub-sequence number). */
export function positionKey(record: KinesisClientRecord): string {
  return `${record.sequenceNumber.padStart(129, '0')}.${String(record.subSequenceNumber ?? 0).padStart(10, '0')}`;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** The results table: hash key `pk` (S). Holds `event#…` items (one per record) and `device#…` totals. */
export class ResultSink {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  /** Creates the table (on-demand) unless it exists, and waits until it is ACTIVE. */
  async ensureTable(client: DynamoDBClient): Promise<void> {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: this.tableName,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: this.tableName });
  }

  /** Applies one record of `shardId`: the event item (pattern 1) and the device total (pattern 2). */
  async write(shardId: string, record: KinesisClientRecord): Promise<{ event: WriteOutcome; total: WriteOutcome }> {
    const { device, amount } = JSON.parse(Buffer.from(record.data).toString('utf8')) as { device: string; amount: number };
    const event = await this.conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `event#${shardId}#${record.sequenceNumber}#${record.subSequenceNumber ?? 0}`,
            device,
            amount,
            arrivedAt: record.approximateArrivalTimestamp.toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    const total = await this.conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `device#${device}` },
          UpdateExpression: 'ADD #total :amount, #events :one SET #mark = :position',
          ConditionExpression: 'attribute_not_exists(#mark) OR #mark < :position',
          ExpressionAttributeNames: { '#total': 'total', '#events': 'events', '#mark': `mark#${shardId}` },
          ExpressionAttributeValues: { ':amount': amount, ':one': 1, ':position': positionKey(record) },
        }),
      ),
    );
    return { event, total };
  }

  /** The stored total of `device` (0 if none). */
  async total(device: string): Promise<number> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `device#${device}` }, ConsistentRead: true }));
    return (out.Item?.total as number | undefined) ?? 0;
  }

  private async conditional(write: () => Promise<unknown>): Promise<WriteOutcome> {
    try {
      await write();
      return 'applied';
    } catch (error) {
      if (isConditionFailure(error)) return 'duplicate';
      throw error; // anything else: processRecords throws, and the batch is delivered again
    }
  }
}
