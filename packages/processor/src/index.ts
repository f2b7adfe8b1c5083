/**
 * `@kcl-ts/processor`: the contract between an application and kcl-ts — the record
 * processor it implements, the checkpointer it calls, the record type, the typed errors,
 * and the injectable clock and logger shared by every package.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './clock.js';
export * from './abort-listeners.js';
export * from './logger.js';
export * from './sequence.js';
export * from './record.js';
export * from './checkpointer.js';
export * from './processor.js';
export * from './position.js';
export * from './aws-errors.js';
export * from './retry.js';
export * from './options.js';
