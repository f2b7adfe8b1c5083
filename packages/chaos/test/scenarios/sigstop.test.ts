import { expect, it } from 'vitest';
import { heldShards, linesOf, waitUntil } from '@kcl-ts/fleet';
import { describeModes, expectClean, pick, scenarioFrame } from './support.js';

describeModes(['polling'], ['polling', 'fanout'])('chaos 2 — SIGSTOP a worker past its lease duration, then SIGCONT (the zombie) [%s]', (retrieval) => {
  const frame = scenarioFrame();

  it("the peer takes the shards over; the zombie's later checkpoints are rejected; nothing lost", async () => {
    // A slow processor (20 ms per record) makes it likely the zombie is frozen in the middle of a batch.
    const sc = await frame.create({ retrieval, name: 'sigstop', shards: 2, keys: 10, recordDelayMs: 20 });
    const shards = await sc.openShards();
    sc.spawn('a');
    sc.spawn('b');
    await sc.waitBalanced(shards, 60_000);

    // A backlog, so that a's batches are long (about 20 ms per record), then freeze a in the
    // middle of one: its last journal line is a processed record, not yet checkpointed.
    await sc.producer.putRounds(pick(15, 30));
    const zombie = sc.fleet.get('a');
    await waitUntil(
      () => {
        const own = zombie.journal();
        return own.filter((l) => l.type === 'record').length >= 5 && own.at(-1)?.type === 'record';
      },
      { timeoutMs: 60_000, intervalMs: 20, message: 'a is in the middle of a batch' },
    );
    const pausedAt = Date.now();
    zombie.pause();
    const zombieShards = [...heldShards(sc.journals(), 'a')];
    expect(zombieShards.length).toBeGreaterThan(0);
    const production = sc.producer.startRounds({ intervalMs: 100, maxRounds: pick(40, 120) });

    // b takes the zombie's shards once their leases expire, and checkpoints on them.
    await sc.waitHolding('b', shards.length, 60_000);
    const acquired = new Map<string, number>();
    for (const l of sc.journals()) {
      if (l.type === 'event' && l.event === 'leaseAcquired' && l.worker === 'b' && zombieShards.includes(l.shard) && l.at > pausedAt) acquired.set(l.shard, l.at);
    }
    expect([...acquired.keys()].sort()).toEqual([...zombieShards].sort());
    await sc.waitForLine((l) => l.type === 'checkpoint' && l.worker === 'b' && zombieShards.includes(l.shard) && l.at > Math.max(...acquired.values()), 60_000, 'b checkpoints a shard it took from the zombie');

    const resumedAt = Date.now(); // before the signal: the zombie may write its first line at once
    zombie.resume();
    // The zombie notices it lost its leases.
    await sc.waitForLine((l) => l.worker === 'a' && l.at >= resumedAt && l.type === 'event' && l.event === 'leaseLost', 30_000, 'the zombie reports its leases lost');

    await production.done;
    await sc.waitAllProcessed(120_000);
    const verdict = await sc.finish();
    expectClean(verdict);

    // The zombie never had a checkpoint accepted on a stolen shard after the steal …
    const lines = sc.journals();
    const zombieAccepted = linesOf(lines, 'checkpoint').filter((c) => c.worker === 'a' && acquired.has(c.shard) && c.sentAt > acquired.get(c.shard)! && !reacquired(c.shard, c.sentAt));
    expect(zombieAccepted).toEqual([]);
    // … and whatever it tried after SIGCONT on them was rejected.
    const tried = linesOf(lines, 'checkpoint-begin').filter((c) => c.worker === 'a' && c.at >= resumedAt && acquired.has(c.shard) && !reacquired(c.shard, c.at));
    const rejected = linesOf(lines, 'checkpoint-rejected').filter((c) => c.worker === 'a' && c.at >= resumedAt);
    expect(rejected.length).toBeGreaterThanOrEqual(tried.length);
    console.log(`zombie after SIGCONT: ${tried.length} checkpoint attempts on stolen shards, ${rejected.length} rejected, ${verdict.summary.recordsAfterSuccessorStarted} records processed after the successor started`);

    /** True if the zombie acquired `shard` again (legitimately) before `at`. */
    function reacquired(shard: string, at: number): boolean {
      return lines.some((l) => l.type === 'event' && l.event === 'leaseAcquired' && l.worker === 'a' && l.shard === shard && l.at > acquired.get(shard)! && l.at < at);
    }
  }, pick(240_000, 420_000));
});
