/**
 * `@kcl-ts/kcl/testing`: helpers for an application's tests — {@link FakeClock}, a clock that
 * moves only when the test advances it (pass it as the Worker's `clock`), and
 * {@link flushMicrotasks}. Not for production code.
 * @packageDocumentation
 */
export { FakeClock, flushMicrotasks } from '@kcl-ts/processor/testing';
