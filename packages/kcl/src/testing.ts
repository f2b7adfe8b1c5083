/**
 * `@kcl-ts/kcl/testing`: helpers for an application's tests. Not for production code.
 *
 * - {@link FakeClock}: a clock that moves only when the test advances it (the Worker's `clock`),
 *   and {@link flushMicrotasks}.
 * - {@link MemoryStream}: a stream in memory (the Worker's `shardLister` and
 *   `recordSourceFactory`) and {@link InMemoryLeaseRefresher}, a lease table in memory (its
 *   `leaseRefresher`): with them a whole fleet of Workers runs in one process, without
 *   Kinesis or DynamoDB, deterministically on a `FakeClock`.
 * @packageDocumentation
 */
export { FakeClock, flushMicrotasks } from '@kcl-ts/processor/testing';
export { InMemoryLeaseRefresher } from '@kcl-ts/leases';
export { MemoryStream, type MemoryStreamOptions, type PutResult } from './testing/memory-stream.js';
