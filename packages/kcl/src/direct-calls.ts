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
  readonly disableClockSkewCorrection?: () => Promise<boolean | undefined>;
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
/** Headers SigV4 never signs (the SDK signer's list, and its `proxy-` and `sec-` prefixes). */
const UNSIGNED_HEADERS = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);
const UNSIGNED_PREFIX = /^(proxy|sec)-/;
/** Error names after which a template may be what is wrong (endpoint, signing scope): the next call learns it again through the SDK. */
const STALE_TEMPLATE_ERRORS = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException', 'AccessDeniedException', 'MissingAuthenticationTokenException']);
/** More templates than this (streams or tables come and go): start over. */
const MAX_TEMPLATES = 256;
const SCOPE = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request,/;
/** As the SDK: a correction of this much or more marks the error `clockSkewCorrected` (its retry classification reads it). */
const SKEW_CORRECTED_MS = 240_000;
/** As the SDK: a response that took longer than this says nothing of the clock. */
const STALE_RESPONSE_MS = 900_000;

/**
 * Sends the named operations of a client the Worker built (never a client the application
 * gave) without the SDK's middleware stack, which costs about as much CPU as the HTTP call
 * itself on an idle worker (measured on a 2-core machine: an empty GetRecords over keep-alive
 * HTTP to a local server, about 350 µs of CPU through the stack against 230 µs sent directly;
 * at 64 idle shards the CPU per GetRecords call, lease upkeep included, went from 0.91 to
 * 0.68 ms, docs/benchmarks.md).
 *
 * The first call of an operation (per stream or table) goes through the SDK unchanged, and the
 * request it signed is kept as the template: endpoint, path, headers, signing region and
 * service are the SDK's own. Later calls serialize the input with `JSON.stringify` (only when
 * it holds nothing but JSON values: no bytes, dates or sets), sign it with SigV4 here using
 * the client's credential provider and clock offset, send it on the client's request handler,
 * and read the response with the client's protocol, so outputs and typed errors are the SDK's
 * (an error the protocol could not read, such as an HTML 503 from a proxy, gets the SDK's
 * `$metadata` so it is classified by its status). The clock offset follows each response's
 * `Date` header and an error after a large correction is marked `clockSkewCorrected`, both as
 * the SDK's signer does (unless `disableClockSkewCorrection`). A template is kept only after
 * its call succeeded, and dropped after a redirect or an authentication error. A client whose
 * protocol is not AWS JSON is left alone. Returns the client.
 */
