/**
 * `kcl dashboard` without a browser: the model logic with made-up times, then the server as
 * the CLI starts it, against the embedded stack: `/api/model`, the event stream following a
 * change of owner, the static page, flag errors, and a clean stop.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLeaseRefresher, type Lease } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import type { ShardInfo } from '@kcl-ts/shard-sync';
import { request } from 'node:http';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName, waitFor } from '../../../test-support/stack.js';
import { buildDashboardModel, LeaseObserver, type DashboardModel } from '../src/dashboard/model.js';
import { PAGE_HTML, PAGE_JS } from '../src/dashboard/page.js';
import { describeFailure, main } from '../src/main.js';

const lease = (leaseKey: string, extra: Partial<Lease> = {}): Lease => ({
  leaseKey,
  leaseCounter: 1,
  checkpoint: extended('TRIM_HORIZON'),
  ownerSwitchesSinceCheckpoint: 0,
  parentShardIds: [],
  childShardIds: [],
  ...extra,
});
const shard = (shardId: string, extra: Partial<ShardInfo> = {}): ShardInfo => ({
  shardId,
  hashKeyRange: { startingHashKey: '0', endingHashKey: '10' },
  startingSequenceNumber: '1',
  ...extra,
});

describe('dashboard model', () => {
  const read = (leases: Lease[], t: number, shards?: ShardInfo[]) => ({
    application: 'app',
    table: 'app',
    stream: shards ? 's' : null,
    leases,
    invalid: [],
    ...(shards && { shards }),
    streamSummary: shards ? { status: 'ACTIVE', openShardCount: 2, retentionPeriodHours: 24, mode: 'PROVISIONED' } : null,
    wallTime: 1_700_000_000_000 + t,
    monotonicTime: t,
    leaseDurationMs: 1_000,
  });

  it('judges expiry as the workers do: an owned lease whose counter did not change for the lease duration', () => {
    const observer = new LeaseObserver();
    const a = lease('shardId-000000000000', { leaseOwner: 'w1', leaseCounter: 5 });
    const b = lease('shardId-000000000001', { leaseOwner: 'w2', leaseCounter: 7 });
    let m = buildDashboardModel(read([a, b], 0), observer);
    // Watched for less than the lease duration, nothing changed: unknown, and the ages are lower bounds.
    expect(m.shards.map((s) => s.lease!.expired)).toEqual([null, null]);
    expect(m.shards[0]!.lease!.leaseAge).toEqual({ ms: 0, atLeast: true });
    m = buildDashboardModel(read([{ ...a, leaseCounter: 6 }, b], 600), observer);
    expect(m.shards.map((s) => s.lease!.expired)).toEqual([false, null]);
    expect(m.shards[0]!.lease!.leaseAge).toEqual({ ms: 0, atLeast: false });
    m = buildDashboardModel(read([{ ...a, leaseCounter: 6 }, b], 1_000), observer);
    expect(m.shards.map((s) => s.lease!.expired)).toEqual([false, true]);
    expect(m.expired).toEqual(['shardId-000000000001']);
    expect(m.workers).toEqual([
      { workerId: 'w1', leases: 1, expired: 0, handoffs: 0 },
      { workerId: 'w2', leases: 1, expired: 1, handoffs: 0 },
    ]);
    expect(m.watchingForMs).toBe(1_000);
    observer.reset();
    m = buildDashboardModel(read([{ ...a, leaseCounter: 6 }, b], 5_000), observer);
    expect(m.shards.map((s) => s.lease!.expired)).toEqual([null, null]);
  });

  it('tracks checkpoint age, handoffs, unowned leases and reshard progress from ListShards', () => {
    const observer = new LeaseObserver();
    const shards = [
      shard('shardId-000000000000', { endingSequenceNumber: '99' }),
      shard('shardId-000000000001', { parentShardId: 'shardId-000000000000' }),
      shard('shardId-000000000002', { parentShardId: 'shardId-000000000000' }),
    ];
    const parent = lease('shardId-000000000000', { leaseOwner: 'w1', checkpoint: extended('42') });
    const child = lease('shardId-000000000001', { leaseOwner: 'w1', handoffTo: 'w2', parentShardIds: ['shardId-000000000000'] });
    buildDashboardModel(read([parent, child], 0, shards), observer);
    let m = buildDashboardModel(read([{ ...parent, checkpoint: extended('43') }, child], 500, shards), observer);
    expect(m.shards.map((s) => [s.shardId, s.state, s.lease?.owner ?? null])).toEqual([
      ['shardId-000000000000', 'closed', 'w1'],
      ['shardId-000000000001', 'open', 'w1'],
      ['shardId-000000000002', 'open', null],
    ]);
    expect(m.shards[0]!.children).toEqual(['shardId-000000000001', 'shardId-000000000002']);
    expect(m.shards[0]!.lease!.checkpointAge).toEqual({ ms: 0, atLeast: false });
    expect(m.shards[1]!.lease!.checkpointAge).toEqual({ ms: 500, atLeast: true });
    expect(m.shards[1]!.lease!.handoffTo).toBe('w2');
    expect(m.workers).toEqual([{ workerId: 'w1', leases: 2, expired: 0, handoffs: 1 }]);
    expect(m.reshard).toEqual({ closedNotEnded: ['shardId-000000000000'], openWithoutLease: ['shardId-000000000002'], complete: false });

    const ended = { ...parent, leaseOwner: undefined, checkpoint: extended('SHARD_END'), childShardIds: ['shardId-000000000001', 'shardId-000000000002'] } as Lease;
    const other = lease('shardId-000000000002', { parentShardIds: ['shardId-000000000000'] });
    m = buildDashboardModel(read([ended, child, other], 900, shards), observer);
    expect(m.shards[0]!.state).toBe('ended');
    expect(m.shards[0]!.lease!.checkpointAge).toBeNull();
    expect(m.unowned).toEqual(['shardId-000000000002']);
    expect(m.reshard.complete).toBe(true);
    // A lease whose shard is no longer listed is gone; without a stream the state is unknown.
    expect(buildDashboardModel(read([lease('shardId-000000000009')], 1_000, shards), observer).shards.at(-1)!.state).toBe('gone');
    const noStream = buildDashboardModel(read([child], 0), new LeaseObserver());
    expect(noStream.shards[0]!.state).toBe('unknown');
    expect(noStream.shards[0]!.parents).toEqual(['shardId-000000000000']);
    expect(noStream.reshard.complete).toBeNull();
  });

  it('on a multi-stream table, keeps each stream\'s shards apart and links parents and children within a stream', () => {
    const ORDERS = '000000000000:s:1767225600'; // the stream given (`stream: 's'` in the reading)
    const CLICKS = '000000000000:clicks:1767225601';
    const multi = (stream: string, shardId: string, extra: Partial<Lease> = {}): Lease => lease(`${stream}:${shardId}`, { streamIdentifier: stream, shardId, ...extra });
    const shards = [
      shard('shardId-000000000000', { endingSequenceNumber: '99' }),
      shard('shardId-000000000001', { parentShardId: 'shardId-000000000000' }),
      shard('shardId-000000000002', { parentShardId: 'shardId-000000000000' }),
    ];
    const leases = [
      multi(ORDERS, 'shardId-000000000000', { leaseOwner: 'w1', childShardIds: ['shardId-000000000001', 'shardId-000000000002'] }),
      multi(ORDERS, 'shardId-000000000001', { leaseOwner: 'w1', parentShardIds: ['shardId-000000000000'] }),
      multi(CLICKS, 'shardId-000000000000', { leaseOwner: 'w2', checkpoint: extended('SHARD_END'), childShardIds: ['shardId-000000000001'] }),
      multi(CLICKS, 'shardId-000000000001', { leaseOwner: 'w2', parentShardIds: ['shardId-000000000000'] }),
    ];
    const m = buildDashboardModel(read(leases, 0, shards), new LeaseObserver());
    expect(m.shards.map((s) => [s.shardId, s.stream, s.state, s.lease?.owner ?? null])).toEqual([
      [`${CLICKS}:shardId-000000000000`, CLICKS, 'ended', 'w2'],
      [`${CLICKS}:shardId-000000000001`, CLICKS, 'unknown', 'w2'], // ListShards described the other stream
      [`${ORDERS}:shardId-000000000000`, ORDERS, 'closed', 'w1'],
      [`${ORDERS}:shardId-000000000001`, ORDERS, 'open', 'w1'],
      [`${ORDERS}:shardId-000000000002`, ORDERS, 'open', null], // listed, no lease yet: one node, not a bare shard id beside the leases
    ]);
    const byId = new Map(m.shards.map((s) => [s.shardId, s]));
    expect(byId.get(`${ORDERS}:shardId-000000000000`)!.children).toEqual([`${ORDERS}:shardId-000000000001`, `${ORDERS}:shardId-000000000002`]);
    expect(byId.get(`${CLICKS}:shardId-000000000000`)!.children).toEqual([`${CLICKS}:shardId-000000000001`]);
    expect(byId.get(`${CLICKS}:shardId-000000000001`)!.parents).toEqual([`${CLICKS}:shardId-000000000000`]);
    expect(m.reshard.openWithoutLease).toEqual([`${ORDERS}:shardId-000000000002`]);
    expect(m.reshard.closedNotEnded).toEqual([`${ORDERS}:shardId-000000000000`]);
    // A single-stream table: bare shard ids and no stream.
    expect(buildDashboardModel(read([lease('shardId-000000000001')], 0, shards), new LeaseObserver()).shards.map((s) => [s.shardId, s.stream])).toEqual([
      ['shardId-000000000000', null],
      ['shardId-000000000001', null],
      ['shardId-000000000002', null],
    ]);
  });

  it('on a multi-stream table with a stream created again under its name, matches ListShards to the newest stream', () => {
    const OLD = '000000000000:s:1767225600'; // deleted, its leases kept (formerStreamsLeasesDeletion 'none')
    const NEW = '000000000000:s:1767300000'; // created again: ListShards of 's' describes this one
    const multi = (stream: string, shardId: string, extra: Partial<Lease> = {}): Lease => lease(`${stream}:${shardId}`, { streamIdentifier: stream, shardId, ...extra });
    const shards = [shard('shardId-000000000000')];
    const oldLease = multi(OLD, 'shardId-000000000000', { checkpoint: extended('123') });
    const newLease = multi(NEW, 'shardId-000000000000', { leaseOwner: 'w1' });
    // The scan returns items in no set order: either order reads the same.
    for (const leases of [[oldLease, newLease], [newLease, oldLease]]) {
      const m = buildDashboardModel(read(leases, 0, shards), new LeaseObserver());
      expect(m.shards.map((s) => [s.shardId, s.state, s.lease?.owner ?? null])).toEqual([
        [`${OLD}:shardId-000000000000`, 'unknown', null],
        [`${NEW}:shardId-000000000000`, 'open', 'w1'],
      ]);
      expect(m.reshard.openWithoutLease).toEqual([]);
    }
  });

  it('the page script is valid JavaScript and the page loads it with no inline code', () => {
    expect(() => new Script(PAGE_JS)).not.toThrow();
    expect(PAGE_HTML).toContain('<script src="app.js" defer></script>');
    expect(PAGE_HTML).not.toMatch(/<script>|onclick=|onload=/);
  });
});

describe('kcl dashboard (server, against the embedded stack)', () => {
  const stack = testStack();
  const env = { AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
  const conn = ['--kinesis-endpoint', stack.kinesisEndpoint, '--dynamodb-endpoint', stack.dynamoDbEndpoint];
  const kinesis = stack.kinesisClient();
  const dynamoDb = stack.dynamoDbClient();
  const table = uniqueName('dash');
  const stream = uniqueName('dash-stream');
  const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
  const stop = new AbortController();
  const lines: string[] = [];
  let running: Promise<number> | undefined;
  let url = '';

  beforeAll(async () => {
    await createStream(kinesis, stream, 2);
    await refresher.createLeaseTableIfNotExists();
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: extended('TRIM_HORIZON') });
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000001', checkpoint: extended('TRIM_HORIZON') });
    const taken = (await refresher.takeLease((await refresher.getLease('shardId-000000000000'))!, 'worker-a'))!;
    await refresher.requestHandoff(taken, 'worker-c');
    await dynamoDb.send(
      new PutItemCommand({ TableName: table, Item: { leaseKey: { S: 'shardId-000000000007' }, leaseCounter: { S: 'x' }, checkpoint: { S: 'TRIM_HORIZON' } } }),
    );
    running = main(['dashboard', '--app', table, '--stream', stream, '--port', '0', '--interval', '250', '--lease-duration', '60000', ...conn], (s) => lines.push(s), env, stop.signal);
    running.catch(() => undefined);
    url = await waitFor(() => /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(lines.join('\n'))?.[1], { timeoutMs: 30_000, message: 'the dashboard URL printed' });
  });
  afterAll(async () => {
    stop.abort();
    await running?.catch(() => undefined);
    kinesis.destroy();
    dynamoDb.destroy();
  });

  it('prints one line with the URL, what it found, and how to stop', () => {
    expect(lines[0]).toBe(`kcl dashboard for ${table} (table ${table}, stream ${stream}: 2 shard(s), 1 invalid item(s)): ${url}`);
    expect(lines).toContain('Press Ctrl-C to stop.');
  });

  it('GET /api/model returns the model of the lease table and the stream', async () => {
    const res = await fetch(`${url}api/model`);
    expect(res.status).toBe(200);
    const m = (await res.json()) as DashboardModel;
    expect(m).toMatchObject({ application: table, table, stream, leaseDurationMs: 60_000, error: null, warnings: [] });
    expect(m.streamSummary).toMatchObject({ status: 'ACTIVE', openShardCount: 2 });
    expect(m.shards.map((s) => [s.shardId, s.state, s.lease?.owner ?? null, s.lease?.handoffTo ?? null])).toEqual([
      ['shardId-000000000000', 'open', 'worker-a', 'worker-c'],
      ['shardId-000000000001', 'open', null, null],
    ]);
    expect(m.shards[0]!.hashKeyRange?.startingHashKey).toBe('0');
    expect(m.shards[0]!.lease).toMatchObject({ checkpoint: 'TRIM_HORIZON', leaseCounter: 1, pendingCheckpoint: null, expired: null });
    expect(m.invalid).toEqual([{ leaseKey: 'shardId-000000000007', attribute: 'leaseCounter', reason: 'attribute "leaseCounter" has type S, expected N' }]);
    expect(m.workers).toEqual([{ workerId: 'worker-a', leases: 1, expired: 0, handoffs: 1 }]);
    expect(m.unowned).toEqual(['shardId-000000000001']);
    expect(m.reshard).toEqual({ closedNotEnded: [], openWithoutLease: [], complete: true });
  });

  it('the event stream sends the model at once and again after the lease table changes', async () => {
    const abort = new AbortController();
    const res = await fetch(`${url}api/events`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const nextModel = async (): Promise<DashboardModel> => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^event: model\ndata: (.*)$/m.exec(block);
          if (data) return JSON.parse(data[1]!) as DashboardModel;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffer += value;
      }
    };
    try {
      const first = await nextModel();
      expect(first.shards[1]!.lease!.owner).toBeNull();
      await refresher.takeLease((await refresher.getLease('shardId-000000000001'))!, 'worker-b');
      const deadline = performance.now() + 20_000;
      let m = first;
      while (m.shards[1]!.lease!.owner !== 'worker-b') {
        if (performance.now() > deadline) throw new Error(`no update with the new owner: ${JSON.stringify(m.shards[1])}`);
        m = await nextModel();
      }
      expect(m.workers.map((w) => w.workerId)).toEqual(['worker-a', 'worker-b']);
    } finally {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    }
  });

  it('serves the page, its script and style with a strict content security policy; unknown paths are 404', async () => {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>kcl dashboard</title>');
    expect((await fetch(`${url}app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${url}app.css`)).status).toBe(200);
    expect((await fetch(`${url}nope`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });

  it('bound to loopback, it refuses requests for another host name (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}api/model`, { headers: { Host: 'attacker.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('bad flags give a one-line error and exit code 2; --help documents the command', async () => {
    const run = async (args: string[]): Promise<{ code: number; out: string }> => {
      const out: string[] = [];
      try {
        return { code: await main(args, (s) => out.push(s), env), out: out.join('\n') };
      } catch (error) {
        const { message, exitCode } = describeFailure(error);
        return { code: exitCode, out: message };
      }
    };
    for (const [args, text] of [
      [['dashboard', ...conn], 'kcl dashboard needs --app <name>'],
      [['dashboard', '--app', table, '--port', '70000', ...conn], '--port must be a whole number from 0 to 65535, got "70000"'],
      [['dashboard', '--app', table, '--interval', 'fast', ...conn], '--interval must be a whole number of milliseconds from 250 to 3600000, got "fast"'],
      [['dashboard', '--app', table, '--lease-duration', '0', ...conn], '--lease-duration must be a whole number of milliseconds'],
      [['dashboard', '--app', table, '--host', 'a b', ...conn], '--host must be an IP address or host name'],
      [['dashboard', '--app', table, '--bogus', ...conn], "Unknown option '--bogus'"],
    ] as const) {
      const { code, out } = await run([...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(out).toContain(text);
      if (!out.includes('--bogus')) expect(out.split('\n')).toHaveLength(1);
    }
    const help = await run(['dashboard', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('kcl dashboard');
    expect(help.out).toContain('dynamodb:Scan');
    const missing = await run(['dashboard', '--app', uniqueName('nope'), '--port', '0', ...conn]);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/lease table "nope-.*" does not exist/);
  });

  it('stops cleanly when signalled: main resolves 0 and the port is closed', async () => {
    stop.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${url}api/model`)).rejects.toThrow();
  });
});
