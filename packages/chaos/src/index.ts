/**
 * `@kcl-ts/chaos` (private): the fault-injection suite of kcl-ts — a fault proxy for the
 * emulators and the scenario frame the tests in `test/scenarios` use. The worker processes,
 * their journals, the producer and the oracle come from the shared fleet harness
 * (`@kcl-ts/fleet`).
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
export { Scenario, SCENARIO_TUNING, injectUntil, type ScenarioOptions, type ScenarioStack } from './scenario.js';
