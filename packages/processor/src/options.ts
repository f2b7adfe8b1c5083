/**
 * The one way every package validates its options: each reader takes the value, the full
 * option path the error names (e.g. `leases.leaseDurationMs`) and the default, and throws a
 * `TypeError` naming the path and the bad value.
 * @module
 */
import { MAX_TIMER_DELAY_MS } from './clock.js';

/** The bad value, for an error message: JSON where possible, at most 200 characters. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value !== 'object' || value === null) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = `an object (${(value as { constructor?: { name?: string } }).constructor?.name ?? 'Object'})`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** `prefix.name`, or `name` alone when there is no prefix. */
export function optionPath(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/**
 * Reads one group of options: `undefined` is an empty group; anything but a plain object, and
 * any key not in `keys` (a typo would otherwise be dropped silently), throws a `TypeError`
 * naming `path`.
 */
export function optionGroup<K extends string>(value: unknown, path: string, keys: readonly K[]): { readonly [P in K]?: unknown } {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${path} must be an object (${keys.join(', ')}), got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!(keys as readonly string[]).includes(key)) throw new TypeError(`${path}.${key} is not an option (known: ${keys.join(', ')})`);
  }
  return value as { readonly [P in K]?: unknown };
}

/** Bounds of {@link numberOption}. */
export interface NumberRule {
  /** Smallest value allowed. @default 0 */
  readonly min?: number;
  /** Whether `min` itself is allowed. @default true */
  readonly minInclusive?: boolean;
  /** Largest finite value allowed. @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
  /** Only integers. @default true */
  readonly integer?: boolean;
  /** `Infinity` is allowed too (e.g. "no bound"). @default false */
  readonly infinity?: boolean;
}

/** A number within `rule` (or `fallback` when `value` is undefined). */
export function numberOption(value: unknown, path: string, fallback: number, rule: NumberRule = {}): number {
  if (value === undefined) return fallback;
  const { min = 0, minInclusive = true, max = Number.MAX_SAFE_INTEGER, integer = true, infinity = false } = rule;
  if (infinity && value === Number.POSITIVE_INFINITY) return value;
  const ok = typeof value === 'number' && Number.isFinite(value) && (minInclusive ? value >= min : value > min) && value <= max && (!integer || Number.isInteger(value));
  if (ok) return value;
  const kind = integer ? (min === 0 && !minInclusive ? 'a positive integer' : 'an integer') : 'a number';
  const low = min === 0 && !minInclusive && integer ? '' : ` ${minInclusive ? '>=' : '>'} ${min}`;
  const high = max === Number.MAX_SAFE_INTEGER ? '' : `${low ? ' and' : ''} at most ${max}${max === MAX_TIMER_DELAY_MS ? ' (2^31−1)' : ''}`;
  throw new TypeError(`${path} must be ${kind}${low}${high}${infinity ? ' or Infinity' : ''}, got ${describeValue(value)}`);
}

/** A positive integer number of milliseconds that one Node.js timer can wait (at most 2^31−1). */
export function durationOption(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_TIMER_DELAY_MS) {
    throw new TypeError(`${path} must be a positive integer of milliseconds, at most ${MAX_TIMER_DELAY_MS} (2^31−1), got ${describeValue(value)}`);
  }
  return value;
}

/** `true` or `false` (or `fallback` when `value` is undefined). */
export function booleanOption(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${path} must be a boolean (true or false), got ${describeValue(value)}`);
  return value;
}

/** One of `allowed` (or `fallback` when `value` is undefined). */
export function oneOfOption<T extends string>(value: unknown, path: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) throw new TypeError(`${path} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`);
  return value as T;
}

/** A function, or `undefined`. */
export function functionOption<F extends (...args: never[]) => unknown>(value: unknown, path: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${path} must be a function, got ${describeValue(value)}`);
  return value as F | undefined;
}
