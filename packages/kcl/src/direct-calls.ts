/**
 * The hot calls of the clients the Worker builds itself, sent without the AWS SDK's middleware
 * stack: GetRecords, and the lease table's item reads and writes.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createHash, createHmac } from 'node:crypto';

type Headers = Record<string, string>;
type Input = Record<string, unknown>;

/** What a signed request the SDK sent says about where and how to send the next one. */
interface Template {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  /** The SDK's headers but for those of one call (date, signature, token, length, trace id). */
  readonly headers: Readonly<Headers>;
  readonly region: string;
  readonly service: string;
  /** The SDK sent the payload's hash as `x-amz-content-sha256` (and signed it): so do we. */
  readonly payloadHashHeader: boolean;
}

/** An operation as the SDK's protocol reads a response for it. */
interface Operation {
  readonly name: string;
  readonly namespace: unknown;
  readonly traits: unknown;
  readonly input: unknown;
  readonly output: unknown;
}

interface RawResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The parts of a resolved client config used here (the SDK's own names). */
interface ClientConfig {
  readonly protocol?: {
    getShapeId?(): string;
    deserializeResponse(operation: Operation, context: unknown, response: RawResponse): Promise<unknown>;
  };
  readonly requestHandler?: { handle(request: unknown, options: object): Promise<{ response: RawResponse }> };
  readonly credentials?: () => Promise<Credentials>;
  systemClockOffset?: number;
}

type Handler = (args: { input: Input; request?: unknown }) => Promise<unknown>;
type Middleware = (next: Handler, context: Record<string | symbol, unknown>) => Handler;
interface Stack {
  add(middleware: Middleware, options: { step: string; name: string; priority: string; tags: string[]; override: true }): void;
}

const JSON_PROTOCOLS = new Set(['aws.protocols#awsJson1_0', 'aws.protocols#awsJson1_1']);
/** Headers set per call; the rest of a template's headers are the same on every call. */
const PER_CALL_HEADERS = new Set([
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
  'content-length',
  'x-amzn-trace-id',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
]);
/** Headers SigV4 never signs (as the SDK's signer). */
const UNSIGNED_HEADERS = new Set(['authorization', 'user-agent', 'x-amzn-trace-id', 'connection', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade']);
const SCOPE = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request,/;
const SKEW_LIMIT_MS = 300_000;

/**
 * Sends the named operations of a client the Worker built (never a client the application
 * gave) without the SDK's middleware stack, which costs about as much CPU as the HTTP call
 * itself on an idle worker (measured: an empty GetRecords over keep-alive HTTP, 350–450 µs of
 * CPU through the stack against 150–250 µs sent directly).
 *
 * The first call of an operation (per stream or table) goes through the SDK unchanged, and the
 * request it signed is kept as the template: endpoint, path, headers, signing region and
 * service are the SDK's own. Later calls serialize the input with `JSON.stringify` (only when
 * it holds nothing but JSON values: no bytes, dates or sets), sign it with SigV4 here using
 * the client's credential provider and clock offset, send it on the client's request handler,
 * and read the response with the client's protocol, so outputs and typed errors are the SDK's.
 * An error response with a server time more than 5 minutes from ours corrects the clock
 * offset, as the SDK's signer does. A client whose protocol is not AWS JSON is left alone.
 * Returns the client.
 */
export function withDirectCalls<C extends KinesisClient | DynamoDBClient>(client: C, operations: readonly string[]): C {
  const config = client.config as unknown as ClientConfig;
  const { protocol, requestHandler, credentials } = config;
  if (protocol === undefined || !JSON_PROTOCOLS.has(protocol.getShapeId?.() ?? '') || requestHandler === undefined || typeof credentials !== 'function') return client;
  const names = new Set(operations);
  const templates = new Map<string, Template>();
  const signer = new Signer();
  const stack = client.middlewareStack as unknown as Stack;

  const direct: Middleware = (next, context) => {
    const operation = operationOf(context);
    if (operation === undefined || !names.has(operation.name)) return next;
    return async (args) => {
      const template = templates.get(templateKey(operation.name, args.input));
      const body = template === undefined ? undefined : wireJson(args.input);
      if (template === undefined || body === undefined) return next(args);
      const identity = await credentials();
      const headers = signer.sign(template, body, identity, new Date(Date.now() + (config.systemClockOffset ?? 0)));
      const request = { protocol: template.protocol, hostname: template.hostname, port: template.port, method: 'POST', path: template.path, query: {}, headers, body };
      const { response } = await requestHandler.handle(request, {});
      if (response.statusCode < 200 || response.statusCode >= 300) correctClockOffset(config, response.headers['date']);
      try {
        return { response, output: await protocol.deserializeResponse(operation, { ...config, ...context }, response) };
      } catch (error) {
        attachResponse(error, response);
        throw error;
      }
    };
  };
  const capture: Middleware = (next, context) => {
    const operation = operationOf(context);
    if (operation === undefined || !names.has(operation.name)) return next;
    return (args) => {
      const key = templateKey(operation.name, args.input);
      if (!templates.has(key)) {
        const template = templateOf(args.request);
        if (template !== undefined) templates.set(key, template);
      }
      return next(args);
    };
  };
  try {
    stack.add(direct, { step: 'initialize', name: 'kclDirectCall', priority: 'high', tags: [], override: true });
    stack.add(capture, { step: 'deserialize', name: 'kclCaptureRequest', priority: 'low', tags: [], override: true });
  } catch {
    // an SDK release whose stack refuses these: the client keeps sending through the SDK
  }
  return client;
}

/** As the SDK's deserializer: a failed call's error keeps the raw response, hidden, as `$response`. */
function attachResponse(error: unknown, response: RawResponse): void {
  if (typeof error !== 'object' || error === null || (error as { $response?: unknown }).$response !== undefined) return;
  try {
    Object.defineProperty(error, '$response', { value: response, enumerable: false, writable: false, configurable: false });
  } catch {
    // a property that cannot be redefined: the error is thrown as it is
  }
}

/** The operation of a command, from the SDK's handler context; `undefined` if not there. */
function operationOf(context: Record<string | symbol, unknown>): Operation | undefined {
  const smithy = context['__smithy_context'] as { operationSchema?: unknown } | undefined;
  const schema = smithy?.operationSchema;
  if (!Array.isArray(schema) || typeof schema[2] !== 'string') return undefined;
  const [, namespace, name, traits, input, output] = schema as [unknown, unknown, string, unknown, unknown, unknown];
  return { name, namespace, traits, input, output };
}

/** Calls that may go to different endpoints (the SDK resolves one per stream ARN or table) keep their own template. */
function templateKey(operation: string, input: Input): string {
  const resource = input['StreamARN'] ?? input['TableName'] ?? '';
  return `${operation}\u0000${typeof resource === 'string' ? resource : ''}`;
}

/** The template of a request the SDK signed with SigV4 as a POST to a path without query; else `undefined`. */
function templateOf(request: unknown): Template | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const r = request as { protocol?: unknown; hostname?: unknown; port?: unknown; method?: unknown; path?: unknown; query?: unknown; headers?: unknown; fragment?: unknown; username?: unknown };
  if (r.method !== 'POST' || typeof r.protocol !== 'string' || typeof r.hostname !== 'string' || r.path !== '/' || typeof r.headers !== 'object' || r.headers === null) return undefined;
  if ((r.query !== undefined && Object.keys(r.query as object).length > 0) || r.fragment !== undefined || r.username !== undefined) return undefined;
  if (r.port !== undefined && typeof r.port !== 'number') return undefined;
  const headers: Headers = {};
  let authorization: string | undefined;
  for (const [name, value] of Object.entries(r.headers as Record<string, unknown>)) {
    if (typeof value !== 'string') return undefined;
    const lower = name.toLowerCase();
    if (lower in headers) return undefined;
    if (lower === 'authorization') authorization = value;
    if (!PER_CALL_HEADERS.has(lower)) headers[lower] = value;
  }
  const scope = authorization === undefined ? null : SCOPE.exec(authorization);
  if (scope === null || headers['host'] === undefined) return undefined;
  const payloadHashHeader = Object.keys(r.headers).some((name) => name.toLowerCase() === 'x-amz-content-sha256');
  return { protocol: r.protocol, hostname: r.hostname, port: r.port, path: r.path, headers, region: scope[1]!, service: scope[2]!, payloadHashHeader };
}

/**
 * The input as its JSON body, or `undefined` when it holds anything the SDK writes otherwise
 * than `JSON.stringify` would (bytes, dates, sets, maps, null, bigint, non-finite numbers).
 */
function wireJson(input: Input): string | undefined {
  let plain = true;
  let text: string | undefined;
  try {
    text = JSON.stringify(input, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = key === '' ? value : this[key];
      if (raw === null || (typeof raw === 'number' && !Number.isFinite(raw))) plain = false;
      else if (typeof raw === 'object' && !Array.isArray(raw) && Object.getPrototypeOf(raw) !== Object.prototype) plain = false;
      return value;
    });
  } catch {
    return undefined; // a bigint or a cycle
  }
  return plain ? text : undefined;
}

/** As the SDK's signer: a server time more than 5 minutes from the corrected clock moves the offset. */
function correctClockOffset(config: ClientConfig, date: string | undefined): void {
  const server = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(server)) return;
  if (Math.abs(Date.now() + (config.systemClockOffset ?? 0) - server) >= SKEW_LIMIT_MS) config.systemClockOffset = server - Date.now();
}

