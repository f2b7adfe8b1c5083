/**
 * The example's sinks, built on `@kcl-ts/sinks`, writing to one DynamoDB table (hash key `pk`):
 *
 * - `event#<shard>:<sequence>:<sub-sequence>` — one item per reading, keyed by the record's
 *   identity: a redelivered record overwrites itself (BatchWriteItem, plain mode);
 * - `device#<device>` — the latest reading per device, written with "newest version wins":
 *   a redelivered (older or equal) reading is refused by the condition and counted as stale.
 *
 * A small fan-out sink writes each flush to both, so one processor feeds both views.
 */
import { CreateTableCommand, ResourceInUseException, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { recordId, type Sink, type SinkBatch, type SinkWriteContext, type SinkWriteResult, type TransformContext } from '@kcl-ts/sinks';
import { DynamoDbSink } from '@kcl-ts/sinks/dynamodb';
import type { KinesisClientRecord } from '@kcl-ts/kcl';

/** A reading as produced. */
export interface Reading {
  readonly device: string;
  readonly amount: number;
  /** Position in the produced sequence (for the check at the end). */
  readonly i: number;
}

/** What the processor's transform makes of a record. */
export interface ParsedReading extends Reading {
  /** The record's identity in the stream. */
  readonly id: string;
}

/** Record → reading (every record is a reading here; `undefined` would skip one). */
export function parseReading(record: KinesisClientRecord, { shardId }: TransformContext): ParsedReading {
  const reading = JSON.parse(Buffer.from(record.data).toString('utf8')) as Reading;
  return { ...reading, id: recordId(shardId, record) };
}

/** Writes every flush to several sinks, one after the other (each must succeed). */
export class FanOutSink<T> implements Sink<T> {
  readonly name: string;
  constructor(private readonly targets: ReadonlyArray<Sink<T>>) {
    this.name = targets.map((t) => t.name).join('+');
  }

  async write(batch: SinkBatch<T>, context: SinkWriteContext): Promise<SinkWriteResult> {
    let stale = 0;
    for (const target of this.targets) stale += (await target.write(batch, context))?.stale ?? 0;
    return { stale };
  }
}

/** Maps the items of a batch before handing it to `inner`. */
export class MappedSink<T, U> implements Sink<T> {
  readonly name: string;
  constructor(
    private readonly inner: Sink<U>,
    private readonly map: (item: T) => U,
  ) {
    this.name = inner.name;
  }

  write(batch: SinkBatch<T>, context: SinkWriteContext): Promise<SinkWriteResult | void> {
    return this.inner.write({ ...batch, entries: batch.entries.map((e) => ({ item: this.map(e.item), record: e.record })) }, context);
  }

  classifyError(error: unknown): ReturnType<NonNullable<Sink<U>['classifyError']>> {
    return this.inner.classifyError?.(error) ?? 'transient';
  }
}

/** The fan-out sink of the example: events (idempotent by record id) and latest reading per device (newest wins). */
export function readingSinks(client: DynamoDBClient, tableName: string): Sink<ParsedReading> {
  const events = new DynamoDbSink<{ pk: string; device: string; amount: number; i: number }>({ client, tableName, keyAttributes: ['pk'], name: 'events' });
  const latest = new DynamoDbSink<{ pk: string; device: string; amount: number; i: number }>({ client, tableName, keyAttributes: ['pk'], newestWins: true, name: 'latest' });
  return new FanOutSink<ParsedReading>([
    new MappedSink(events, (r) => ({ pk: `event#${r.id}`, device: r.device, amount: r.amount, i: r.i })),
    new MappedSink(latest, (r) => ({ pk: `device#${r.device}`, device: r.device, amount: r.amount, i: r.i })),
  ]);
}

/** Creates the table (on-demand, hash key `pk`) unless it exists, and waits until it is ACTIVE. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
}
