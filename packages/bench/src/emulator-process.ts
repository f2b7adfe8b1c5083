/**
 * Entry of the emulator child process: kinesalite and dynalite (from `@kcl-ts/local`) plus a
 * thin HTTP front for kinesalite that counts requests per operation and GetRecords calls per
 * (stream, shard), reading the shard from the iterator itself (kinesalite's iterators are
 * AES-encrypted with a fixed, public key) so the count costs the clients nothing, and on
 * request enforces the Kinesis limit of 5 GetRecords calls per second per shard.
 * @module
 */
import './quiet-warnings.js';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDynalite, startKinesalite } from '@kcl-ts/local';
import { CallCounter, kinesaliteIteratorShard } from './call-counter.js';
import type { EmulatorEndpoints, EmulatorRequest } from './emulators.js';

const TARGET_PREFIX = 'Kinesis_20131202.';
const counter = new CallCounter();

/** The JSON body of a request (empty when it is not JSON). */
function input(body: Buffer): { StreamName?: string; StreamARN?: string; ShardIterator?: string } {
  try {
    return JSON.parse(body.toString('utf8')) as ReturnType<typeof input>;
  } catch {
    return {};
  }
}

function startFront(kinesalitePort: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const upstream = request(
      { host: '127.0.0.1', port: kinesalitePort, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      if (operation === 'GetRecords') {
        const shard = kinesaliteIteratorShard(input(body).ShardIterator ?? '');
        if (shard && !counter.admitGetRecords(shard[0], shard[1], performance.now())) {
          const message = JSON.stringify({ __type: 'ProvisionedThroughputExceededException', message: `Rate exceeded for shard ${shard[1]} in stream ${shard[0]}.` });
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `throttled-${Date.now()}`, 'content-length': Buffer.byteLength(message) });
          res.end(message);
          return;
        }
      } else if (operation && operation !== 'PutRecords' && operation !== 'PutRecord') {
        // (PutRecords/PutRecord: large bodies, their stream is not needed)
        const { StreamName, StreamARN } = input(body);
        const stream = StreamName ?? StreamARN?.split('/').pop();
        if (stream) counter.operation(stream, operation);
      }
      forward(req, res, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function reply(message: object): void {
  if (process.send && process.connected) process.send(message);
}

async function main(): Promise<void> {
  process.env['AWS_REGION'] ??= 'us-east-1';
  const shardLimit = Number(process.env['KCL_BENCH_SHARD_LIMIT'] ?? 2_000);
  const [kinesalite, dynalite] = await Promise.all([startKinesalite({ shardLimit }), startDynalite()]);
  const frontPort = await startFront(kinesalite.port);
  process.on('message', (raw: unknown) => {
    const m = raw as EmulatorRequest;
    if (m.type === 'counts') reply({ id: m.id, counts: counter.snapshot(m.stream) });
    else if (m.type === 'enforce-limit') counter.enforceLimit = m.on;
    else counter.forget(m.stream);
    if (m.type !== 'counts') reply({ id: m.id });
  });
  const stop = (): void => {
    void Promise.allSettled([kinesalite.stop(), dynalite.stop()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  const ready: EmulatorEndpoints = { type: 'ready', kinesisEndpoint: `http://127.0.0.1:${frontPort}`, directKinesisEndpoint: kinesalite.endpoint, dynamoDbEndpoint: dynalite.endpoint };
  reply(ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
