/**
 * `kcl dashboard` in a real browser: headless Chromium (Debian's `chromium` package, driven by
 * playwright-core) loads the page served against the embedded stack while real Workers
 * consume the stream, and the page follows a split and a merge (children appear, the parents
 * close and end) and a worker that stops (its shards change owner), through server-sent events.
 *
 * The browser is `/usr/bin/chromium`, or `$KCL_CHROMIUM`. Without it the test is skipped with a
 * message, unless `KCL_REQUIRE_BROWSER=1` (set by .ci/run once it installed Chromium).
 * `KCL_DASHBOARD_SCREENSHOT=docs/img/dashboard.png` saves the final page there (the README's
 * picture); otherwise under the OS temp directory.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, ListShardsCommand, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { DynamoDbLeaseRefresher, multiStreamScope } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import { ShardDetector } from '@kcl-ts/shard-sync';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, waitFor } from '../../../test-support/stack.js';
import { startDashboardServer, type DashboardServer } from '../src/dashboard/server.js';
import { describeStreamSummary, LeaseTableSource } from '../src/dashboard/source.js';
import type { Worker } from '@kcl-ts/kcl';
import { FAST, Journal, makeWorker, putKeyed, testStack, uniqueName } from '../../kcl/test/helpers.js';

const CHROMIUM = process.env.KCL_CHROMIUM || '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) {
  const why = `no Chromium at ${CHROMIUM} (install Debian's chromium package: apt-get install -y chromium, or set KCL_CHROMIUM to a Chromium binary)`;
  if (process.env.KCL_REQUIRE_BROWSER === '1') throw new Error(`dashboard browser test: ${why}, and KCL_REQUIRE_BROWSER=1`);
  console.warn(`dashboard browser test skipped: ${why}`);
}

/** What the page's shard table shows, row by row. */
interface Row {
  readonly shard: string;
  readonly state: string;
  readonly owner: string;
  /** Whether the shard has a lease. */
  readonly lease: boolean;
}

