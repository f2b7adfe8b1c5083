/**
 * Where a shard with no checkpointed ancestor starts: the oldest record, the tip, or the first
 * record at or after a timestamp.
 */
export type InitialPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly timestamp: Date };

/** Validates an {@link InitialPosition}, throwing a `TypeError` that names `optionName`. */
export function assertInitialPosition(value: unknown, optionName = 'initialPosition'): asserts value is InitialPosition {
  if (value === 'TRIM_HORIZON' || value === 'LATEST') return;
  if (typeof value === 'object' && value !== null && 'timestamp' in value) {
    const ts = (value as { timestamp: unknown }).timestamp;
    if (ts instanceof Date && !Number.isNaN(ts.getTime())) return;
  }
  throw new TypeError(`${optionName} must be 'TRIM_HORIZON', 'LATEST' or { timestamp: Date }, got ${JSON.stringify(value)}`);
}
