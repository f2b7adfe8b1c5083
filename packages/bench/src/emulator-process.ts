/**
 * Entry of the emulator child process: kinesalite and dynalite (from `@kcl-ts/local`) plus a
 * front for kinesalite (the chaos suite's fault proxy) whose {@link CallCounter} counts
 * requests per operation and GetRecords calls per (stream, shard), and on request enforces
 * the Kinesis limit of 5 GetRecords calls per second per shard.
 * @module
 */
import './quiet-warnings.js';
import { startFaultProxy } from '@kcl-ts/chaos/fault-proxy';
import { startDynalite, startKinesalite } from '@kcl-ts/local';
import { CallCounter } from './call-counter.js';
import type { EmulatorEndpoints, EmulatorRequest } from './emulators.js';

const counter = new CallCounter();

function reply(message: object): void {
  if (process.send && process.connected) process.send(message);
}

async function main(): Promise<void> {
  process.env['AWS_REGION'] ??= 'us-east-1';
  const shardLimit = Number(process.env['KCL_BENCH_SHARD_LIMIT'] ?? 2_000);
  const [kinesalite, dynalite] = await Promise.all([startKinesalite({ shardLimit }), startDynalite()]);
  const front = await startFaultProxy({ target: kinesalite.endpoint, kind: 'kinesis', inspect: (operation, body) => counter.inspect(operation, body, performance.now()) });
  process.on('message', (raw: unknown) => {
    const m = raw as EmulatorRequest;
    if (m.type === 'counts') reply({ id: m.id, counts: counter.snapshot(m.stream) });
    else if (m.type === 'enforce-limit') counter.enforceLimit = m.on;
    else counter.forget(m.stream);
    if (m.type !== 'counts') reply({ id: m.id });
  });
  const stop = (): void => {
    void Promise.allSettled([front.stop(), kinesalite.stop(), dynalite.stop()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  const ready: EmulatorEndpoints = { type: 'ready', kinesisEndpoint: front.endpoint, directKinesisEndpoint: kinesalite.endpoint, dynamoDbEndpoint: dynalite.endpoint };
  reply(ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
