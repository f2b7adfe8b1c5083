/**
 * A small HTTP/2 Kinesis endpoint of our own for tests and benchmarks of enhanced fan-out. It
 * serves `SubscribeToShard` itself, as an AWS event stream (`application/vnd.amazon.eventstream`)
 * over HTTP/2 with TLS and ALPN `h2` like AWS, from shards whose records the caller puts in, and
 * forwards every other operation to an upstream Kinesis endpoint (the Kinesis Mock), so a Worker
 * can run against it unchanged. It can stage what emulators cannot: a stream that ends after some
 * events or some time, an exception event mid-stream, GOAWAY, a reset connection, the 5-second
 * `ResourceInUseException` rule, `LimitExceededException`, a slow reader (HTTP/2 flow control)
 * and a shard's final event with `ChildShards`.
 * @module
 */
import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { LOCALHOST_TLS, type LocalTlsMaterial } from './localhost-tls.js';

/** A record to put on a shard of the server. */
export interface ServedRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array | string;
}

/** A child shard announced in a shard's final event (the Kinesis API's `ChildShard`). */
export interface ServedChildShard {
  readonly ShardId: string;
  readonly ParentShards: readonly string[];
  readonly HashKeyRange: { readonly StartingHashKey: string; readonly EndingHashKey: string };
}

/**
 * How one SubscribeToShard call goes, planned with {@link SubscribeToShardServer.plan}:
 * - `reject`: the call fails before any event, with HTTP 400 and this AWS error;
 * - `end`: the event stream ends normally (as AWS ends every one after 5 minutes);
 * - `exception`: an exception event (default `InternalFailureException`), then the end;
 * - `goaway`: the server sends GOAWAY on the connection, ends the stream and closes the connection;
 * - `reset`: the TCP connection is destroyed (the client sees a reset).
 *
 * All but `reject` happen `afterEvents` events carrying records into the stream (0: right after
 * the initial response), or `afterMs` after the stream opened, whichever comes first.
 */
export type SubscriptionPlan =
  | { readonly kind: 'reject'; readonly error: 'ResourceInUseException' | 'LimitExceededException' | 'ResourceNotFoundException' | 'InternalFailureException' }
  | { readonly kind: 'end' | 'goaway' | 'reset'; readonly afterEvents?: number; readonly afterMs?: number }
  | { readonly kind: 'exception'; readonly afterEvents?: number; readonly afterMs?: number; readonly error?: string };

/** How a served subscription ended. */
export type SubscriptionOutcome = 'open' | 'rejected' | 'ended' | 'shard-end' | 'exception' | 'taken-over' | 'goaway' | 'reset' | 'cancelled';

/** What the server saw of one SubscribeToShard call. */
export interface ServedSubscription {
  readonly id: number;
  readonly shardId: string;
  readonly consumerArn: string;
  /** `StartingPosition` as requested: `TYPE` or `TYPE:sequence`. */
  readonly position: string;
  /** The caller's `user-agent` header (tells clients apart). */
  readonly userAgent: string;
  /** The AWS error of a rejected call. */
  readonly error?: string;
  outcome: SubscriptionOutcome;
  /** Events written to the stream (with or without records). */
  eventsSent: number;
  /** Records written to the stream. */
  recordsSent: number;
  /** True while the server waits for the client to read (HTTP/2 flow control: the stream is full). */
  blocked: boolean;
}

/** Called when an event with records has been handed to the HTTP/2 stream. */
export type EventSentListener = (event: { readonly shardId: string; readonly sequenceNumbers: readonly string[]; readonly at: number }) => void;

