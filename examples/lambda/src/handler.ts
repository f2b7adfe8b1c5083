/**
 * The Lambda function: the same checkpoint-safe processor a Worker would run
 * (`batchingProcessorFactory` + `DynamoDbSink`), as a handler for a Kinesis event source
 * mapping with `FunctionResponseTypes: ['ReportBatchItemFailures']`.
 *
 * Deploy `dist/handler.js` with `handler` as the entry point and `TABLE_NAME` set (a table
 * with hash key `pk` of type S). Every record becomes one item keyed by its identity in the
 * stream, so a record Lambda delivers again overwrites itself.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamHandler } from 'aws-lambda';
import { batchingProcessorFactory, recordId, type Sink } from '@kcl-ts/sinks';
import { DynamoDbSink } from '@kcl-ts/sinks/dynamodb';
import { toLambdaHandler, type LambdaKinesisHandler } from '@kcl-ts/sinks/lambda';

/** The item stored per record. */
export interface EventItem {
  readonly pk: string;
  readonly body: string;
  readonly partitionKey: string;
  readonly arrivedAt: string;
}

/** The sink of the function: one item per record in `tableName`. */
export function eventSink(client: DynamoDBClient, tableName: string): Sink<EventItem> {
  return new DynamoDbSink<EventItem>({ client, tableName, keyAttributes: ['pk'] });
}

/** Builds the handler around `sink` (the local run wraps it to inject a failure). */
export function createHandler(sink: Sink<EventItem>): LambdaKinesisHandler {
  return toLambdaHandler(
    batchingProcessorFactory<EventItem>({
      sink,
      transform: (record, { shardId }) => ({
        pk: recordId(shardId, record),
        body: Buffer.from(record.data).toString('utf8'),
        partitionKey: record.partitionKey,
        arrivedAt: record.approximateArrivalTimestamp.toISOString(),
      }),
      // Flushes inside one invocation; whatever is left is flushed by shutdownRequested at its end.
      batching: { maxRecords: 8 },
    }),
  );
}

let cached: LambdaKinesisHandler | undefined;

/**
 * The Lambda entry point (clients are created once per container, on the first event). It is a
 * `KinesisStreamHandler` of `@types/aws-lambda` (`satisfies` checks it) that answers partial
 * batch responses.
 */
export const handler = ((event, context) => {
  if (cached === undefined) {
    const tableName = process.env.TABLE_NAME;
    if (!tableName) throw new Error('set TABLE_NAME to the DynamoDB table the function writes to');
    cached = createHandler(eventSink(new DynamoDBClient({}), tableName));
  }
  return cached(event, context);
}) satisfies LambdaKinesisHandler satisfies KinesisStreamHandler;
