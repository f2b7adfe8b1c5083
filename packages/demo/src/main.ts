#!/usr/bin/env node
// The kcl-ts fleet demo: an embedded Kinesis + DynamoDB, a producer, real worker processes,
// resharding and a kill -9 while records flow, then a verdict on loss, duplicates and order.
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { checkInvariantsByStream, Fleet, isOpen, KeyedProducer, listStreamsLineage, listStreamsShards, scanLeaseTable, waitUntil, type BackgroundProduction, type WorkerHandle, type WorkerMessage } from '@kcl-ts/fleet';
import { createStreamAndWait, startLocalStack, type LocalStack } from '@kcl-ts/local';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Dashboard, shortShard, type DashboardState, type ShardRow } from './dashboard.js';
import { FlagError, parseFlags, USAGE, type DemoOptions } from './flags.js';
import { formatVerdict, measure } from './report.js';
import { Timeline } from './timeline.js';
import { startWebDashboard, type WebDashboard } from './web-dashboard.js';

// The AWS SDK's notice that its 2027 releases need Node 22 would open every run on Node 20
// (the README says it once); its own switch, inherited by child processes, turns it off.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** Worker settings for a demo: fast, so failover and handoff fit in a one-minute run. */
function workerSettings(options: DemoOptions) {
  return {
    leases: { leaseDurationMs: options.leaseDurationMs, takerIntervalMs: Math.max(200, Math.round(options.leaseDurationMs / 5)) },
    retrieval: { polling: { idleTimeBetweenReadsMs: 200 } },
    shardSync: { intervalMs: 5_000, parentPollIntervalMs: 500 },
    processing: { shutdownTimeoutMs: 10_000 },
  };
}

/** The event-log line of a worker message, if it makes one. */
function describeMessage(id: string, m: WorkerMessage): string | undefined {
  if (m.type === 'started') return `${id} started`;
  if (m.type === 'stopped') return `${id} stopped gracefully (leases released)`;
  if (m.type === 'fatal') return `${id} FAILED: ${m.detail}`;
  if (m.type !== 'event') return undefined;
  const shard = m.shardId ? shortShard(m.shardId) : '';
  if (m.event === 'leaseAcquired') return `${id} took ${shard}`;
  if (m.event === 'leaseLost') return `${id} lost ${shard}${m.detail ? ` (${m.detail})` : ''}`;
  if (m.event === 'shardEnded') return `${id} ended ${shard}${m.detail ? ` → children ${m.detail.split(',').map(shortShard).join(', ')}` : ''}`;
  return `${id} ${m.event}${shard ? ` on ${shard}` : ''}: ${m.detail ?? ''}`;
}

/** Builds the dashboard's view from the fleet and the shard list. */
function dashboardState(startedAt: number, put: number, processed: number, shards: readonly Shard[], ended: ReadonlySet<string>, events: ReadonlyMap<string, string>, fleet: Fleet): DashboardState {
  const handles = fleet.workers;
  const owner = (shardId: string): WorkerHandle | undefined => handles.find((h) => h.alive && h.state !== 'killed' && h.held.has(shardId));
  const rows: ShardRow[] = shards.map((s) => {
    const shardId = s.ShardId!;
    const o = owner(shardId);
    return {
      shardId,
      status: ended.has(shardId) ? 'ended' : isOpen(s) ? 'open' : 'closed',
      owner: o?.workerId,
      records: handles.reduce((sum, h) => sum + (h.progress?.shards[shardId]?.records ?? 0), 0),
      lagMs: o?.progress?.shards[shardId]?.lagMs,
      ...(events.has(shardId) && { event: events.get(shardId)! }),
    };
  });
  return { elapsedMs: Date.now() - startedAt, put, processed, shards: rows, workers: handles.map((h) => ({ id: h.workerId, state: h.state, leases: h.held.size })) };
}

