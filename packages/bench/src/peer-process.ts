/**
 * Entry of a peer child process: one consumer implementation (`kcl-ts`, `lifion`, `raw`; see
 * the package README) alone in its process, measuring its own CPU and memory. Its
 * {@link PeerChildConfig} arrives as JSON in `KCL_BENCH_CHILD_CONFIG`; it answers `sample`
 * requests with a {@link PeerSample} and reports batches (latency) and `done` (catch-up).
 * Every implementation reads from TRIM_HORIZON; memory is sampled every 250 ms.
 * @module
 */
import './quiet-warnings.js';
import { GetRecordsCommand, GetShardIteratorCommand, type Shard } from '@aws-sdk/client-kinesis';
import { createRequire } from 'node:module';
import { Worker, type ProcessRecordsInput, type RecordProcessorCheckpointer, type ShardRecordProcessor } from '@kcl-ts/kcl';
import { createLocalKinesisClient } from '@kcl-ts/local';
import { listShards } from '@kcl-ts/fleet/observe';
import { decodePayload, type SeenRecord } from '@kcl-ts/fleet/payload';
import { exitFatal, exitGracefully, sendToParent } from '@kcl-ts/fleet/ipc';
import { workerOptions } from '@kcl-ts/fleet/worker-options';
import { CHILD_CONFIG_ENV, type ChildMessage, type PeerChildConfig, type PeerSample } from './messages.js';

const config = JSON.parse(process.env[CHILD_CONFIG_ENV] ?? 'null') as PeerChildConfig | null;
if (!config) throw new Error(`${CHILD_CONFIG_ENV} is not set: this script is started by the bench (dist/main.js)`);

const send: (message: ChildMessage, callback?: () => void) => void = sendToParent;

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

// --- measurement -------------------------------------------------------------------------
const cpuStart = process.cpuUsage();
let maxRss = 0;
let maxHeapUsed = 0;
let processed = 0;
let firstRecordAt = 0;
let lastRecordAt = 0;
let startAt = 0;
let cpuAtStart = 0;
let cpuAtFirstBatch = 0;
let firstBatchRecords = 0;
let doneSent = false;

const cpuUs = (): number => {
  const u = process.cpuUsage(cpuStart);
  return u.user + u.system;
};
const sampleMemory = (): void => {
  const m = process.memoryUsage();
  if (m.rss > maxRss) maxRss = m.rss;
  if (m.heapUsed > maxHeapUsed) maxHeapUsed = m.heapUsed;
};
const memoryTimer = setInterval(sampleMemory, 250);

function sample(resetMax: boolean): PeerSample {
  sampleMemory();
  const m = process.memoryUsage();
  const s: PeerSample = { at: Date.now(), cpuUs: cpuUs(), rss: m.rss, heapUsed: m.heapUsed, maxRss, maxHeapUsed, processed };
  if (resetMax) {
    maxRss = m.rss;
    maxHeapUsed = m.heapUsed;
  }
  return s;
}

process.on('message', (raw: unknown) => {
  const m = raw as { type?: string; id?: number; resetMax?: boolean };
  if (m.type === 'sample' && typeof m.id === 'number') send({ type: 'sample', id: m.id, sample: sample(m.resetMax === true) });
});

