/**
 * `@kcl-ts/sinks/lambda`: the same `ShardRecordProcessor` on Lambda's Kinesis event source —
 * {@link toLambdaHandler}, its checkpointer, and {@link kinesisEventFromRecords} to build
 * events from GetRecords output in tests and local runs.
 * @packageDocumentation
 */
export { toLambdaHandler, type LambdaHandlerOptions, type LambdaKinesisHandler, type LambdaContextLike, type LambdaAdvance } from './handler.js';
export { LambdaCheckpointer } from './checkpointer.js';
export {
  decodeEvent,
  kinesisEventFromRecords,
  shardIdOf,
  type LambdaKinesisEvent,
  type LambdaKinesisRecord,
  type LambdaKinesisPayload,
  type LambdaBatchResponse,
  type ShardRecords,
  type GetRecordsRecord,
  type EventSource,
  type FullKinesisEvent,
} from './event.js';
