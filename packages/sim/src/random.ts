/**
 * Seeded randomness for the simulation: a small PRNG, and a scope in which the library's own
 * `Math.random` calls draw from a seeded stream too.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A seeded pseudo-random generator (mulberry32: 32-bit state, full period, fast). The same
 * seed always yields the same sequence.
 */
export class SeededRandom {
  private state: number;

  /** @param seed any integer; only its low 32 bits matter. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() needs a non-empty array');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An independent generator derived from this one's next value (for a separate concern). */
  fork(): SeededRandom {
    return new SeededRandom(Math.floor(this.next() * 4294967296));
  }
}

/** Hashes a seed and a label into a 32-bit seed, so each concern of a run gets its own stream. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const scope = new AsyncLocalStorage<SeededRandom>();
let installed = false;

/**
 * Runs `fn` so that every `Math.random()` call made inside it — including by promise
 * continuations and timers it schedules, which inherit the async context — draws from
 * `random` instead of the global generator. Code outside the scope (the test runner) still
 * gets the real `Math.random`.
 *
 * Why: the Worker does not take a `random` option, so its lease taker (which captures
 * `Math.random` when the coordinator is built) and the retry jitter (which calls it at each
 * backoff) would make runs irreproducible. The global function is replaced once, by a
 * wrapper that only diverts calls made inside a scope.
 */
export function withSeededMathRandom<T>(random: SeededRandom, fn: () => T): T {
  if (!installed) {
    const original = Math.random.bind(Math);
    Math.random = () => {
      const active = scope.getStore();
      return active !== undefined ? active.next() : original();
    };
    installed = true;
  }
  return scope.run(random, fn);
}
