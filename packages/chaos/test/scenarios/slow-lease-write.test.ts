import { afterAll, expect, it } from 'vitest';
import { heldShards, linesOf } from '@kcl-ts/fleet';
import { startFaultProxy, type FaultProxy } from '../../src/fault-proxy.js';
import { describeModes, expectClean, pick, scenarioFrame } from './support.js';

// Full profile only: it fails on the current Worker (see /work/notes/bug-renewer-head-of-line.md
// and packages/chaos/README.md) and must not break the root `pnpm test` before the fix.
describeModes([], ['polling'])("chaos 9 — one shard's checkpoints keep failing: the worker's other leases must survive [%s]", (retrieval) => {
  const frame = scenarioFrame();
  const proxies: FaultProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('a checkpoint write retried for a long time on shard 0 does not stall the renewal of shard 1', async () => {
    const proxy = await startFaultProxy({ target: frame.stack.dynamoDbEndpoint, kind: 'dynamodb' });
    proxies.push(proxy);
    const sc = await frame.create({ retrieval, name: 'slow-lease-write', shards: 2, keys: 20, recordDelayMs: 2, workerDynamoDbEndpoint: proxy.endpoint });
    const shards = (await sc.openShards()).sort();
    sc.spawn('a');
    await sc.waitBalanced(shards, 60_000);
    expect([...heldShards(sc.journals(), 'a')].sort()).toEqual(shards);

    await sc.producer.putRounds(5);
    await sc.waitAllProcessed(60_000);
    // Only the checkpoint writes of the first shard fail (its renewals, and everything of the
    // second shard, go through) until one checkpoint has failed for good. Records flow to the
    // first shard only: the second one is quiet, so only its renewals keep its lease.
    const [sick, healthy] = shards as [string, string];
    expect(sc.producer.keysOn(sick).length).toBeGreaterThan(0);
    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: pick(100, 200), onlyKeys: sc.producer.keysOn(sick) });
    const faultFrom = Date.now();
    const rule = proxy.addRule({ kind: 'error5xx', operation: 'UpdateItem', bodyContains: [sick, '"checkpoint"'] });
    // Until the first checkpoint of the sick shard sent under the fault has ended: failed after
    // the library's retries, or rejected because the lease went meanwhile.
    await sc.waitForLine(
      (l) => (l.type === 'checkpoint-failed' || l.type === 'checkpoint-rejected') && l.shard === sick && l.sentAt >= faultFrom,
      120_000,
      `a checkpoint of ${sick} sent under the fault ended`,
    );
    proxy.removeRule(rule);
    const faultTo = Date.now();

    await production.stop();
    await sc.waitAllProcessed(120_000);
    const verdict = await sc.finish();
    const lost = linesOf(sc.journals(), 'event').filter((e) => e.event === 'leaseLost' && e.at >= faultFrom && e.at <= faultTo + 500 && e.reason !== 'released');
    expectClean(verdict, `leases lost while ${sick}'s checkpoints failed (${faultTo - faultFrom} ms, ${proxy.injected()} faults): ${lost.map((e) => `${e.shard} (${e.reason})`).join(', ') || 'none'}`);
    expect(lost.filter((e) => e.shard === healthy), `the lease of ${healthy} was lost although nothing failed for it`).toEqual([]);
  }, pick(240_000, 420_000));
});
