/**
 * One mutex per key: `run(key, fn)` calls run one at a time per key, in call order. The
 * coordinator uses it per lease, so a renewal, a checkpoint, a transfer and a release of the
 * same lease never race on the same lease counter.
 * @internal
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** True while a call for `key` runs or waits. */
  isBusy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Runs `fn` once every earlier call for `key` has settled; returns (or throws) its result. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous === undefined ? done : previous.then(() => done);
    this.tails.set(key, tail);
    try {
      if (previous !== undefined) await previous;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