describe.skipIf(!hasBrowser)('kcl dashboard in headless Chromium', () => {
  const stack = testStack();
  const kinesis = stack.kinesisClient();
  const dynamoDb = stack.dynamoDbClient();
  const stream = uniqueName('dash-ui');
  const app = uniqueName('dash-ui-app');
  const journal = new Journal();
  const workers = new Map<string, Worker>();
  let server: DashboardServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  /** Script errors and CSP violations reported by the page. */
  const problems: string[] = [];

  // Evaluated in the page (as strings: the test's TypeScript has no DOM types).
  const rows = (): Promise<Row[]> =>
    page.evaluate(
      "[...document.querySelectorAll('#shards tbody tr')].map((tr) => ({ shard: tr.dataset.shard || '', state: tr.dataset.state || '', owner: tr.dataset.owner || '', lease: tr.dataset.lease === 'yes' }))",
    ) as Promise<Row[]>;
  const nodes = (): Promise<string[]> =>
    page.evaluate("[...document.querySelectorAll('#graph g.node')].map((g) => g.getAttribute('data-shard') + ':' + g.getAttribute('class'))") as Promise<string[]>;
  const open = (r: readonly Row[]): Row[] => r.filter((x) => x.state === 'open');

  beforeAll(async () => {
    await createStream(kinesis, stream, 3);
    for (const id of ['w1', 'w2', 'w3']) workers.set(id, makeWorker(app, stream, journal, { workerId: id }));
    await Promise.all([...workers.values()].map((w) => w.start()));
    await putKeyed(kinesis, stream, 200, 20);
    // An item no worker can read, to see it listed as invalid.
    await dynamoDb.send(new PutItemCommand({ TableName: app, Item: { leaseKey: { S: 'shardId-000000000099' }, leaseCounter: { S: 'seven' }, checkpoint: { S: 'TRIM_HORIZON' } } }));
    const detector = new ShardDetector({ kinesisClient: kinesis, stream: { streamName: stream } });
    server = await startDashboardServer({
      intervalMs: 300,
      source: new LeaseTableSource({
        application: app,
        table: app,
        stream,
        refresher: new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: app }),
        listShards: (signal) => detector.listShards(signal),
        describeStream: (signal) => describeStreamSummary(kinesis, stream, signal),
        leaseDurationMs: FAST.leases.leaseDurationMs,
      }),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    problems.length = 0;
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(server.url);
    // A script error or a CSP violation would leave the page empty; say so instead of timing out.
    await waitFor(async () => problems.length > 0 || (await rows()).length > 0, { timeoutMs: 30_000, message: 'the page shows shards' });
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await Promise.all([...workers.values()].map((w) => w.shutdown()));
    kinesis.destroy();
    dynamoDb.destroy();
  });

  it('shows every shard with its owner, the workers and the invalid item', async () => {
    const r = await waitFor(
      async () => {
        const now = await rows();
        return now.length === 3 && now.every((x) => x.state === 'open' && x.owner) ? now : undefined;
      },
      { timeoutMs: 30_000, message: 'the three shards open and owned on the page' },
    );
    expect(r.map((x) => x.shard)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    expect(await nodes()).toEqual(r.map((x) => expect.stringMatching(new RegExp(`^${x.shard}:node open`))));
    expect(await page.locator('#invalid tr[data-invalid="shardId-000000000099"]').textContent()).toContain('attribute "leaseCounter" has type S, expected N');
    expect(await page.locator('#conn').textContent()).toBe('live');
    expect(problems).toEqual([]);
  });

  it('follows a split and a merge: the children appear with owners, the parents close, then end', async () => {
    const listed = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const parent = listed.find((s) => s.ShardId === 'shardId-000000000000')!;
    const mid = (BigInt(parent.HashKeyRange!.StartingHashKey!) + BigInt(parent.HashKeyRange!.EndingHashKey!)) / 2n;
    const active = async (): Promise<boolean> =>
      (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    const before = performance.now();
    await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: mid.toString() }));
    await waitFor(active, { timeoutMs: 30_000, message: 'stream ACTIVE after the split' });
    // The split's children are 3 and 4; merging 1 and 2 makes 5.
    await kinesis.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000002' }));
    await waitFor(active, { timeoutMs: 30_000, message: 'stream ACTIVE after the merge' });
    await putKeyed(kinesis, stream, 100, 20, 200); // so the children's checkpoints move
    const r = await waitFor(
      async () => {
        const now = await rows();
        const state = new Map(now.map((x) => [x.shard, x]));
        // A parent ends (SHARD_END); its lease may then be cleaned up, leaving a closed shard without lease.
        const finished = (x: Row | undefined): boolean => x?.state === 'ended' || (x?.state === 'closed' && !x.lease);
        const parentsEnded = [0, 1, 2].every((i) => finished(state.get(`shardId-00000000000${i}`)));
        const childrenOwned = [3, 4, 5].every((i) => state.get(`shardId-00000000000${i}`)?.state === 'open' && state.get(`shardId-00000000000${i}`)?.owner);
        return parentsEnded && childrenOwned ? now : undefined;
      },
      { timeoutMs: 60_000, message: 'children open and owned, parents ended, on the page' },
    );
    expect(r.map((x) => x.shard)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `shardId-00000000000${i}`));
    expect(await nodes()).toContainEqual(expect.stringMatching(/^shardId-000000000000:node ended/));
    for (const edge of ['0>3', '0>4', '1>5', '2>5']) {
      const [from, to] = edge.split('>');
      expect(await page.locator(`#graph path[data-edge="shardId-00000000000${from}>shardId-00000000000${to}"]`).count(), edge).toBe(1);
    }
    await waitFor(async () => (await page.locator('#reshard .v').textContent()) === 'done', { timeoutMs: 30_000, message: 'the reshard shown as done' });
    console.info(`dashboard browser test: split and merge followed on the page in ${Math.round(performance.now() - before)} ms`);
  });

  it('follows a worker that stops: its shards change owner', async () => {
    const current = open(await rows());
    // Stop a worker that owns something now (the page says which).
    const victim = current.find((x) => x.owner)!.owner;
    const had = current.filter((x) => x.owner === victim).map((x) => x.shard);
    await workers.get(victim)!.shutdown();
    workers.delete(victim);
    const after = await waitFor(
      async () => {
        const now = open(await rows());
        return now.length === 3 && now.every((x) => x.owner && x.owner !== victim) ? now : undefined;
      },
      { timeoutMs: 60_000, message: `every open shard owned by a worker other than ${victim}` },
    );
    for (const shard of had) expect(after.find((x) => x.shard === shard)!.owner).not.toBe(victim);
    await waitFor(async () => (await page.locator(`#workers tr[data-worker="${victim}"]`).count()) === 0, { timeoutMs: 10_000, message: `${victim} gone from the workers table` });
    // For the picture only, not asserted (balancing is the Worker's business, tested elsewhere):
    // give the remaining workers a moment to share the shards.
    await waitFor(async () => (await page.locator('#workers tr[data-worker]').count()) === 2, { timeoutMs: 15_000 }).catch(() => undefined);
    const shot = process.env.KCL_DASHBOARD_SCREENSHOT ? resolve(process.env.KCL_DASHBOARD_SCREENSHOT) : join(tmpdir(), 'kcl-dashboard.png');
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    console.info(`dashboard browser test: screenshot saved to ${shot}`);
  });
});

