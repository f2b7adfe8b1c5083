/**
 * `@kcl-ts/chaos` (private): the fault-injection suite of kcl-ts — a fault proxy for the
 * emulators, worker child processes that journal what they process, an invariant checker,
 * and the scenario frame the tests in `test/scenarios` use.
 * @packageDocumentation
 */
export { startFaultProxy, remoteFaultControl, type FaultProxy, type FaultProxyOptions, type FaultProxyStats, type RemoteFaultControl } from './fault-proxy.js';
export {
  FaultRuleSet,
  faultResponse,
  operationName,
  validateFaultRule,
  type FaultDecision,
  type FaultKind,
  type FaultResponse,
  type FaultRule,
  type FaultRuleStats,
  type FaultTarget,
} from './fault-rules.js';
export { Fleet, WorkerHandle, workerEntry, type FleetOptions, type ProcessExit } from './fleet.js';
export {
  checkInvariants,
  formatVerdict,
  type CheckInput,
  type InvariantName,
  type LeaseRow,
  type PutRecordAck,
  type ShardLineage,
  type Verdict,
  type VerdictSummary,
  type Violation,
} from './invariants.js';
export { parseJournal, readJournalFile, linesOf, type CheckpointPhase, type JournalLine, type JournalLineType, type JournalBase, type JournalPosition, type LineOf } from './journal.js';
export { listShardLineage, openShardIds, scanLeaseTable } from './observe.js';
export { comparePositions, rankOf, showPosition, type Position } from './positions.js';
export { KeyedProducer, type AckedPut, type BackgroundProduction, type KeyedProducerOptions } from './producer.js';
export { JournalWriter, RecordingProcessor, parsePayload, errorText } from './recording-processor.js';
export { Scenario, SCENARIO_TUNING, heldShards, waitUntil, type ScenarioOptions, type ScenarioStack } from './scenario.js';
export { mergeTuning, WORKER_CONFIG_ENV, workerConfigFromEnv, type WorkerProcessConfig, type WorkerTuning } from './worker-config.js';
