import { afterAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../src/fault-proxy.js';
import { injectUntil } from '../../src/scenario.js';
import { describeModes, expectClean, pick, scenarioFrame } from './support.js';

describeModes(['polling'], ['polling'])('chaos 3 — DynamoDB throttling storms, 5xx bursts and lost responses [%s]', (retrieval) => {
  const frame = scenarioFrame();
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('the lease table misbehaves in every way a real one does; the invariants hold', async () => {
    const proxy = await startFaultProxy({ target: frame.stack.dynamoDbEndpoint, kind: 'dynamodb' });
    proxies.push(proxy);
    const sc = await frame.create({ retrieval, name: 'ddb-faults', shards: pick(2, 4), keys: 10, recordDelayMs: 2, workerDynamoDbEndpoint: proxy.endpoint });
    const shards = await sc.openShards();
    for (const id of pick(['a', 'b'], ['a', 'b', 'c'])) sc.spawn(id);
    await sc.waitBalanced(shards, 60_000);

    // Records keep coming during every phase (capped), so checkpoints are written under fire too.
    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: pick(300, 1_000) });
    await sc.waitProcessed(50, 60_000);
    const scale = pick(1, 3);
    const phase = { timeoutMs: 90_000 };

    // 1. A throttling storm on every operation (renewals, checkpoints, scans, creates).
    const throttled = await injectUntil(
      proxy,
      [
        { kind: 'throttle', probability: 0.4 },
        { kind: 'throttle', errorType: 'ThrottlingException', probability: 0.2 },
        { kind: 'throttle', errorType: 'RequestLimitExceeded', operation: 'Scan', probability: 0.3 },
      ],
      { atLeast: 40 * scale, ...phase },
    );
    // 2. A burst of server errors.
    const errors = await injectUntil(
      proxy,
      [
        { kind: 'error5xx', probability: 0.3 },
        { kind: 'error5xx', status: 503, probability: 0.2 },
      ],
      { atLeast: 30 * scale, ...phase },
    );
    // 3. Writes that succeed but whose response is lost (dropped or replaced by a 500), plus slowness.
    const lost = await injectUntil(
      proxy,
      [
        { kind: 'latency', latencyMs: 300, operation: 'UpdateItem', probability: 0.3 },
        { kind: 'drop', phase: 'after', operation: 'UpdateItem', probability: 0.15 },
        { kind: 'error5xx', phase: 'after', operation: 'UpdateItem', probability: 0.1 },
        { kind: 'drop', operation: 'Scan', probability: 0.2 },
      ],
      { atLeast: 30 * scale, ...phase },
    );
    proxy.clearRules();

    await production.stop();
    await sc.waitAllProcessed(180_000);
    const verdict = await sc.finish();
    expectClean(verdict, `faults: ${throttled} throttles, ${errors} 5xx, ${lost} latency/lost responses; by operation ${JSON.stringify(proxy.stats().byOperation)}`);
    expect(proxy.injected('throttle')).toBeGreaterThanOrEqual(40 * scale);
    expect(proxy.injected('error5xx')).toBeGreaterThanOrEqual(1);
  }, pick(300_000, 600_000));
});