/** Called by every implementation for every delivered batch of `count` records (`payloads` only read when records are reported). */
function delivered(shardId: string, count: number, payloads: () => Iterable<unknown>): void {
  const at = Date.now();
  if (config!.report === 'records') {
    const seen: SeenRecord[] = [];
    for (const data of payloads()) {
      const p = decodePayload(data instanceof Uint8Array ? data : Buffer.from(String(data)));
      if (p?.t !== undefined) seen.push([p.k, p.n, p.t]);
    }
    send({ type: 'batch', shardId, at, count, records: seen });
  }
  processed += count;
  if (count > 0) {
    if (firstRecordAt === 0) {
      firstRecordAt = at;
      cpuAtFirstBatch = cpuUs() - cpuAtStart;
      firstBatchRecords = count;
    }
    lastRecordAt = at;
  }
  if (!doneSent && config!.expectedRecords !== undefined && processed >= config!.expectedRecords) {
    doneSent = true;
    send({ type: 'done', startAt, firstRecordAt, lastRecordAt, records: processed, cpuUs: cpuUs() - cpuAtStart, cpuToFirstBatchUs: cpuAtFirstBatch, firstBatchRecords, maxRss, maxHeapUsed });
  }
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let stop: () => Promise<void> = async () => undefined;

// --- kcl-ts ------------------------------------------------------------------------------
async function runKcl(c: PeerChildConfig): Promise<void> {
  const checkpoint = async ({ checkpointer }: { readonly checkpointer: RecordProcessorCheckpointer }): Promise<void> => checkpointer.checkpoint();
  const processor = (shardId: string): ShardRecordProcessor => ({
    initialize: () => undefined,
    async processRecords(input: ProcessRecordsInput): Promise<void> {
      delivered(shardId, input.records.length, () => input.records.map((r) => r.data));
      await checkpoint(input);
    },
    shardEnded: checkpoint,
    shutdownRequested: checkpoint,
    leaseLost: () => undefined,
  });
  const worker = new Worker(
    workerOptions({
      applicationName: c.applicationName,
      streams: [c.streamName],
      ...(c.retrieval && { retrieval: c.retrieval }),
      processorFactory: processor,
      initialPosition: 'TRIM_HORIZON',
      clients: { region: c.region, kinesisEndpoint: c.kinesisEndpoint, dynamoDbEndpoint: c.dynamoDbEndpoint, credentials },
    }),
  );
  worker.on('error', (error) => send({ type: 'error', at: Date.now(), detail: describe(error) }));
  stop = () => worker.shutdown();
  await worker.start();
}

// --- lifion-kinesis ----------------------------------------------------------------------
interface LifionConsumer {
  on(event: 'data', fn: (chunk: { shardId: string; records: { data: unknown }[] }) => void): void;
  on(event: 'error', fn: (error: unknown) => void): void;
  startConsumer(): Promise<void>;
  stopConsumer(): void;
}
type LifionConstructor = new (options: Record<string, unknown>) => LifionConsumer;

async function runLifion(c: PeerChildConfig): Promise<void> {
  process.env['AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE'] ??= '1';
  // lifion-kinesis is CommonJS (a devDependency of this private package).
  const Kinesis = createRequire(import.meta.url)('lifion-kinesis') as LifionConstructor;
  const aws = { endpoint: c.kinesisEndpoint, region: c.region, ...credentials };
  const { dynamoDbTableName, ...options } = c.options ?? {};
  const consumer = new Kinesis({
    ...aws,
    streamName: c.streamName,
    consumerGroup: c.applicationName,
    createStreamIfNeeded: false,
    initialPositionInStream: 'TRIM_HORIZON',
    // Deliver bytes, as kcl-ts does (its default "auto" would also JSON.parse every payload).
    shouldParseJson: false,
    dynamoDb: { endpoint: c.dynamoDbEndpoint, region: c.region, ...credentials, tableName: dynamoDbTableName ?? c.applicationName },
    ...options,
  });
  consumer.on('data', ({ shardId, records }) => {
    delivered(shardId, records.length, () => records.map((r) => r.data));
  });
  consumer.on('error', (error) => send({ type: 'error', at: Date.now(), detail: describe(error) }));
  stop = async () => consumer.stopConsumer();
  await consumer.startConsumer();
}

// --- raw AWS SDK loop ----------------------------------------------------------------------
/**
 * The floor: GetShardIterator(TRIM_HORIZON), then GetRecords (Limit 10,000) in a tight loop per
 * shard, all shards concurrently, until the shard is caught up (an empty batch with
 * MillisBehindLatest 0) or every expected record was read.
 */
async function runRaw(c: PeerChildConfig): Promise<void> {
  const client = createLocalKinesisClient({ endpoint: c.kinesisEndpoint, region: c.region });
  const expected = c.expectedRecords ?? Number.POSITIVE_INFINITY;
  const readShard = async ({ ShardId }: Shard): Promise<void> => {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: c.streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator && processed < expected) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const records = out.Records ?? [];
      // Touch every payload, as a consumer would.
      let bytes = 0;
      for (const r of records) bytes += r.Data?.byteLength ?? 0;
      if (bytes < 0) throw new Error('unreachable');
      if (records.length > 0) delivered(ShardId!, records.length, () => records.map((r) => r.Data));
      iterator = out.NextShardIterator;
      if (records.length === 0 && out.MillisBehindLatest === 0) break;
    }
  };
  await Promise.all((await listShards(client, c.streamName)).map(readShard));
  client.destroy();
  if (!doneSent) send({ type: 'error', at: Date.now(), detail: `raw loop read ${processed} records, expected ${c.expectedRecords}` });
}

const finish = exitGracefully(async () => {
  await stop().catch((error: unknown) => send({ type: 'error', at: Date.now(), detail: `stop: ${describe(error)}` }));
  clearInterval(memoryTimer);
}, 10_000);
process.on('SIGTERM', () => finish(0));
process.on('disconnect', () => finish(0));

async function main(c: PeerChildConfig): Promise<void> {
  startAt = Date.now();
  cpuAtStart = cpuUs();
  send({ type: 'starting', at: startAt });
  if (c.impl === 'kcl-ts') await runKcl(c);
  else if (c.impl === 'lifion') await runLifion(c);
  else await runRaw(c);
  send({ type: 'started', at: Date.now() });
}

main(config).catch((error: unknown) => exitFatal(describe(error)));
