/**
 * A fault-injecting HTTP proxy in front of one emulator (Kinesis Mock or dynalite). Requests
 * are forwarded unchanged unless a {@link FaultRule} fires for their `X-Amz-Target`: then the
 * proxy answers with a real-looking AWS error, adds latency, or drops the connection.
 *
 * ```ts
 * const proxy = await startFaultProxy({ target: stack.dynamoDbEndpoint, kind: 'dynamodb' });
 * const id = proxy.addRule({ kind: 'throttle', operation: 'UpdateItem', probability: 0.5 });
 * // … point workers at proxy.endpoint …
 * proxy.removeRule(id);
 * await proxy.stop();
 * ```
 *
 * Rules can also be driven over HTTP, e.g. from another process, at `/__faults`:
 * `GET` → stats, `POST` (a rule as JSON) → `{ id }`, `DELETE` → clear, `DELETE /__faults/<id>`.
 * @module
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { faultResponse, FaultRuleSet, operationName, type FaultKind, type FaultRule, type FaultRuleStats, type FaultTarget } from './fault-rules.js';

export type { FaultRule } from './fault-rules.js';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The endpoint requests are forwarded to, e.g. `http://127.0.0.1:4567`. */
  readonly target: string;
  /** What the target is; decides the error shapes and which rules match. */
  readonly kind: FaultTarget;
  /** Port to listen on. @default 0 (any free port) */
  readonly port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Random source of the probability rolls (tests make it deterministic). @default Math.random */
  readonly random?: () => number;
  /**
   * Hand a `SubscribeToShard` subscription over as AWS does: a call for the same consumer and
   * shard 5 s or more after the open one started takes over, and the open one is cut. The
   * Kinesis Mock refuses the second call with `ResourceInUseException` for as long as the first
   * stream is open, which a frozen (SIGSTOPped) owner keeps open for minutes.
   * @default false
   */
  readonly subscriptionTakeover?: boolean;
  /**
   * Sees every request (its operation name and body text) before the rules; a rule it returns
   * is injected as though it had fired (e.g. a rate limit kept by the caller), undefined lets
   * the rules decide. Its faults are not in the rule counters.
   */
  readonly inspect?: (operation: string, body: string) => FaultRule | undefined;
}

/** Counters of a proxy. */
export interface FaultProxyStats {
  /** Requests received (control requests excluded). */
  readonly requests: number;
  /** Requests forwarded to the target. */
  readonly forwarded: number;
  /** Requests per operation name. */
  readonly byOperation: Readonly<Record<string, number>>;
  /** Every rule ever added, current ones last, with its counters. */
  readonly rules: readonly FaultRuleStats[];
  /** Faults injected so far, all rules together. */
  readonly injected: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** Where clients should send their requests instead of the target. */
  readonly endpoint: string;
  /** What the proxy stands in front of. */
  readonly kind: FaultTarget;
  /** Adds a rule (evaluated after the existing ones); returns its id. Throws `TypeError` on a bad rule. */
  addRule(rule: FaultRule): number;
  /** Removes one rule; true if it existed. */
  removeRule(id: number): boolean;
  /** Removes every rule: requests pass through again. */
  clearRules(): void;
  /** Destroys every open `SubscribeToShard` event stream (the client sees the connection drop); resolves how many. */
  cutStreams(): number;
  /** Counters (requests, and per rule how often it matched and fired). */
  stats(): FaultProxyStats;
  /** Faults injected so far, optionally of one kind. */
  injected(kind?: FaultKind): number;
  /** Closes the listener and every open connection. Idempotent. */
  stop(): Promise<void>;
}

const CONTROL_PATH = '/__faults';

