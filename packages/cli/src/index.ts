/**
 * `@kcl-ts/cli`: the `kcl` command for operating kcl-ts applications — `kcl status`,
 * `kcl dashboard`, `kcl reshard` and `kcl consumers`. The bin is the usual entry point; this
 * module runs the same commands in-process (scripts, tests).
 * @packageDocumentation
 */
export { main, describeFailure } from './main.js';