/** Options of {@link startSubscribeToShardServer}. */
export interface SubscribeToShardServerOptions {
  /** Endpoint that serves every operation but SubscribeToShard (e.g. the Kinesis Mock's plain port). Without it, other operations fail with `UnknownOperationException`. */
  readonly upstream?: string;
  /** `false` serves h2c (HTTP/2 without TLS). @default LOCALHOST_TLS (clients trust its `cert`) */
  readonly tls?: LocalTlsMaterial | false;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** An empty event is sent after this long without records, as AWS does. @default 1000 */
  readonly heartbeatMs?: number;
  /** Records per event at most. @default 100 */
  readonly maxRecordsPerEvent?: number;
  /** A SubscribeToShard of a consumer to a shard within this long of its last successful one is refused with `ResourceInUseException` (AWS: 5 s). @default 5000 */
  readonly resubscribeWindowMs?: number;
  /** A later subscription of the same consumer to the shard takes over: the open one fails with a `ResourceInUseException` event, as on AWS. @default true */
  readonly takeover?: boolean;
  /** Every event stream ends normally after this long (AWS: 5 minutes). @default 300000 */
  readonly streamLifetimeMs?: number;
  /** Called when an event with records is written. */
  readonly onEventSent?: EventSentListener;
}

/** A running {@link startSubscribeToShardServer}. */
export interface SubscribeToShardServer {
  /** `https://localhost:<port>` (or `http://` for h2c). */
  readonly endpoint: string;
  /** The CA a client must trust (`nodeHttp2ConnectOptions: { ca }`), or undefined for h2c. */
  readonly ca: string | undefined;
  /** Every SubscribeToShard call so far, in order. */
  readonly subscriptions: readonly ServedSubscription[];
  /** Appends records to a shard (created on first use) and wakes its subscriptions; returns their sequence numbers. */
  putRecords(shardId: string, records: readonly ServedRecord[]): string[];
  /** Closes a shard: once its records are read, a subscription gets the final event (no continuation, these `ChildShards`) and ends. */
  endShard(shardId: string, childShards: readonly ServedChildShard[]): void;
  /** Plans how the next SubscribeToShard calls for a shard go, one plan per call, in order. */
  plan(shardId: string, ...plans: SubscriptionPlan[]): void;
  /** The open subscriptions of a shard. */
  open(shardId: string): ServedSubscription[];
  /** Stops the server and every connection. Idempotent. */
  close(): Promise<void>;
}

interface StoredRecord {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: string;
  readonly arrival: number;
}

interface ShardState {
  readonly index: number;
  readonly records: StoredRecord[];
  childShards: readonly ServedChildShard[] | undefined;
  readonly plans: SubscriptionPlan[];
  readonly wakers: Set<() => void>;
}

interface LiveSubscription {
  readonly info: ServedSubscription;
  readonly stream: http2.ServerHttp2Stream;
  stop: ((outcome: SubscriptionOutcome) => void) | undefined;
}

const BASE_SEQUENCE = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000n;
const codec = new EventStreamCodec(
  (input: Uint8Array) => Buffer.from(input).toString('utf8'),
  (input: string) => new Uint8Array(Buffer.from(input, 'utf8')),
);
const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, NGHTTP2_NO_ERROR } = http2.constants;

/**
 * Starts the HTTP/2 SubscribeToShard server on localhost. Point a `KinesisClient` with
 * `requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca: server.ca } })` and
 * `endpoint: server.endpoint` at it.
 *
 * An empty event's continuation is the sequence number of the last record before it (or one
 * below the shard's first), so `AFTER_SEQUENCE_NUMBER` of any continuation resumes exactly
 * where the event left off.
 */
