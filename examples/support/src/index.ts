/**
 * `@kcl-ts/example-support`: what every example shares — where it runs (embedded stack,
 * a given endpoint, or AWS) and the common command-line flags.
 * @packageDocumentation
 */
export * from './connect.js';
export * from './args.js';
