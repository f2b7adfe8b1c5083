import { afterAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../src/fault-proxy.js';
import { injectUntil } from '../../src/scenario.js';
import { describeModes, expectClean, scenarioFrame } from './support.js';

describeModes([], ['polling', 'fanout'])('chaos 4 — Kinesis throttling, expired iterators, 5xx and dropped connections [%s]', (retrieval) => {
  const frame = scenarioFrame();
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('retrieval backs off and resumes at the right record: no loss, no duplicate, order kept', async () => {
    const proxy = await startFaultProxy({ target: frame.stack.kinesisEndpoint, kind: 'kinesis', subscriptionTakeover: true });
    proxies.push(proxy);
    const sc = await frame.create({ retrieval, name: 'kinesis-faults', shards: 3, keys: 15, recordDelayMs: 1, workerKinesisEndpoint: proxy.endpoint });
    const shards = await sc.openShards();
    for (const id of ['a', 'b']) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: 1_000 });
    await sc.waitProcessed(100, 60_000);
    const phase = { timeoutMs: 120_000 };
    const counts = retrieval === 'polling' ? await pollingFaults(proxy, phase) : await fanOutFaults(proxy, phase);
    proxy.clearRules();
    await production.stop();
    await sc.waitAllProcessed(180_000);
    const verdict = await sc.finish();
    expectClean(verdict, `faults: ${JSON.stringify(counts)}; by operation ${JSON.stringify(proxy.stats().byOperation)}`);
    // The lease table was never touched: no failover, so not a single duplicate is acceptable.
    expect(verdict.summary.duplicates).toBe(0);
    if (retrieval === 'polling') expect(proxy.injected('expiredIterator')).toBeGreaterThanOrEqual(15);
    else expect(proxy.injected('drop')).toBeGreaterThanOrEqual(10);
  }, 600_000);
});

type Phase = { readonly timeoutMs: number };

/** GetRecords and ListShards: throttling, expired iterators, 5xx, dropped connections and latency. */
async function pollingFaults(proxy: FaultProxy, phase: Phase): Promise<Record<string, number>> {
  return {
    throttled: await injectUntil(
      proxy,
      [
        { kind: 'throttle', operation: 'GetRecords', probability: 0.5 },
        { kind: 'throttle', errorType: 'LimitExceededException', operation: 'ListShards', probability: 0.5 },
      ],
      { atLeast: 60, ...phase },
    ),
    expired: await injectUntil(proxy, [{ kind: 'expiredIterator', operation: 'GetRecords', probability: 0.3 }], { atLeast: 15, ...phase }),
    serverErrors: await injectUntil(
      proxy,
      [
        { kind: 'error5xx', operation: 'GetRecords', probability: 0.25 },
        { kind: 'error5xx', status: 503, operation: 'GetShardIterator', probability: 0.5 },
      ],
      { atLeast: 30, ...phase },
    ),
    dropped: await injectUntil(
      proxy,
      [
        { kind: 'drop', operation: 'GetRecords', probability: 0.15 },
        { kind: 'latency', latencyMs: 400, operation: 'GetRecords', probability: 0.2 },
      ],
      { atLeast: 20, ...phase },
    ),
  };
}

/**
 * SubscribeToShard: LimitExceeded, 5xx and refused connections, while every event stream that
 * opens is cut after its first event (the open ones are cut at the start), so the workers keep
 * resubscribing through the faults.
 */
async function fanOutFaults(proxy: FaultProxy, phase: Phase): Promise<Record<string, number>> {
  const cutAtStart = proxy.cutStreams();
  const injected = await injectUntil(
    proxy,
    [
      { kind: 'throttle', errorType: 'LimitExceededException', operation: 'SubscribeToShard', probability: 0.25 },
      { kind: 'error5xx', operation: 'SubscribeToShard', probability: 0.25 },
      { kind: 'drop', operation: 'SubscribeToShard', probability: 0.2 },
      { kind: 'drop', phase: 'after', operation: 'SubscribeToShard', probability: 1 },
    ],
    { atLeast: 40, ...phase },
  );
  return { cutAtStart, injected, dropped: proxy.injected('drop'), throttled: proxy.injected('throttle'), serverErrors: proxy.injected('error5xx') };
}
