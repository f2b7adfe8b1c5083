import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLeanMiddleware } from '../src/lean-client.js';

/** An HTTP server that records each request's headers and answers an empty list. */
describe('withLeanMiddleware', () => {
  const seen: IncomingHttpHeaders[] = [];
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify({ StreamNames: [], HasMoreStreams: false, TableNames: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const settings = () => ({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
    customUserAgent: [['my-app', '1.2 beta']] as [string, string][],
  });

  /** The headers of two calls of `client`. */
  async function headersOf(client: KinesisClient): Promise<IncomingHttpHeaders[]> {
    seen.length = 0;
    await client.send(new ListStreamsCommand({}));
    await client.send(new ListStreamsCommand({}));
    client.destroy();
    return [...seen];
  }

  it('drops the retry middleware (no invocation id, no attempt header) and keeps the SDK user agent but its per-call feature list', async () => {
    const [plain] = await headersOf(new KinesisClient(settings()));
    const lean = await headersOf(withLeanMiddleware(new KinesisClient(settings())));
    expect(plain!['amz-sdk-invocation-id']).toBeDefined(); // what the SDK sends by default
    for (const headers of lean) {
      expect(headers['amz-sdk-invocation-id']).toBeUndefined();
      expect(headers['amz-sdk-request']).toBeUndefined();
      expect(headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 /); // still signed
    }
    const withoutFeatures = (ua: string | undefined) => ua?.split(' ').filter((s) => !s.startsWith('m/')).join(' ');
    expect(lean[0]!['user-agent']).toBe(withoutFeatures(plain!['user-agent']));
    expect(lean[0]!['user-agent']).toContain('my-app/1.2-beta');
    expect(lean[0]!['user-agent']).toMatch(/api\/kinesis#\d/);
    expect(lean[0]!['x-amz-user-agent']).toBe(plain!['x-amz-user-agent']);
    expect(lean[1]!['user-agent']).toBe(lean[0]!['user-agent']);
  });

  it('keeps the SDK middleware it cannot override (another step or priority in some SDK release), and the client works', async () => {
    const client = new KinesisClient(settings());
    client.middlewareStack.remove('retryMiddleware');
    client.middlewareStack.add((next) => next, { step: 'finalizeRequest', name: 'retryMiddleware', priority: 'low' });
    expect(() => withLeanMiddleware(client)).not.toThrow();
    const headers = await headersOf(client);
    expect(headers).toHaveLength(2);
    expect(headers[0]!['user-agent']).toMatch(/api\/kinesis#\d/);
  });

  it('works on a DynamoDB client too', async () => {
    seen.length = 0;
    const client = withLeanMiddleware(new DynamoDBClient(settings()));
    await client.send(new ListTablesCommand({}));
    client.destroy();
    expect(seen[0]!['amz-sdk-invocation-id']).toBeUndefined();
    expect(seen[0]!['user-agent']).toMatch(/api\/dynamodb#\d/);
  });
});
