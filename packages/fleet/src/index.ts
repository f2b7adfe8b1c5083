/**
 * `@kcl-ts/fleet` (private): the one fleet harness of the demo, the chaos suite and the
 * benchmarks. Worker child processes that journal what they process and report progress over
 * IPC, a spawner that kills, pauses, terminates and restarts them, a keyed producer, and the
 * oracle that decides from the journals whether the fleet behaved like a correct KCL.
 * @packageDocumentation
 */
export * from './config.js';
export * from './journal.js';
export * from './messages.js';
export * from './observe.js';
export * from './oracle.js';
export * from './payload.js';
export * from './positions.js';
export * from './producer.js';
export * from './recording-processor.js';
export * from './spawner.js';
export * from './wait.js';
export * from './worker-options.js';
export * from './takeover.js';
