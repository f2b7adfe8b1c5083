/**
 * `@kcl-ts/sim` (private): a deterministic simulation of a kcl-ts fleet — real `Worker`s on
 * an in-memory Kinesis stream, a shared in-memory lease table and a simulated clock, driven
 * by seeded random fault schedules (kills, graceful stops, stalls, duplicate worker ids,
 * sink outages, table throttling and lost responses, resharding) and checked by an oracle.
 * About 30% of the schedules run the `BatchingProcessor` of `@kcl-ts/sinks` on an in-memory
 * sink instead of the recording processor.
 * @packageDocumentation
 */
export { SeededRandom, deriveSeed, withSeededMathRandom } from './random.js';
export { SimTimeline, SimClock, drainMicrotasks, type StallWindow, type TimerEvent } from './timeline.js';
export {
  MemoryKinesis,
  partitionKeyHash,
  type KinesisFaults,
  type KinesisSender,
  type FirstRead,
  type MemoryKinesisOptions,
  type PutAck,
  type SendOptions,
  type ShardFilterSupport,
} from './memory-kinesis.js';
export { SimLeaseTable, checkpointProbe, type CheckpointProbe, type TableFaultCounts, type TableFaults } from './lease-store.js';
export { SimJournal, type JournalBody } from './journal.js';
export { SimProcessor, parsePayload, type CheckpointOverreach, type Delivery, type Payload, type ProcessorBehaviour, type ProcessorContext } from './recording-processor.js';
export {
  generateSchedule,
  parseSchedule,
  BATCHING_SHARE,
  SCHEDULE_VERSION,
  SIM_TUNING,
  type BatchingSettings,
  type GenerateOptions,
  type Schedule,
  type SimConfig,
  type SimEvent,
  type SimEventKind,
} from './schedule.js';
export {
  SimBatchingProcessor,
  realBatchingProcessor,
  type BatchingContext,
  type BatchingProcessorMaker,
  type UnflushedHandoff,
} from './batching-sim-processor.js';
export { runSchedule, type RunOptions, type RunResult, type RunStats } from './simulation.js';
export {
  checkSimulation,
  formatOracleVerdict,
  isExempt,
  type DeclaredStall,
  type OracleInput,
  type OracleInvariant,
  type OracleVerdict,
  type OracleViolation,
  type SimInvariantName,
} from './oracle.js';
export { shrinkSchedule, type ShrinkOptions, type ShrinkResult } from './shrink.js';
export { brokenInvariants, checkSeed, formatFailure, minimize, runSeed, type Failure, type SearchOptions } from './search.js';