/** Runs the demo; resolves its exit code. */
async function runDemo(options: DemoOptions, interrupt: AbortSignal, onFleet: (fleet: Fleet) => void): Promise<number> {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const settings = workerSettings(options);
  const durationMs = options.durationS * 1000;
  const workDir = mkdtempSync(join(tmpdir(), 'kcl-demo-'));
  let stack: LocalStack | undefined;
  let kinesis: KinesisClient | undefined;
  let fleet: Fleet | undefined;
  let production: BackgroundProduction | undefined;
  let timeline: Timeline | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let web: WebDashboard | undefined;
  let keepDir = options.keep;
  try {
    out(
      `kcl-ts fleet demo: ${options.streams > 1 ? `${options.streams} streams of ` : ''}${options.shards} shard(s), ${options.workers} worker process(es), ${options.retrieval} retrieval, ${options.rate} records/s over ${options.keys} keys for ${options.durationS} s, chaos ${options.chaos ? 'on' : 'off'}`,
    );
    out(`journals and worker logs: ${workDir}`);
    out('starting the embedded Kinesis (Kinesis Mock) and DynamoDB (dynalite)…');
    stack = await startLocalStack();
    kinesis = stack.kinesisClient();
    const suffix = Date.now().toString(36);
    // Several streams: one multi-stream Worker per process consumes them all; the timeline
    // reshards the first one, and the dashboard names shards `stream/shard`.
    const multi = options.streams > 1;
    const streamNames = multi ? Array.from({ length: options.streams }, (_, i) => `kcl-demo-${suffix}-s${i + 1}`) : [`kcl-demo-${suffix}`];
    const streamName = streamNames[0]!;
    const applicationName = `kcl-demo-app-${suffix}`;
    for (const name of streamNames) {
      await createStreamAndWait(kinesis, name, options.shards);
      out(`stream ${name} is ACTIVE (Kinesis ${stack.kinesisEndpoint}, DynamoDB ${stack.dynamoDbEndpoint})`);
    }
    if (interrupt.aborted) return 130;

    const listAllShards = (k: KinesisClient): Promise<Shard[]> => listStreamsShards(k, streamNames);
    let shards = await listAllShards(kinesis);
    const ended = new Set<string>();
    const shardEvents = new Map<string, string>();
    const dashboard = new Dashboard();
    const k = kinesis;
    const refreshShards = (): void => void listAllShards(k).then((s) => (shards = s), () => undefined);

    fleet = new Fleet({
      dir: workDir,
      base: {
        applicationName,
        streams: streamNames,
        retrieval: options.retrieval,
        region: stack.region,
        credentials: stack.credentials,
        kinesisEndpoint: stack.kinesisEndpoint,
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        logLevel: options.logLevel,
        progressIntervalMs: 500,
        worker: settings,
      },
      onMessage: (h, m) => {
        if (m.type === 'event' && m.event === 'shardEnded' && m.shardId) {
          ended.add(m.shardId);
          refreshShards();
        }
        const text = describeMessage(h.workerId, m);
        if (text && m.type === 'event' && m.shardId) shardEvents.set(m.shardId, `${new Date(m.at).toISOString().slice(11, 19)} ${text}`);
        if (text) dashboard.event(text);
      },
      onExit: (h) => {
        const how = h.exit?.signal ? `killed by ${h.exit.signal}` : `exited with code ${h.exit?.code}`;
        if (h.state !== 'stopped' || h.exit?.code !== 0) dashboard.event(`${h.workerId} process ${how}`);
      },
    });
    onFleet(fleet);
    for (let i = 1; i <= options.workers; i++) fleet.spawn(`w${i}`);
    // The clock (producer, timeline) starts once the fleet is up, so latencies and the
    // timeline are not dominated by process start-up on a busy machine.
    const f = fleet;
    await waitUntil(() => f.workers.every((h) => h.state !== 'starting') || !f.workers.every((h) => h.alive), { timeoutMs: 90_000, intervalMs: 100, message: `workers started; see the logs in ${workDir}`, signal: interrupt }).catch((error: unknown) => {
      if (!interrupt.aborted) throw error;
    });
    const dead = f.workers.find((h) => !h.alive);
    if (dead) throw new Error(`worker ${dead.workerId} exited while starting; see ${join(workDir, `${dead.workerId}.log`)}`);
    if (interrupt.aborted) return 130;
    if (options.dashboard) {
      // The workers have created the lease table by now, so the dashboard's first scan finds it.
      web = await startWebDashboard({
        applicationName,
        streamName,
        kinesisEndpoint: stack.kinesisEndpoint,
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        region: stack.region,
        leaseDurationMs: options.leaseDurationMs,
        logFile: join(workDir, 'dashboard.log'),
      }).catch((error: unknown) => {
        dashboard.event(`the web dashboard did not start: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (web) dashboard.event(`web dashboard: ${web.url} (open it in a browser; it stops when the demo ends)`);
    }
    const startedAt = Date.now();
    dashboard.event(`all ${options.workers} worker(s) started; producing for ${options.durationS} s`);

    const producer = new KeyedProducer(kinesis, streamNames, { keys: options.keys });
    production = producer.startRate({ rate: options.rate });
    const render = (): void => {
      dashboard.render(dashboardState(dashboard.startedAt, producer.acked.length, f.processedIds().size, shards, ended, shardEvents, f));
    };
    ticker = setInterval(render, 1_000);
    if (options.chaos) {
      timeline = new Timeline({ kinesis, streamName, fleet, durationMs, onEvent: (t) => dashboard.event(t), onReshard: refreshShards });
      timeline.start(startedAt);
    }

    await delay(Math.max(0, startedAt + durationMs - Date.now()), undefined, { signal: interrupt }).catch(() => undefined);
    await timeline?.cancel();
    await production.stop();
    if (interrupt.aborted) return 130;
    const puts = producer.acked;
    dashboard.event(`producer stopped: ${puts.length} records put; waiting until all are processed…`);

    const drainStartedAt = Date.now();
    let missing = puts.length;
    await waitUntil(() => (missing = f.unprocessed(puts)) === 0, { timeoutMs: options.drainTimeoutS * 1000, intervalMs: 500, message: 'every put processed', signal: interrupt }).catch(() => undefined);
    if (interrupt.aborted) return 130;
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
    const forced = await fleet.terminateAll(settings.processing.shutdownTimeoutMs + 5_000);
    if (forced.length > 0) out(`  workers that had to be killed after the shutdown timeout: ${forced.join(', ')}`);

    const finalShards = await listAllShards(kinesis);
    const lineage = await listStreamsLineage(kinesis, streamNames);
    const dynamoDb = stack.dynamoDbClient();
    const leases = await scanLeaseTable(dynamoDb, applicationName).finally(() => dynamoDb.destroy());
    const journals = fleet.journals();
    const { overall: verdict, byStream } = checkInvariantsByStream({ journals, puts, shards: lineage, leases }, streamNames);
    const disruptions = { ...(timeline?.kill && { kill: timeline.kill }), ...(timeline?.gracefulStop && { gracefulStop: timeline.gracefulStop }) };
    const measurements = measure(journals, { ...disruptions, leaseDurationMs: options.leaseDurationMs });
    const childShards = lineage.filter((l) => l.parentShardId).length;
    out(formatVerdict(verdict, measurements, { leaseDurationMs: options.leaseDurationMs, childShards, ...(timeline && { timeline: timeline.outcomes }), ...(multi && { byStream }) }));
    if (options.json) {
      const report = {
        options,
        workerSettings: settings,
        streamName,
        ...(multi && { streams: streamNames, verdictByStream: Object.fromEntries(byStream) }),
        startedAt,
        shards: finalShards.map((s) => ({ shardId: s.ShardId, open: isOpen(s), parents: [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean) })),
        chaos: timeline?.outcomes ?? [],
        ...disruptions,
        workers: fleet.workers.map((h) => ({ id: h.workerId, state: h.state, exit: h.exit })),
        verdict,
        measurements,
      };
      writeFileSync(resolve(options.json), `${JSON.stringify(report, null, 2)}\n`);
      out(`verdict written to ${resolve(options.json)}`);
    }
    if (!verdict.ok) keepDir = true;
    return verdict.ok ? 0 : 1;
  } catch (error) {
    keepDir = true;
    throw error;
  } finally {
    if (ticker) clearInterval(ticker);
    await timeline?.cancel().catch(() => undefined);
    await production?.stop().catch(() => undefined);
    if (fleet) await fleet.terminateAll(interrupt.aborted ? 3_000 : 15_000).catch(() => fleet?.killAll());
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
    void fleet?.killAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort: never leave worker processes behind.
  // (The spawner also SIGKILLs every child it forked when this process exits.)
  try {
    const code = await runDemo(options, interrupt.signal, (f) => (fleet = f));
    process.exit(interrupt.signal.aborted ? 130 : code);
  } catch (error) {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

await main();
