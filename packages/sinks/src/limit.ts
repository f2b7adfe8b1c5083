/**
 * A small concurrency limiter for the sinks' parallel requests.
 * @module
 */

/**
 * Runs `task` on every element of `items`, at most `concurrency` at once. Rejects with the
 * first failure once the tasks already running have settled (none is left dangling); no new
 * task starts after a failure.
 */
export async function runLimited<I>(items: readonly I[], concurrency: number, task: (item: I) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure) throw failure.error;
}
