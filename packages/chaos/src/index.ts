/**
 * `@kcl-ts/chaos` (private): the fault-injection suite of kcl-ts — a fault proxy for the
 * emulators and the scenario frame the tests in `test/scenarios` use. The worker processes,
 * their journals, the producer and the oracle come from the shared fleet harness
 * (`@kcl-ts/fleet`).
 * @packageDocumentation
 */
export * from './fault-proxy.js';
export * from './fault-rules.js';
export * from './scenario.js';