/** AWS Signature Version 4 of JSON POST requests, with the derived signing key kept per day, region, service and key pair. */
export class Signer {
  private readonly keys = new Map<string, { readonly secret: string; readonly key: Buffer }>();

  /** The headers to send: the template's, the call's length, date and payload hash, the session token if any, and the signature. */
  sign(template: Omit<Template, 'protocol' | 'hostname' | 'port'>, body: string, credentials: Credentials, date: Date): Headers {
    const amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    const payloadHash = sha256Hex(body);
    const headers: Headers = { ...template.headers, 'content-length': String(Buffer.byteLength(body)), 'x-amz-date': amzDate };
    if (template.payloadHashHeader) headers['x-amz-content-sha256'] = payloadHash;
    if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken;
    const signed = Object.keys(headers)
      .filter((name) => !UNSIGNED_HEADERS.has(name))
      .sort();
    const canonicalHeaders = signed.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`).join('');
    const signedHeaders = signed.join(';');
    const canonical = `POST\n${template.path}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${day}/${template.region}/${template.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.signingKey(scope, day, template, credentials)).update(stringToSign).digest('hex');
    headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(scope: string, day: string, template: Pick<Template, 'region' | 'service'>, credentials: Credentials): Buffer {
    const cacheKey = `${credentials.accessKeyId}/${scope}`;
    const cached = this.keys.get(cacheKey);
    if (cached !== undefined && cached.secret === credentials.secretAccessKey) return cached.key;
    let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
    for (const part of [template.region, template.service, 'aws4_request']) key = hmac(key, part);
    if (this.keys.size >= 16) this.keys.clear(); // a new day or rotated keys: the old ones are done with
    this.keys.set(cacheKey, { secret: credentials.secretAccessKey, key });
    return key;
  }
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string): string => createHash('sha256').update(data).digest('hex');
