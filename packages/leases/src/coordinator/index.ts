/**
 * The lease coordinator of `@kcl-ts/leases`: renewer, taker and balancer of one worker.
 * @module
 */
export { LeaseCoordinator, type LeaseCoordinatorDeps } from './lease-coordinator.js';
export {
  LEASE_COORDINATOR_DEFAULTS,
  resolveLeaseCoordinatorConfig,
  type LeaseCoordination,
  type LeaseRenewalMode,
  type LeaseCoordinatorConfig,
  type LeaseCoordinatorOptions,
} from './options.js';
export type { LeaseCoordinatorEvents, LeaseCoordinatorListener, LeaseLostReason, TakerRunSummary, RenewerRunSummary } from './events.js';
export { SCANNER_ROLE } from './scanner-role.js';