export async function startSubscribeToShardServer(options: SubscribeToShardServerOptions = {}): Promise<SubscribeToShardServer> {
  const tls = options.tls === undefined ? LOCALHOST_TLS : options.tls;
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const maxRecordsPerEvent = options.maxRecordsPerEvent ?? 100;
  const resubscribeWindowMs = options.resubscribeWindowMs ?? 5_000;
  const takeover = options.takeover ?? true;
  const streamLifetimeMs = options.streamLifetimeMs ?? 300_000;
  const shards = new Map<string, ShardState>();
  const subscriptions: ServedSubscription[] = [];
  const live = new Set<LiveSubscription>();
  const lastSuccess = new Map<string, number>();
  const sessions = new Set<http2.ServerHttp2Session>();
  /** The TCP sockets by client port: a session's own socket cannot be destroyed through the session. */
  const sockets = new Map<number, Socket>();

  const shard = (shardId: string): ShardState => {
    let s = shards.get(shardId);
    if (s === undefined) {
      s = { index: shards.size, records: [], childShards: undefined, plans: [], wakers: new Set() };
      shards.set(shardId, s);
    }
    return s;
  };
  const sequenceAt = (s: ShardState, position: number): bigint => BASE_SEQUENCE + BigInt(s.index) * 10n ** 30n + BigInt(position) * 2n;
  const wake = (s: ShardState): void => {
    for (const w of [...s.wakers]) w();
  };

  const server = tls === false ? http2.createServer() : http2.createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: false });
  server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    sockets.set(port, socket);
    socket.on('close', () => sockets.delete(port));
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(headers['x-amz-target'] ?? '');
      if (target.endsWith('.SubscribeToShard')) void subscribe(stream, headers, body);
      else void forward(stream, headers, body);
    });
  });

  async function forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer): Promise<void> {
    if (options.upstream === undefined) {
      reply(stream, 400, { __type: 'UnknownOperationException', message: `this server serves SubscribeToShard only, not ${String(headers['x-amz-target'])}` });
      return;
    }
    try {
      const pass: Record<string, string> = {};
      for (const name of ['content-type', 'x-amz-target', 'x-amz-date', 'authorization', 'x-amz-security-token']) {
        const value = headers[name];
        if (typeof value === 'string') pass[name] = value;
      }
      const response = await fetch(options.upstream, { method: 'POST', headers: pass, body });
      const out = Buffer.from(await response.arrayBuffer());
      if (stream.destroyed) return;
      const back: http2.OutgoingHttpHeaders = { [HTTP2_HEADER_STATUS]: response.status };
      for (const [name, value] of response.headers) if (!/^(connection|keep-alive|transfer-encoding|content-length|date)$/i.test(name)) back[name] = value;
      stream.respond(back);
      stream.end(out);
    } catch (err) {
      reply(stream, 500, { __type: 'InternalFailureException', message: `upstream ${options.upstream} failed: ${String(err)}` });
    }
  }

  async function subscribe(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer): Promise<void> {
    const input = JSON.parse(body.toString('utf8') || '{}') as { ConsumerARN?: string; ShardId?: string; StartingPosition?: { Type?: string; SequenceNumber?: string; Timestamp?: number } };
    const shardId = input.ShardId ?? '';
    const consumerArn = input.ConsumerARN ?? '';
    const start = input.StartingPosition ?? {};
    const s = shard(shardId);
    const info: ServedSubscription = {
      id: subscriptions.length + 1,
      shardId,
      consumerArn,
      position: start.SequenceNumber === undefined ? String(start.Type) : `${String(start.Type)}:${start.SequenceNumber}`,
      userAgent: String(headers['user-agent'] ?? ''),
      outcome: 'open',
      eventsSent: 0,
      recordsSent: 0,
      blocked: false,
    };
    subscriptions.push(info);
    const key = `${consumerArn} ${shardId}`;
    const planned = s.plans.shift();
    const now = performance.now();
    const recent = lastSuccess.get(key);
    let rejection: string | undefined;
    if (planned?.kind === 'reject') rejection = planned.error;
    else if (recent !== undefined && now - recent < resubscribeWindowMs) rejection = 'ResourceInUseException';
    if (rejection !== undefined) {
      Object.assign(info, { error: rejection });
      info.outcome = 'rejected';
      reply(stream, rejection === 'InternalFailureException' ? 500 : 400, { __type: rejection, message: `${rejection} for ${shardId} (staged by the test server)` });
      return;
    }
    lastSuccess.set(key, now);
    if (takeover) for (const other of live) if (other.info.shardId === shardId && other.info.consumerArn === consumerArn) other.stop?.('taken-over');

    let position = startIndex(s, start);
    const sub: LiveSubscription = { info, stream, stop: undefined };
    live.add(sub);
    stream.respond({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomUUID() });
    let stopped: SubscriptionOutcome | undefined;
    let wakeUp: (() => void) | undefined;
    const stop = (outcome: SubscriptionOutcome): void => {
      stopped ??= outcome;
      wakeUp?.();
    };
    sub.stop = stop;
    stream.on('close', () => stop('cancelled'));
    const plan = planned as Exclude<SubscriptionPlan, { kind: 'reject' }> | undefined;
    const deadline = Math.min(now + streamLifetimeMs, plan?.afterMs === undefined ? Number.POSITIVE_INFINITY : now + plan.afterMs);
    let recordEvents = 0;

    const write = async (message: Uint8Array): Promise<void> => {
      if (stream.write(message)) return;
      info.blocked = true;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
      info.blocked = false;
    };
    const event = (type: string, payload: unknown): Uint8Array =>
      codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'event' },
          ':event-type': { type: 'string', value: type },
          ':content-type': { type: 'string', value: 'application/json' },
        },
        body: new Uint8Array(Buffer.from(JSON.stringify(payload))),
      });

    try {
      await write(event('initial-response', {}));
      for (;;) {
        if (stopped === undefined && plan !== undefined && plan.afterEvents !== undefined && recordEvents >= plan.afterEvents) stopped = plan.kind === 'end' ? 'ended' : plan.kind;
        if (stopped === undefined && performance.now() >= deadline) stopped = plan?.afterMs !== undefined ? (plan.kind === 'end' ? 'ended' : plan.kind) : 'ended';
        if (stopped !== undefined) break;
        const available = s.records.length - position;
        if (available === 0 && s.childShards !== undefined) {
          await write(event('SubscribeToShardEvent', { Records: [], MillisBehindLatest: 0, ChildShards: s.childShards }));
          info.eventsSent++;
          stopped = 'shard-end';
          break;
        }
        if (available > 0) {
          const batch = s.records.slice(position, position + maxRecordsPerEvent);
          position += batch.length;
          const behind = position < s.records.length ? Math.max(0, Date.now() - s.records[position]!.arrival) : 0;
          await write(
            event('SubscribeToShardEvent', {
              Records: batch.map((r) => ({ SequenceNumber: r.sequenceNumber, PartitionKey: r.partitionKey, Data: r.data, ApproximateArrivalTimestamp: r.arrival / 1000, EncryptionType: 'NONE' })),
              ContinuationSequenceNumber: batch.at(-1)!.sequenceNumber,
              MillisBehindLatest: behind,
            }),
          );
          info.eventsSent++;
          info.recordsSent += batch.length;
          recordEvents++;
          options.onEventSent?.({ shardId, sequenceNumbers: batch.map((r) => r.sequenceNumber), at: performance.now() });
          continue;
        }
        // Idle at the tip: wait for a record, the heartbeat, the deadline or a stop.
        const idle = await new Promise<'wake' | 'heartbeat'>((resolve) => {
          const timer = setTimeout(() => resolve('heartbeat'), Math.max(0, Math.min(heartbeatMs, deadline - performance.now())));
          const waker = (): void => {
            clearTimeout(timer);
            s.wakers.delete(waker);
            wakeUp = undefined;
            resolve('wake');
          };
          wakeUp = waker;
          s.wakers.add(waker);
        }).finally(() => {
          wakeUp = undefined;
        });
        if (idle === 'heartbeat' && performance.now() < deadline && stopped === undefined) {
          await write(event('SubscribeToShardEvent', { Records: [], ContinuationSequenceNumber: (sequenceAt(s, position)).toString(), MillisBehindLatest: 0 }));
          info.eventsSent++;
        }
      }
      info.outcome = stopped;
      finish(sub, stopped, plan);
    } catch {
      info.outcome = 'cancelled';
    } finally {
      live.delete(sub);
    }
  }

  /** Ends a stream the way its outcome says. */
  function finish(sub: LiveSubscription, outcome: SubscriptionOutcome, plan: SubscriptionPlan | undefined): void {
    const { stream } = sub;
    if (stream.destroyed || stream.closed) return;
    switch (outcome) {
      case 'exception':
      case 'taken-over': {
        const error = outcome === 'taken-over' ? 'ResourceInUseException' : ((plan?.kind === 'exception' ? plan.error : undefined) ?? 'InternalFailureException');
        stream.end(
          codec.encode({
            headers: {
              ':message-type': { type: 'string', value: 'exception' },
              ':exception-type': { type: 'string', value: error },
              ':content-type': { type: 'string', value: 'application/json' },
            },
            body: new Uint8Array(Buffer.from(JSON.stringify({ message: `${error} (staged by the test server)` }))),
          }),
        );
        return;
      }
      case 'goaway': {
        // As a server going away does: GOAWAY (no new streams), this stream ends, the connection closes.
        const session = stream.session;
        session?.goaway(NGHTTP2_NO_ERROR, stream.id ?? 0);
        stream.end();
        session?.close();
        return;
      }
      case 'reset': {
        const port = stream.session?.socket.remotePort;
        const socket = port === undefined ? undefined : sockets.get(port);
        if (socket !== undefined) socket.resetAndDestroy();
        else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      default:
        stream.end();
    }
  }

  function startIndex(s: ShardState, start: { Type?: string; SequenceNumber?: string; Timestamp?: number }): number {
    const seqIndex = (pred: (seq: bigint) => boolean): number => {
      const i = s.records.findIndex((r) => pred(BigInt(r.sequenceNumber)));
      return i < 0 ? s.records.length : i;
    };
    switch (start.Type) {
      case 'TRIM_HORIZON':
        return 0;
      case 'LATEST':
        return s.records.length;
      case 'AT_SEQUENCE_NUMBER':
        return seqIndex((seq) => seq >= BigInt(start.SequenceNumber ?? '0'));
      case 'AFTER_SEQUENCE_NUMBER':
        return seqIndex((seq) => seq > BigInt(start.SequenceNumber ?? '0'));
      case 'AT_TIMESTAMP': {
        const at = (start.Timestamp ?? 0) * 1000;
        const i = s.records.findIndex((r) => r.arrival >= at);
        return i < 0 ? s.records.length : i;
      }
      default:
        return 0;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    endpoint: `${tls === false ? 'http' : 'https'}://localhost:${port}`,
    ca: tls === false ? undefined : tls.cert,
    subscriptions,
    putRecords(shardId, records) {
      const s = shard(shardId);
      const arrival = Date.now();
      const sequences = records.map((r) => {
        const sequenceNumber = sequenceAt(s, s.records.length + 1).toString();
        const data = typeof r.data === 'string' ? Buffer.from(r.data, 'utf8') : Buffer.from(r.data);
        s.records.push({ sequenceNumber, partitionKey: r.partitionKey, data: data.toString('base64'), arrival });
        return sequenceNumber;
      });
      wake(s);
      return sequences;
    },
    endShard(shardId, childShards) {
      const s = shard(shardId);
      s.childShards = childShards;
      wake(s);
    },
    plan(shardId, ...plans) {
      shard(shardId).plans.push(...plans);
    },
    open(shardId) {
      return [...live].filter((l) => l.info.shardId === shardId && l.info.outcome === 'open').map((l) => l.info);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const l of live) l.stop?.('ended');
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

function reply(stream: http2.ServerHttp2Stream, status: number, body: { __type: string; message: string }): void {
  if (stream.destroyed) return;
  stream.respond({ [HTTP2_HEADER_STATUS]: status, [HTTP2_HEADER_CONTENT_TYPE]: 'application/x-amz-json-1.1', 'x-amzn-errortype': body.__type, 'x-amzn-requestid': randomUUID() });
  stream.end(JSON.stringify(body));
}
