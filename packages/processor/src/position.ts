/**
 * Where a shard with no checkpointed ancestor starts: the oldest record, the tip, or the first
 * record at or after a timestamp.
 */
export type InitialPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly timestamp: Date };

/**
 * Validates an {@link InitialPosition}, throwing a `TypeError` that names `optionName` (or
 * `${optionName}.timestamp`) and the bad value.
 *
 * With `now` (epoch ms, from the worker's clock), a timestamp later than `now` is rejected too:
 * there is no tolerance, since a timestamp taken with `new Date()` before the worker is built is
 * never later than the clock's `now()` afterwards. Only the configuration is checked: a worker
 * restarted later with the same, by then past, timestamp is fine.
 */
export function assertInitialPosition(value: unknown, optionName = 'initialPosition', now?: number): asserts value is InitialPosition {
  if (value === 'TRIM_HORIZON' || value === 'LATEST') return;
  if (typeof value === 'object' && value !== null && 'timestamp' in value) {
    const ts = (value as { timestamp: unknown }).timestamp;
    if (!(ts instanceof Date) || Number.isNaN(ts.getTime())) {
      const got = ts instanceof Date ? 'an invalid Date' : typeof ts === 'string' ? JSON.stringify(ts) : String(ts);
      throw new TypeError(`${optionName}.timestamp must be a valid Date, got ${got}`);
    }
    if (now !== undefined && ts.getTime() > now) {
      throw new TypeError(`${optionName}.timestamp must not be in the future, got ${ts.toISOString()} (now is ${new Date(now).toISOString()})`);
    }
    return;
  }
  throw new TypeError(`${optionName} must be 'TRIM_HORIZON', 'LATEST' or { timestamp: Date }, got ${JSON.stringify(value) ?? String(value)}`);
}
