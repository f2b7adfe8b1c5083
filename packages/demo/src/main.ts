#!/usr/bin/env node
// The kcl-ts fleet demo: an embedded Kinesis + DynamoDB, a producer, real worker processes,
// resharding and a kill -9 while records flow, then a verdict on loss, duplicates and order.
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { createStreamAndWait, startLocalStack, type LocalStack } from '@kcl-ts/local';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Chaos, isOpen, listShards } from './chaos.js';
import { Dashboard, shortShard, type DashboardState, type ShardRow } from './dashboard.js';
import { Fleet, type WorkerHandle } from './fleet.js';
import { FlagError, parseFlags, USAGE, type DemoOptions } from './flags.js';
import { JournalFollower, readJournals } from './journal.js';
import type { WorkerMessage } from './messages.js';
import { Producer } from './producer.js';
import { formatVerdict } from './report.js';
import { computeVerdict, type Verdict } from './verdict.js';
import { startWebDashboard, type WebDashboard } from './web-dashboard.js';

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker-process.js');

/** Worker settings for a demo: fast, so failover and handoff fit in a one-minute run. */
function workerSettings(options: DemoOptions) {
  return {
    leaseDurationMs: options.leaseDurationMs,
    takerIntervalMs: Math.max(200, Math.round(options.leaseDurationMs / 5)),
    idleTimeBetweenReadsMs: 200,
    shardSyncIntervalMs: 5_000,
    parentShardPollIntervalMs: 500,
    shutdownTimeoutMs: 10_000,
    progressIntervalMs: 500,
  };
}

function describeMessage(m: WorkerMessage): string | undefined {
  switch (m.type) {
    case 'started':
      return `${m.workerId} started`;
    case 'stopped':
      return `${m.workerId} stopped gracefully (leases released)`;
    case 'fatal':
      return `${m.workerId} FAILED: ${m.detail}`;
    case 'progress':
      return undefined;
    case 'event': {
      const shard = m.shardId ? shortShard(m.shardId) : '';
      switch (m.event) {
        case 'leaseAcquired':
          return `${m.workerId} took ${shard}`;
        case 'leaseLost':
          return `${m.workerId} lost ${shard}${m.detail ? ` (${m.detail})` : ''}`;
        case 'shardEnded':
          return `${m.workerId} ended ${shard}${m.detail ? ` → children ${m.detail.split(',').map(shortShard).join(', ')}` : ''}`;
        default:
          return `${m.workerId} ${m.event}${shard ? ` on ${shard}` : ''}: ${m.detail ?? ''}`;
      }
    }
  }
}

/** Builds the dashboard's view from the fleet and the shard list. */
function dashboardState(startedAt: number, put: number, processed: number, shards: readonly Shard[], ended: ReadonlySet<string>, fleet: Fleet): DashboardState {
  const handles = fleet.all();
  const owner = (shardId: string): WorkerHandle | undefined => handles.find((h) => !h.exit && h.state !== 'killed' && h.held.has(shardId));
  const rows: ShardRow[] = shards.map((s) => {
    const shardId = s.ShardId!;
    const o = owner(shardId);
    return {
      shardId,
      status: ended.has(shardId) ? 'ended' : isOpen(s) ? 'open' : 'closed',
      owner: o?.id,
      records: handles.reduce((sum, h) => sum + (h.progress.get(shardId)?.records ?? 0), 0),
      lagMs: o?.progress.get(shardId)?.lagMs,
    };
  });
  return {
    elapsedMs: Date.now() - startedAt,
    put,
    processed,
    shards: rows,
    workers: handles.map((h) => ({ id: h.id, state: h.state, leases: h.held.size })),
  };
}

interface RunResult {
  readonly code: number;
  readonly verdict?: Verdict;
}

