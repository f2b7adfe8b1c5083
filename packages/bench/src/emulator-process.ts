/**
 * Entry of the emulator child process: kinesalite and dynalite (from `@kcl-ts/local`) plus a
 * front for kinesalite (the chaos suite's fault proxy) whose {@link CallCounter} counts
 * requests per operation and GetRecords calls per (stream, shard), and on request enforces
 * the Kinesis limit of 5 GetRecords calls per second per shard.
 * @module
 */
import './quiet-warnings.js';
import { startFaultProxy } from '@kcl-ts/chaos/fault-proxy';
import { exitGracefully, sendToParent } from '@kcl-ts/fleet/ipc';
import { startDynalite, startKinesalite } from '@kcl-ts/local';
import { CallCounter } from './call-counter.js';
import type { EmulatorEndpoints, EmulatorRequest } from './emulators.js';

const counter = new CallCounter();

async function main(): Promise<void> {
  process.env['AWS_REGION'] ??= 'us-east-1';
  const shardLimit = Number(process.env['KCL_BENCH_SHARD_LIMIT'] ?? 2_000);
  const [kinesalite, dynalite] = await Promise.all([startKinesalite({ shardLimit }), startDynalite()]);
  const front = await startFaultProxy({ target: kinesalite.endpoint, kind: 'kinesis', inspect: (operation, body) => counter.inspect(operation, body, performance.now()) });
  process.on('message', (raw: unknown) => {
    const m = raw as EmulatorRequest;
    if (m.type === 'counts') sendToParent({ id: m.id, counts: counter.snapshot(m.stream) });
    else if (m.type === 'enforce-limit') counter.enforceLimit = m.on;
    else counter.forget(m.stream);
    if (m.type !== 'counts') sendToParent({ id: m.id });
  });
  const stop = exitGracefully(() => Promise.allSettled([front.stop(), kinesalite.stop(), dynalite.stop()]), 3_000);
  for (const signal of ['SIGTERM', 'disconnect'] as const) process.on(signal, () => stop(0));
  const ready: EmulatorEndpoints = { type: 'ready', kinesisEndpoint: front.endpoint, directKinesisEndpoint: kinesalite.endpoint, dynamoDbEndpoint: dynalite.endpoint };
  sendToParent(ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
