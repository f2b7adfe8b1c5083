import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { classifyAwsError } from '@kcl-ts/processor';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Signer, withDirectCalls } from '../src/direct-calls.js';
import { withDirectGetRecords, withLeanMiddleware } from '../src/lean-client.js';
import { countSdkCalls } from './sdk-reader.js';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const sha256 = function Sha256(this: unknown, secret?: string | Uint8Array) {
  const hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  return { update: (data: string | Uint8Array) => void hash.update(data), digest: async () => new Uint8Array(hash.digest()) };
} as unknown as ConstructorParameters<typeof SignatureV4>[0]['sha256'];

/** The SDK's own SigV4 signer: the reference the direct calls' signatures are checked against. */
async function sdkAuthorization(headers: Record<string, string>, body: string, credentials: typeof CREDENTIALS & { sessionToken?: string }, region: string, service: string, date: Date): Promise<string> {
  const signer = new SignatureV4({ credentials, region, service, sha256, uriEscapePath: true, applyChecksum: false });
  const signed = await signer.sign({ method: 'POST', protocol: 'https:', hostname: headers['host']!, path: '/', query: {}, headers: { ...headers }, body }, { signingDate: date });
  return signed.headers['authorization']!;
}

/** Epoch milliseconds of an `x-amz-date` (`20261129T235958Z`). */
const fromAmzDate = (d: string): number => Date.parse(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);