async function runDemo(options: DemoOptions, interrupt: AbortSignal, onFleet: (fleet: Fleet) => void): Promise<RunResult> {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const settings = workerSettings(options);
  const durationMs = options.durationS * 1000;
  const workDir = mkdtempSync(join(tmpdir(), 'kcl-demo-'));
  let stack: LocalStack | undefined;
  let kinesis: KinesisClient | undefined;
  let fleet: Fleet | undefined;
  let producer: Producer | undefined;
  let chaos: Chaos | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let web: WebDashboard | undefined;
  let keepDir = options.keep;
  try {
    out(
      `kcl-ts fleet demo: ${options.shards} shard(s), ${options.workers} worker process(es), ${options.rate} records/s over ${options.keys} keys for ${options.durationS} s, chaos ${options.chaos ? 'on' : 'off'}`,
    );
    out(`journals and worker logs: ${workDir}`);
    out('starting the embedded Kinesis (Kinesis Mock) and DynamoDB (dynalite)…');
    stack = await startLocalStack();
    kinesis = stack.kinesisClient();
    const suffix = Date.now().toString(36);
    const streamName = `kcl-demo-${suffix}`;
    const applicationName = `kcl-demo-app-${suffix}`;
    await createStreamAndWait(kinesis, streamName, options.shards);
    out(`stream ${streamName} is ACTIVE (Kinesis ${stack.kinesisEndpoint}, DynamoDB ${stack.dynamoDbEndpoint})`);
    if (interrupt.aborted) return { code: 130 };

    let shards = await listShards(kinesis, streamName);
    const ended = new Set<string>();
    const dashboard = new Dashboard();
    const follower = new JournalFollower(workDir);
    const k = kinesis;
    const refreshShards = (): void => {
      listShards(k, streamName).then(
        (s) => {
          shards = s;
        },
        () => undefined,
      );
    };

    fleet = new Fleet({
      script: WORKER_SCRIPT,
      logDir: workDir,
      config: {
        applicationName,
        streamName,
        kinesisEndpoint: stack.kinesisEndpoint,
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        region: stack.region,
        journalDir: workDir,
        logLevel: options.logLevel,
        ...settings,
      },
      onMessage: (m) => {
        if (m.type === 'event' && m.event === 'shardEnded' && m.shardId) {
          ended.add(m.shardId);
          refreshShards();
        }
        const text = describeMessage(m);
        if (text) dashboard.event(text);
      },
      onExit: (h) => {
        const how = h.exit?.signal ? `killed by ${h.exit.signal}` : `exited with code ${h.exit?.code}`;
        if (h.state !== 'stopped' || h.exit?.code !== 0) dashboard.event(`${h.id} process ${how}`);
      },
    });
    onFleet(fleet);
    for (let i = 1; i <= options.workers; i++) fleet.spawn(`w${i}`);
    // The clock (producer, chaos timeline) starts once the fleet is up, so latencies and the
    // timeline are not dominated by process start-up on a busy machine.
    const startDeadline = Date.now() + 90_000;
    while (fleet.all().some((h) => h.state === 'starting')) {
      const dead = fleet.all().find((h) => h.exit);
      if (dead) throw new Error(`worker ${dead.id} exited while starting; see ${join(workDir, `${dead.id}.log`)}`);
      if (Date.now() > startDeadline) throw new Error(`workers did not start within 90 s; see the logs in ${workDir}`);
      if (interrupt.aborted) return { code: 130 };
      await delay(100);
    }
    if (options.dashboard) {
      // The workers have created the lease table by now, so the dashboard's first scan finds it.
      web = await startWebDashboard({
        applicationName,
        streamName,
        kinesisEndpoint: stack.kinesisEndpoint,
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        region: stack.region,
        leaseDurationMs: settings.leaseDurationMs,
        logFile: join(workDir, 'dashboard.log'),
      }).catch((error: unknown) => {
        dashboard.event(`the web dashboard did not start: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (web) dashboard.event(`web dashboard: ${web.url} (open it in a browser; it stops when the demo ends)`);
    }
    const startedAt = Date.now();
    dashboard.event(`all ${options.workers} worker(s) started; producing for ${options.durationS} s`);

    producer = new Producer({ kinesis, streamName, rate: options.rate, keys: options.keys });
    producer.start();
    const p = producer;
    const f = fleet;
    const render = (): void => {
      follower.poll();
      dashboard.render(dashboardState(dashboard.startedAt, p.stats().put, follower.processed, shards, ended, f));
    };
    ticker = setInterval(render, 1_000);
    if (options.chaos) {
      chaos = new Chaos({ kinesis, streamName, fleet, durationMs, onEvent: (t) => dashboard.event(t), onReshard: refreshShards });
      chaos.start(startedAt);
    }

    await delay(Math.max(0, startedAt + durationMs - Date.now()), undefined, { signal: interrupt }).catch(() => undefined);
    await chaos?.cancel();
    await producer.stop();
    if (interrupt.aborted) return { code: 130 };
    const puts = producer.acknowledged;
    dashboard.event(`producer stopped: ${puts.length} records put (${producer.stats().retriedEntries} entries retried); waiting until all are processed…`);

    const drainStartedAt = Date.now();
    const deadline = drainStartedAt + options.drainTimeoutS * 1000;
    let missing = puts.length;
    for (;;) {
      follower.poll();
      missing = puts.reduce((n, r) => n + (follower.has(r.key, r.n) ? 0 : 1), 0);
      if (missing === 0 || Date.now() > deadline || interrupt.aborted) break;
      await delay(500);
    }
    if (interrupt.aborted) return { code: 130 };
    dashboard.event(
      missing === 0
        ? `all ${puts.length} records processed ${((Date.now() - drainStartedAt) / 1000).toFixed(1)} s after the producer stopped`
        : `drain deadline (${options.drainTimeoutS} s) passed with ${missing} record(s) unprocessed`,
    );
    clearInterval(ticker);
    ticker = undefined;
    render();
    dashboard.close();

    dashboard.event('stopping the remaining workers gracefully…');
    const stopped = await fleet.stopAll(settings.shutdownTimeoutMs + 5_000);
    if (stopped.forced.length > 0) out(`  workers that had to be killed after the shutdown timeout: ${stopped.forced.join(', ')}`);

    const finalShards = await listShards(kinesis, streamName);
    const lineage = finalShards.map((s) => ({ shardId: s.ShardId!, parents: [s.ParentShardId, s.AdjacentParentShardId].filter((x): x is string => !!x) }));
    const verdict = computeVerdict({
      puts,
      journals: readJournals(workDir),
      lineage,
      ...(chaos?.kill && { kill: chaos.kill }),
      ...(chaos?.gracefulStop && { gracefulStop: chaos.gracefulStop }),
      leaseDurationMs: settings.leaseDurationMs,
    });
    out(formatVerdict(verdict, { leaseDurationMs: settings.leaseDurationMs, ...(chaos && { chaos: chaos.outcomes }) }));
    if (options.json) {
      const report = {
        options,
        workerSettings: settings,
        streamName,
        startedAt,
        shards: finalShards.map((s) => ({ shardId: s.ShardId, open: isOpen(s), parents: lineage.find((l) => l.shardId === s.ShardId)?.parents ?? [] })),
        chaos: chaos?.outcomes ?? [],
        kill: chaos?.kill,
        gracefulStop: chaos?.gracefulStop,
        producer: producer.stats(),
        workers: fleet.all().map((h) => ({ id: h.id, state: h.state, exit: h.exit })),
        verdict,
      };
      writeFileSync(resolve(options.json), `${JSON.stringify(report, null, 2)}\n`);
      out(`verdict written to ${resolve(options.json)}`);
    }
    if (!verdict.ok) keepDir = true;
    return { code: verdict.ok ? 0 : 1, verdict };
  } catch (error) {
    keepDir = true;
    throw error;
  } finally {
    if (ticker) clearInterval(ticker);
    await chaos?.cancel().catch(() => undefined);
    await producer?.stop(2_000).catch(() => undefined);
    if (fleet) await fleet.stopAll(interrupt.aborted ? 3_000 : 15_000).catch(() => fleet?.killAll());
    await web?.stop();
    kinesis?.destroy();
    await stack?.stop().catch((e: unknown) => process.stderr.write(`stopping the local stack failed: ${String(e)}\n`));
    if (keepDir) out(`journals and worker logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let options: DemoOptions | 'help';
  try {
    options = parseFlags(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`error: ${error.message}\nRun with --help for the flags.\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const interrupt = new AbortController();
  let fleet: Fleet | undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${signal}: stopping the demo and cleaning up (again to force)…\n`);
      interrupt.abort();
      return;
    }
    fleet?.killAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort: never leave worker processes behind.
  process.on('exit', () => fleet?.killAll());
  try {
    const result = await runDemo(options, interrupt.signal, (f) => {
      fleet = f;
    });
    process.exit(interrupt.signal.aborted ? 130 : result.code);
  } catch (error) {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

await main();
