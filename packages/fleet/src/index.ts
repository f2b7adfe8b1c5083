/**
 * `@kcl-ts/fleet` (private): the one fleet harness of the demo, the chaos suite and the
 * benchmarks. Worker child processes that journal what they process and report progress over
 * IPC, a spawner that kills, pauses, terminates and restarts them, a keyed producer, and the
 * oracle that decides from the journals whether the fleet behaved like a correct KCL.
 * @packageDocumentation
 */
export { WORKER_CONFIG_ENV, RETRIEVAL_MODES, checkRetrieval, checkStreams, workerConfigFromEnv, type RetrievalMode, type WorkerProcessConfig, type WorkerTuning } from './config.js';
export {
  heldShards,
  leaseShard,
  recordKey,
  shardKey,
  JournalTail,
  JournalWriter,
  errorText,
  linesOf,
  parseJournal,
  readJournalFile,
  type CheckpointPhase,
  type JournalBase,
  type JournalLine,
  type JournalLineType,
  type JournalPosition,
  type LineOf,
} from './journal.js';
export { isWorkerMessage, type ShardProgress, type WorkerEventName, type WorkerMessage } from './messages.js';
export { isOpen, listShardLineage, listShards, listStreamsLineage, openShardIds, readRoleItem, scanLeaseTable, type RoleRow } from './observe.js';
export {
  checkInvariants,
  checkInvariantsByStream,
  formatVerdict,
  type CheckInput,
  type InvariantName,
  type LeaseRow,
  type PutRecordAck,
  type ShardLineage,
  type StreamVerdicts,
  type Verdict,
  type VerdictSummary,
  type Violation,
} from './oracle.js';
export { decodePayload, encodePayload, type Payload, type SeenRecord } from './payload.js';
export { comparePositions, rankOf, showPosition, type Position } from './positions.js';
export { KeyedProducer, type AckedPut, type BackgroundProduction, type KeyedProducerOptions } from './producer.js';
export { RecordingProcessor, type ProcessorStats, type RecordingOptions } from './recording-processor.js';
export { ChildHandle, Fleet, forkChild, WorkerHandle, workerEntry, type FleetBase, type FleetOptions, type ForkOptions, type ProcessExit, type WorkerState } from './spawner.js';
export { waitUntil } from './wait.js';
export { workerOptions, type WorkerOptionsInput } from './worker-options.js';
