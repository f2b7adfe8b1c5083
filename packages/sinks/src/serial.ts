/**
 * Runs async tasks one at a time, in call order: the processor's `processRecords`, its age
 * timer and its shutdown callbacks share one queue, so two flushes never overlap.
 * @module
 */

/** A FIFO of async tasks; a task starts when the previous one has settled. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it; settles like it. */
  run<R>(task: () => Promise<R>): Promise<R> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