/** Starts a fault proxy in front of `options.target`; resolves once it listens. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetUrl = new URL(options.target);
  if (targetUrl.protocol !== 'http:') throw new TypeError(`target must be an http:// endpoint, got ${options.target}`);
  if (options.kind !== 'kinesis' && options.kind !== 'dynamodb') throw new TypeError(`kind must be 'kinesis' or 'dynamodb', got ${String(options.kind)}`);
  const rules = new FaultRuleSet(options.random);
  const agent = new http.Agent({ keepAlive: true });
  const counters = { requests: 0, forwarded: 0, byOperation: {} as Record<string, number> };

  const stats = (): FaultProxyStats => ({
    requests: counters.requests,
    forwarded: counters.forwarded,
    byOperation: { ...counters.byOperation },
    rules: [...rules.removedStats(), ...rules.stats()],
    injected: rules.totalInjected(),
  });

  /**
   * Sends `req` with `body` to the target and hands its response to `respond` as it arrives
   * (pooled unless it is an event stream); resolves once the response is over. A target it
   * cannot reach is a broken network, not a service: the client's connection is destroyed.
   */
  const relay = (req: IncomingMessage, body: Buffer, pooled: boolean, respond: (up: IncomingMessage) => void): Promise<void> =>
    new Promise((resolve) => {
      const headers = { ...req.headers, host: targetUrl.host, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const upstream = http.request({ protocol: targetUrl.protocol, hostname: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers, ...(pooled && { agent }) }, (up) => {
        counters.forwarded++;
        up.on('error', () => req.socket.destroy());
        up.on('close', resolve);
        respond(up);
      });
      upstream.on('error', () => {
        req.socket.destroy();
        resolve();
      });
      // An event stream ends with its client (a pooled request just completes).
      if (!pooled) req.socket.once('close', () => upstream.destroy());
      upstream.end(body);
    });

  /**
   * Forwards an event-stream call (SubscribeToShard) chunk by chunk: its response lasts as
   * long as the subscription. With `cut`, the connection is destroyed after the first event
   * reached the client: the stream is dropped mid-way.
   */
  const openStreams = new Map<IncomingMessage, { readonly key: string; readonly at: number }>();
  const forwardStream = (req: IncomingMessage, body: Buffer, res: ServerResponse, cut: boolean): Promise<void> => {
    const { ConsumerARN, ShardId } = JSON.parse(body.toString('utf8') || '{}') as { ConsumerARN?: string; ShardId?: string };
    const key = `${ConsumerARN}|${ShardId}`;
    if (options.subscriptionTakeover) {
      for (const [open, stream] of openStreams) if (stream.key === key && Date.now() - stream.at >= 5_000) open.socket.destroy();
    }
    openStreams.set(req, { key, at: Date.now() });
    req.socket.once('close', () => openStreams.delete(req));
    return relay(req, body, false, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on('data', (chunk: Buffer) => {
        res.write(chunk);
        if (cut) {
          up.destroy();
          req.socket.destroy();
        }
      });
      up.on('end', () => res.end());
    });
  };

  const handleControl = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
    const reply = (status: number, value: unknown): void => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    try {
      const rest = (req.url ?? '').slice(CONTROL_PATH.length).replace(/^\//, '');
      if (req.method === 'GET') return reply(200, stats());
      if (req.method === 'POST' && rest === '') return reply(200, { id: rules.add(JSON.parse(body.toString('utf8')) as FaultRule) });
      if (req.method === 'DELETE' && rest === '') {
        rules.clear();
        return reply(200, { cleared: true });
      }
      if (req.method === 'DELETE' && /^\d+$/.test(rest)) return reply(200, { removed: rules.remove(Number(rest)) });
      return reply(404, { message: `unknown control request ${req.method} ${req.url}` });
    } catch (error) {
      return reply(400, { message: error instanceof Error ? error.message : String(error) });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if ((req.url ?? '').startsWith(CONTROL_PATH)) return handleControl(req, body, res);

    counters.requests++;
    const amzTarget = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : '';
    const op = operationName(amzTarget) || '(none)';
    counters.byOperation[op] = (counters.byOperation[op] ?? 0) + 1;
    const text = body.toString('utf8');
    const decision = rules.decide(options.kind, amzTarget, text);
    if (decision.latencyMs > 0) await delay(decision.latencyMs);
    const fault = options.inspect?.(op, text) ?? decision.fault;
    const after = fault?.phase === 'after';
    /** Answers with the fault instead of the target's response (a drop destroys the connection). */
    const inject = (f: NonNullable<typeof fault>): void => {
      if (f.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      const r = faultResponse(f, options.kind);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    };
    if (fault && !after) return inject(fault);
    if (op === 'SubscribeToShard') return forwardStream(req, body, res, fault?.kind === 'drop');
    return relay(req, body, true, (up) => {
      if (fault && after) {
        // The operation took effect; the client gets the fault instead of the answer.
        up.resume().on('end', () => inject(fault));
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) req.socket.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;

  return {
    endpoint: `http://${address.address}:${address.port}`,
    kind: options.kind,
    addRule: (rule) => rules.add(rule),
    removeRule: (id) => rules.remove(id),
    clearRules: () => rules.clear(),
    cutStreams: () => {
      const open = [...openStreams.keys()];
      for (const req of open) req.socket.destroy();
      return open.length;
    },
    stats,
    injected: (kind) => rules.totalInjected(kind),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return stopping;
    },
  };
}