describe.skipIf(!hasBrowser)('kcl dashboard in headless Chromium, on a multi-stream lease table', () => {
  const stack = testStack();
  const dynamoDb = stack.dynamoDbClient();
  const table = uniqueName('dash-ms');
  // Two streams named orders (the second a re-creation of the first) and one named clicks.
  const OLD_ORDERS = '000000000000:orders:1767000000';
  const ORDERS = '000000000000:orders:1767225600';
  const CLICKS = '000000000000:clicks:1767225601';
  let server: DashboardServer | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    dynamoDb.destroy();
  });

  it('names each node by stream and shard, and draws lineage within a stream only', async () => {
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
    await refresher.createLeaseTableIfNotExists();
    const seed: [string, string, string[]][] = [
      [ORDERS, 'shardId-000000000000', []],
      [ORDERS, 'shardId-000000000001', ['shardId-000000000000']],
      [OLD_ORDERS, 'shardId-000000000000', []],
      [CLICKS, 'shardId-000000000000', []],
      [CLICKS, 'shardId-000000000001', []],
    ];
    for (const [stream, shard, parents] of seed) {
      await refresher.createLeaseIfNotExists(multiStreamScope(stream).toNewLease({ leaseKey: shard, checkpoint: extended('TRIM_HORIZON'), parentShardIds: parents }));
    }
    server = await startDashboardServer({
      intervalMs: 300,
      source: new LeaseTableSource({ application: table, table, refresher, leaseDurationMs: 10_000 }),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(server.url);
    const labels = await waitFor(
      async () => {
        const now = (await page.evaluate("[...document.querySelectorAll('#graph g.node text.id')].map((t) => t.textContent)")) as string[];
        return problems.length > 0 || now.length === seed.length ? now : undefined;
      },
      { timeoutMs: 30_000, message: 'every (stream, shard) drawn' },
    );
    expect(problems).toEqual([]);
    expect([...labels].sort()).toEqual(['clicks shard-0', 'clicks shard-1', 'orders@1767000000 shard-0', 'orders@1767225600 shard-0', 'orders@1767225600 shard-1']);
    const edges = (await page.evaluate("[...document.querySelectorAll('#graph [data-edge]')].map((e) => e.getAttribute('data-edge'))")) as string[];
    expect(edges).toEqual([`${ORDERS}:shardId-000000000000>${ORDERS}:shardId-000000000001`]);
  });
});