describe('Signer', () => {
  const template = (headers: Record<string, string>, payloadHashHeader = false) => ({ path: '/', region: 'eu-west-1', service: 'kinesis', headers, payloadHashHeader });
  const base = { host: 'kinesis.eu-west-1.amazonaws.com', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.GetRecords', 'user-agent': 'aws-sdk-js/3 ua/2.1', 'x-amz-user-agent': 'aws-sdk-js/3' };

  it.each([
    ['a GetRecords call', base, '{"ShardIterator":"AAAA","Limit":10000}', {}],
    ['a session token', base, '{"ShardIterator":"AAAA"}', { sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDO+token==' }],
    ['the payload hash header, a non-ASCII body and header values with runs of spaces', { ...base, 'x-amz-target': '  DynamoDB_20120810.UpdateItem  ', 'x-custom': 'a   b\tc' }, '{"Key":{"leaseKey":{"S":"é日本 🙂"}}}', {}],
  ])('signs %s as the SDK signer does', async (_name, headers, body, extra) => {
    const credentials = { ...CREDENTIALS, ...extra };
    const date = new Date('2026-11-29T23:59:58.123Z');
    const payloadHashHeader = _name.includes('payload hash');
    const mine = new Signer().sign({ ...template(headers, payloadHashHeader), service: payloadHashHeader ? 'dynamodb' : 'kinesis' }, body, credentials, date);
    const { authorization, ...sent } = mine;
    expect(sent['x-amz-date']).toBe('20261129T235958Z');
    expect(sent['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(sent['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(sent['x-amz-content-sha256']).toBe(payloadHashHeader ? createHash('sha256').update(body).digest('hex') : undefined);
    expect(authorization).toBe(await sdkAuthorization(sent as Record<string, string>, body, credentials, 'eu-west-1', payloadHashHeader ? 'dynamodb' : 'kinesis', date));
  });

  it('derives a new signing key on a new day and for rotated keys', async () => {
    const signer = new Signer();
    const body = '{}';
    for (const [credentials, iso] of [
      [CREDENTIALS, '2026-11-29T10:00:00Z'],
      [CREDENTIALS, '2026-11-30T00:00:01Z'],
      [{ ...CREDENTIALS, secretAccessKey: 'rotated-secret' }, '2026-11-30T00:00:02Z'],
    ] as const) {
      const date = new Date(iso);
      const { authorization, ...sent } = signer.sign(template(base), body, credentials, date);
      expect(authorization).toBe(await sdkAuthorization(sent as Record<string, string>, body, credentials, 'eu-west-1', 'kinesis', date));
    }
  });
});

/** One request as the test server saw it. */
interface Seen {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Its signature checked with the SDK's signer, from what arrived. */
  readonly signatureValid: boolean;
}

describe('withDirectCalls', () => {
  const seen: Seen[] = [];
  /** Each request gets the next canned answer (else an empty GetRecords page). */
  const answers: { status: number; body: string; headers?: Record<string, string> }[] = [];
  let server: Server;
  let endpoint: string;
  beforeEach(() => {
    seen.length = 0;
    answers.length = 0;
  });
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers;
        const authorization = String(headers['authorization'] ?? '');
        const [, region = '', service = ''] = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(authorization) ?? [];
        const signedNames = (/SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? '').split(';');
        const signed = Object.fromEntries(signedNames.map((n) => [n, String(headers[n] ?? '')]));
        const date = new Date(fromAmzDate(String(headers['x-amz-date'] ?? '')));
        const token = headers['x-amz-security-token'];
        void sdkAuthorization(signed, body, { ...CREDENTIALS, ...(typeof token === 'string' && { sessionToken: token }) }, region, service, date).then((expected) => {
          seen.push({ headers, body, signatureValid: expected === authorization });
          const answer = answers.shift() ?? { status: 200, body: JSON.stringify({ Records: [], NextShardIterator: 'next', MillisBehindLatest: 0 }) };
          res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${seen.length}`, ...answer.headers });
          res.end(answer.body);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const settings = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = CREDENTIALS) => ({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1, cacheMiddleware: true, requestHandler: new NodeHttpHandler() });

  /** Headers that stay the same from call to call. */
  const lasting = (headers: IncomingHttpHeaders) => {
    const { authorization: _a, 'x-amz-date': _d, 'x-amz-content-sha256': _h, 'content-length': _l, connection: _c, ...rest } = headers;
    return rest;
  };

  it('sends GetRecords through the SDK once, then directly: the same request, signed, and the same output', async () => {
    const kinesis = withDirectCalls(withDirectGetRecords(withLeanMiddleware(new KinesisClient(settings({ ...CREDENTIALS, sessionToken: 'session-token' })))), ['GetRecords']);
    const sdkCalls = countSdkCalls(kinesis);
    const page = { Records: [{ SequenceNumber: '1', Data: Buffer.from('hello').toString('base64'), PartitionKey: 'k', ApproximateArrivalTimestamp: 1_732_900_000.5 }], NextShardIterator: 'next', MillisBehindLatest: 7 };
    answers.push(...[1, 2, 3].map(() => ({ status: 200, body: JSON.stringify(page) })));
    const outputs = [];
    for (const limit of [100, 200, 300]) outputs.push(await kinesis.send(new GetRecordsCommand({ ShardIterator: 'AAAA', Limit: limit })));
    kinesis.destroy();
    expect(sdkCalls()).toBe(1);
    expect(seen.map((s) => s.signatureValid)).toStrictEqual([true, true, true]);
    expect(seen.map((s) => s.body)).toStrictEqual([100, 200, 300].map((l) => JSON.stringify({ ShardIterator: 'AAAA', Limit: l })));
    expect(lasting(seen[1]!.headers)).toStrictEqual(lasting(seen[0]!.headers));
    expect(lasting(seen[2]!.headers)).toStrictEqual(lasting(seen[0]!.headers));
    expect(seen[2]!.headers['x-amz-security-token']).toBe('session-token');
    const { $metadata: first, ...firstOutput } = outputs[0]!;
    for (const { $metadata, ...output } of outputs.slice(1)) {
      expect(output).toStrictEqual(firstOutput);
      expect(Object.keys($metadata).filter((k) => k !== 'attempts' && k !== 'totalRetryDelay')).toStrictEqual(Object.keys(first).filter((k) => k !== 'attempts' && k !== 'totalRetryDelay'));
      expect($metadata.httpStatusCode).toBe(200);
    }
    expect(outputs[2]!.$metadata.requestId).toBe('req-3');
    expect(outputs[2]!.Records?.[0]?.Data).toStrictEqual(new Uint8Array(Buffer.from('hello')));
  });

  it('leaves operations it was not given, and calls whose input is not plain JSON, to the SDK', async () => {
    const dynamo = withDirectCalls(new DynamoDBClient(settings()), ['PutItem']);
    const sdkCalls = countSdkCalls(dynamo);
    answers.push(...[1, 2, 3, 4].map(() => ({ status: 200, body: '{}' })));
    const item = (extra: object) => ({ TableName: 'leases', Item: { leaseKey: { S: 'shardId-0' }, ...extra } });
    await dynamo.send(new PutItemCommand(item({})));
    await dynamo.send(new PutItemCommand(item({ state: { B: new Uint8Array([1, 2, 3]) } })));
    await dynamo.send(new PutItemCommand(item({ counter: { N: '2' } })));
    await dynamo.send(new PutItemCommand({ ...item({}), ExpressionAttributeNames: null } as unknown as ConstructorParameters<typeof PutItemCommand>[0]));
    expect(sdkCalls()).toBe(3); // the first (template), the one with bytes, the one with a null
    expect(JSON.parse(seen[1]!.body).Item.state).toStrictEqual({ B: 'AQID' }); // base64, as the SDK writes bytes
    const kinesis = withDirectCalls(new KinesisClient(settings()), ['GetShardIterator']);
    const kinesisSdkCalls = countSdkCalls(kinesis);
    answers.push(...[1, 2].map(() => ({ status: 200, body: JSON.stringify({ ShardIterator: 'it' }) })));
    await kinesis.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-0', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(1_000) }));
    await kinesis.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-0', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(1_000) }));
    expect(kinesisSdkCalls()).toBe(2); // a date in the input: never direct
    expect(JSON.parse(seen.at(-1)!.body).Timestamp).toBe(1); // epoch seconds, as the SDK writes dates
    dynamo.destroy();
    kinesis.destroy();
    expect(seen.every((s) => s.signatureValid)).toBe(true);
  });

  it('takes one template per table: a call on another table goes through the SDK first', async () => {
    const dynamo = withDirectCalls(new DynamoDBClient(settings()), ['UpdateItem']);
    const sdkCalls = countSdkCalls(dynamo);
    answers.push(...[1, 2, 3, 4].map(() => ({ status: 200, body: '{}' })));
    for (const table of ['a', 'a', 'b', 'b']) await dynamo.send(new UpdateItemCommand({ TableName: table, Key: { leaseKey: { S: 'k' } }, UpdateExpression: 'SET c = :c', ExpressionAttributeValues: { ':c': { N: '1' } } }));
    dynamo.destroy();
    expect(sdkCalls()).toBe(2);
  });

  it("turns error responses into the SDK's typed exceptions, and corrects the clock offset from the server's time", async () => {
    const dynamo = withDirectCalls(new DynamoDBClient(settings()), ['UpdateItem']);
    const update = () => dynamo.send(new UpdateItemCommand({ TableName: 'leases', Key: { leaseKey: { S: 'k' } }, UpdateExpression: 'SET c = :c', ConditionExpression: 'c = :old', ExpressionAttributeValues: { ':c': { N: '2' }, ':old': { N: '1' } } }));
    const failed = { status: 400, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' }) };
    answers.push(failed); // through the SDK (the template)
    const viaSdk = await update().catch((e: unknown) => e);
    const hourAhead = new Date(Date.now() + 3_600_000).toUTCString();
    answers.push({ ...failed, headers: { date: hourAhead } }, { status: 200, body: '{}' });
    const direct = await update().catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(ConditionalCheckFailedException);
    expect(viaSdk).toBeInstanceOf(ConditionalCheckFailedException);
    const fields = (e: unknown) => {
      const { name, message, $fault, $metadata } = e as ConditionalCheckFailedException;
      return { name, message, $fault, status: $metadata.httpStatusCode };
    };
    expect(fields(direct)).toStrictEqual(fields(viaSdk));
    expect((direct as { $response?: { statusCode: number } }).$response?.statusCode).toBe(400);
    const offset = (dynamo.config as unknown as { systemClockOffset: number }).systemClockOffset;
    expect(Math.abs(offset - 3_600_000)).toBeLessThan(60_000);
    await update();
    dynamo.destroy();
    const hoursAhead = (fromAmzDate(String(seen.at(-1)!.headers['x-amz-date'])) - Date.now()) / 3_600_000;
    expect(hoursAhead).toBeGreaterThan(0.9); // the next call is signed at the server's time
    expect(seen.every((s) => s.signatureValid)).toBe(true);
  });
  it('classifies errors as the SDK path does: an HTML 503 from a proxy is transient, a clock-skew rejection is retried', async () => {
    const failures: { status: number; body: string; headers: Record<string, string> }[] = [
      { status: 503, body: '<html><body>Service Unavailable</body></html>', headers: { 'content-type': 'text/html' } },
      { status: 400, body: JSON.stringify({ __type: 'InvalidSignatureException', message: 'Signature not yet current: 20261129T120000Z is still later than 20261129T115000Z' }), headers: { date: new Date(Date.now() - 3_600_000).toUTCString() } },
    ];
    for (const failure of failures) {
      const viaSdk = withDirectCalls(new KinesisClient(settings()), []);
      const direct = withDirectCalls(new KinesisClient(settings()), ['GetRecords']);
      answers.push({ status: 200, body: '{"Records":[]}' }); // the direct client's template
      await direct.send(new GetRecordsCommand({ ShardIterator: 'AAAA' }));
      answers.push(failure, failure);
      const sdkError = await viaSdk.send(new GetRecordsCommand({ ShardIterator: 'AAAA' })).catch((e: unknown) => e);
      const directError = await direct.send(new GetRecordsCommand({ ShardIterator: 'AAAA' })).catch((e: unknown) => e);
      viaSdk.destroy();
      direct.destroy();
      expect(classifyAwsError(sdkError)).toBe('transient');
      expect(classifyAwsError(directError)).toBe('transient');
      const meta = (e: unknown) => (e as { $metadata: { httpStatusCode?: number; clockSkewCorrected?: boolean } }).$metadata;
      expect(meta(directError).httpStatusCode).toBe(failure.status);
      expect(meta(directError).clockSkewCorrected).toBe(meta(sdkError).clockSkewCorrected);
    }
  });

  it('keeps a template only after its call succeeded, and learns it again after an authentication error', async () => {
    const kinesis = withDirectCalls(new KinesisClient(settings()), ['GetRecords']);
    const sdkCalls = countSdkCalls(kinesis);
    const denied = { status: 400, body: JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }) };
    const ok = { status: 200, body: '{"Records":[]}' };
    answers.push(denied, ok, ok, denied, ok, ok);
    const calls: unknown[] = [];
    for (let i = 0; i < 6; i++) calls.push(await kinesis.send(new GetRecordsCommand({ ShardIterator: 'AAAA' })).catch((e: unknown) => e));
    kinesis.destroy();
    expect(calls.map((c) => (c instanceof Error ? c.name : 'ok'))).toStrictEqual(['UnrecognizedClientException', 'ok', 'ok', 'UnrecognizedClientException', 'ok', 'ok']);
    // SDK: the failed first call, the second (template), then the call after the direct one was refused.
    expect(sdkCalls()).toBe(3);
  });

  it('signs with the credentials of each call: a session token that goes away is not sent', async () => {
    let token: string | undefined = 'first-token';
    // A provider marked `memoized` is asked on every call (the SDK's own caching is skipped).
    const credentials = Object.assign(async () => ({ ...CREDENTIALS, ...(token !== undefined && { sessionToken: token }) }), { memoized: true });
    const kinesis = withDirectCalls(new KinesisClient({ ...settings(), credentials }), ['GetRecords']);
    const sdkCalls = countSdkCalls(kinesis);
    await kinesis.send(new GetRecordsCommand({ ShardIterator: 'AAAA' }));
    token = undefined; // the credentials are refreshed without a session token
    for (let i = 0; i < 2; i++) await kinesis.send(new GetRecordsCommand({ ShardIterator: 'AAAA' }));
    kinesis.destroy();
    expect(sdkCalls()).toBe(1);
    expect(seen.map((s) => s.headers['x-amz-security-token'])).toStrictEqual(['first-token', undefined, undefined]);
    expect(seen.every((s) => s.signatureValid)).toBe(true);
  });
});