export function withDirectCalls<C extends KinesisClient | DynamoDBClient>(client: C, operations: readonly string[]): C {
  const config = client.config as unknown as ClientConfig;
  const { protocol, requestHandler, credentials } = config;
  if (protocol === undefined || !JSON_PROTOCOLS.has(protocol.getShapeId?.() ?? '') || requestHandler === undefined || typeof credentials !== 'function') return client;
  const names = new Set(operations);
  const templates = new Map<string, Template>();
  const signer = new Signer();
  const stack = client.middlewareStack as unknown as Stack;
  // In AWS Lambda, as the SDK's recursion detection: the invocation's trace id (it changes per invocation) goes with each call.
  const inLambda = Boolean(process.env['AWS_LAMBDA_FUNCTION_NAME']);
  let skewCorrection: Promise<boolean> | undefined;
  const correctsSkew = (): Promise<boolean> => (skewCorrection ??= Promise.resolve(config.disableClockSkewCorrection?.()).then((disabled) => disabled !== true));

  /** The operation of a command sent directly, or `undefined` for any other. */
  const directOperation = (context: Record<string | symbol, unknown>): Operation | undefined => {
    const operation = operationOf(context);
    return operation !== undefined && names.has(operation.name) ? operation : undefined;
  };

  const direct: Middleware = (next, context) => {
    const operation = directOperation(context);
    if (operation === undefined) return next;
    return async (args) => {
      const key = templateKey(operation.name, args.input);
      const template = templates.get(key);
      const body = template === undefined ? undefined : wireJson(args.input);
      if (template === undefined || body === undefined) return next(args);
      const [identity, skew] = await Promise.all([credentials(), correctsSkew()]);
      const offsetBefore = config.systemClockOffset ?? 0;
      const headers = signer.sign(template, body, identity, new Date(Date.now() + (skew ? offsetBefore : 0)));
      const trace = inLambda ? process.env['_X_AMZN_TRACE_ID'] : undefined;
      if (trace) headers['x-amzn-trace-id'] = trace;
      const request = { protocol: template.protocol, hostname: template.hostname, port: template.port, method: 'POST', path: template.path, query: {}, headers, body };
      const sentAt = Date.now();
      const { response } = await requestHandler.handle(request, {});
      if (skew) correctClockOffset(config, response, sentAt);
      try {
        return { response, output: await protocol.deserializeResponse(operation, { ...config, ...context }, response) };
      } catch (error) {
        completeError(error, response);
        if (skew) markSkewCorrected(error, offsetBefore, config.systemClockOffset ?? 0);
        if (isStaleTemplateError(error, response)) templates.delete(key);
        throw error;
      }
    };
  };
  const capture: Middleware = (next, context) => {
    const operation = directOperation(context);
    if (operation === undefined) return next;
    return async (args) => {
      const key = templateKey(operation.name, args.input);
      const template = templates.has(key) ? undefined : templateOf(args.request);
      const result = await next(args);
      // Kept only once the call succeeded (this runs inside the SDK's deserializer: the raw response).
      const status = (result as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
      if (template !== undefined && typeof status === 'number' && status >= 200 && status < 300) {
        if (templates.size >= MAX_TEMPLATES) templates.clear();
        templates.set(key, template);
      }
      return result;
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

/**
 * As the SDK's deserializer: a failed call's error keeps the raw response, hidden, as
 * `$response`, and an error the protocol could not read (no `$metadata`: a body that is not
 * JSON) gets the response's status and request ids as `$metadata`.
 */
function completeError(error: unknown, response: RawResponse): void {
  if (typeof error !== 'object' || error === null) return;
  const e = error as { $response?: unknown; $metadata?: unknown };
  try {
    if (e.$response === undefined) Object.defineProperty(error, '$response', { value: response, enumerable: false, writable: false, configurable: false });
    if (!('$metadata' in error)) {
      const header = (pattern: RegExp) => Object.entries(response.headers).find(([name]) => pattern.test(name))?.[1];
      e.$metadata = { httpStatusCode: response.statusCode, requestId: header(/^x-[\w-]+-request-?id$/), extendedRequestId: header(/^x-[\w-]+-id-2$/), cfId: header(/^x-[\w-]+-cf-id$/) };
    }
  } catch {
    // a frozen error: thrown as it is
  }
}

/** As the SDK's signer: the offset becomes the server's `Date` minus now, unless the response is cached (`age`) or took over 15 minutes. */
function correctClockOffset(config: ClientConfig, response: RawResponse, sentAt: number): void {
  const date = response.headers['date'];
  if (date === undefined || response.headers['age'] !== undefined) return;
  const server = Date.parse(date);
  const now = Date.now();
  if (Number.isNaN(server) || now - sentAt > STALE_RESPONSE_MS) return;
  config.systemClockOffset = server - now;
}

/** As the SDK's signer: an error after which the clock offset moved by a large amount is marked, so it is retried. */
function markSkewCorrected(error: unknown, before: number, after: number): void {
  const metadata = (error as { $metadata?: { clockSkewCorrected?: boolean } } | null)?.$metadata;
  if (metadata !== undefined && Math.abs(after) >= SKEW_CORRECTED_MS && after !== before) metadata.clockSkewCorrected = true;
}

function isStaleTemplateError(error: unknown, response: RawResponse): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return (response.statusCode >= 300 && response.statusCode < 400) || response.statusCode === 401 || response.statusCode === 403 || (typeof name === 'string' && STALE_TEMPLATE_ERRORS.has(name));
}

/** The operation of a command, from the SDK's handler context; `undefined` if not there. */
function operationOf(context: Record<string | symbol, unknown>): Operation | undefined {
  const smithy = context['__smithy_context'] as { operationSchema?: unknown } | undefined;
  const schema = smithy?.operationSchema;
  if (!Array.isArray(schema) || typeof schema[2] !== 'string') return undefined;
  const [, namespace, name, traits, input, output] = schema as [unknown, unknown, string, unknown, unknown, unknown];
  return { name, namespace, traits, input, output };
}

/** Calls that may go to different endpoints (the SDK resolves one per stream ARN or id, or table) keep their own template. */
function templateKey(operation: string, input: Input): string {
  const part = (name: string): string => (typeof input[name] === 'string' ? (input[name] as string) : '');
  return `${operation}\u0000${part('StreamARN')}\u0000${part('StreamId')}\u0000${part('TableName')}`;
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
  let payloadHashHeader = false;
  for (const [name, value] of Object.entries(r.headers as Record<string, unknown>)) {
    if (typeof value !== 'string') return undefined;
    const lower = name.toLowerCase();
    if (lower in headers) return undefined;
    if (lower === 'authorization') authorization = value;
    if (lower === 'x-amz-content-sha256') payloadHashHeader = true;
    if (!PER_CALL_HEADERS.has(lower)) headers[lower] = value;
  }
  const scope = authorization === undefined ? null : SCOPE.exec(authorization);
  if (scope === null || headers['host'] === undefined) return undefined;
  return { protocol: r.protocol, hostname: r.hostname, port: r.port, path: r.path, headers, region: scope[1]!, service: scope[2]!, payloadHashHeader };
}

/**
 * The input as its JSON body, or `undefined` when it holds anything the SDK writes otherwise
 * than `JSON.stringify` would (bytes, dates, sets, maps, null, undefined in an array, bigint,
 * non-finite numbers). Members the model does not have would be sent (the SDK drops them):
 * the Worker's inputs are typed.
 */
function wireJson(input: Input): string | undefined {
  let plain = true;
  let text: string | undefined;
  try {
    text = JSON.stringify(input, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = key === '' ? value : this[key];
      if (raw === null || (raw === undefined && Array.isArray(this)) || (typeof raw === 'number' && !Number.isFinite(raw))) plain = false;
      else if (typeof raw === 'object' && !Array.isArray(raw) && Object.getPrototypeOf(raw) !== Object.prototype) plain = false;
      return value;
    });
  } catch {
    return undefined; // a bigint or a cycle
  }
  return plain ? text : undefined;
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
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
    const signed = Object.keys(headers)
      .filter((name) => !UNSIGNED_HEADERS.has(name) && !UNSIGNED_PREFIX.test(name))
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
