/**
 * The dashboard's HTTP server (node:http, no framework): the page at `/`, its script and
 * style, the model as JSON at `/api/model` and as server-sent events at `/api/events`.
 *
 * It polls its {@link DashboardModelSource} every `intervalMs` while at least one page is
 * connected, and not at all otherwise (a forgotten dashboard costs no reads); `/api/model`
 * polls on demand when the last model is older than the interval.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '@kcl-ts/processor';
import type { DashboardModel } from './model.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js';
import { message, type DashboardModelSource } from './source.js';

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  /** Where models come from. */
  readonly source: DashboardModelSource;
  /** Time between two polls while a page is connected, ms. @default 3000 */
  readonly intervalMs?: number;
  /** Address to listen on. Anything but a loopback address exposes the lease table to the network. @default '127.0.0.1' */
  readonly host?: string;
  /** Port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Called when a poll fails (the page shows the error and keeps the last model). */
  readonly onPollError?: (error: unknown) => void;
}

/** The SSE event carrying a {@link DashboardModel}. */
export const MODEL_EVENT = 'model';
/** The SSE event sent instead while no poll has succeeded yet: `{ "error": string }`. */
export const FAILURE_EVENT = 'failure';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/** A running dashboard server; see {@link startDashboardServer}. */
export class DashboardServer {
  private readonly source: DashboardModelSource;
  private readonly intervalMs: number;
  private readonly host: string;
  private readonly port: number;
  private readonly clock: Clock;
  private readonly onPollError: ((error: unknown) => void) | undefined;
  private readonly http: Server;
  private readonly clients = new Set<ServerResponse>();
  private readonly stopper = new AbortController();
  private latest: DashboardModel | undefined;
  private lastError: string | undefined;
  private lastPollEnd: number | undefined;
  private inFlight: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private loopbackOnly = false;
  private address = '';

  /** Use {@link startDashboardServer}. */
  constructor(options: DashboardServerOptions) {
    this.source = options.source;
    this.intervalMs = options.intervalMs ?? 3_000;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.clock = options.clock ?? systemClock;
    this.onPollError = options.onPollError;
    this.http = createServer((req, res) => this.handle(req, res));
  }

  /** The page's address, e.g. `http://127.0.0.1:4700/`; empty before {@link DashboardServer.listen} resolved. */
  get url(): string {
    return this.address;
  }

  /** Pages connected to the event stream now. */
  get viewers(): number {
    return this.clients.size;
  }

  /** Starts listening (rejects with the `listen` error, e.g. `EADDRINUSE`) and returns the URL. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.port, this.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const a = this.http.address() as AddressInfo;
    this.loopbackOnly = a.address === '127.0.0.1' || a.address === '::1' || a.address.startsWith('127.');
    this.address = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
    this.loopDone = this.loop();
    return this.address;
  }

  /** Stops polling, ends every event stream, closes the server. Idempotent; resolves when all is closed. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopper.abort();
      this.wake?.();
      for (const res of this.clients) res.end();
      this.clients.clear();
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
      await this.loopDone;
      await this.inFlight;
    })();
    return this.stopped;
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      if (this.clients.size === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      await this.refresh();
      await this.clock.sleep(this.intervalMs, signal).catch(() => undefined);
    }
  }

  /** One poll at a time; callers arriving meanwhile share it. */
  private refresh(): Promise<void> {
    this.inFlight ??= this.pollOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async pollOnce(): Promise<void> {
    const started = this.clock.elapsed();
    // After a pause (no page open) a change may have gone unseen: start observing afresh.
    if (this.lastPollEnd !== undefined && started - this.lastPollEnd > 2 * this.intervalMs + 1_000) this.source.reset();
    try {
      this.latest = await this.source.poll(this.stopper.signal);
      this.lastError = undefined;
    } catch (error) {
      if (this.stopper.signal.aborted) return;
      this.lastError = message(error);
      if (this.latest) this.latest = { ...this.latest, error: this.lastError };
      this.onPollError?.(error);
    }
    this.lastPollEnd = this.clock.elapsed();
    this.broadcast();
  }

  private event(): string {
    return this.latest
      ? `event: ${MODEL_EVENT}\ndata: ${JSON.stringify(this.latest)}\n\n`
      : `event: ${FAILURE_EVENT}\ndata: ${JSON.stringify({ error: this.lastError ?? 'no data yet' })}\n\n`;
  }

  private broadcast(): void {
    if (this.clients.size === 0) return;
    const text = this.event();
    for (const res of this.clients) res.write(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD' });
    // DNS rebinding: a page bound to loopback answers only to loopback host names.
    const hostname = hostnameOf(req.headers.host);
    if (this.loopbackOnly && (hostname === undefined || !LOOPBACK_HOSTS.has(hostname))) return void send(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n');
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    switch (path) {
      case '/':
      case '/index.html':
        return void send(res, 200, 'text/html; charset=utf-8', PAGE_HTML, { 'Content-Security-Policy': PAGE_CSP }, req.method === 'HEAD');
      case '/app.js':
        return void send(res, 200, 'text/javascript; charset=utf-8', PAGE_JS, {}, req.method === 'HEAD');
      case '/app.css':
        return void send(res, 200, 'text/css; charset=utf-8', PAGE_CSS, {}, req.method === 'HEAD');
      case '/favicon.ico':
        res.writeHead(204, COMMON_HEADERS);
        return void res.end();
      case '/api/model':
        return void this.serveModel(res);
      case '/api/events':
        return this.subscribe(req, res);
      default:
        return void send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  private async serveModel(res: ServerResponse): Promise<void> {
    const fresh = this.latest !== undefined && this.lastPollEnd !== undefined && this.clock.elapsed() - this.lastPollEnd < this.intervalMs;
    if (!fresh) await this.refresh();
    if (this.latest) send(res, 200, 'application/json; charset=utf-8', JSON.stringify(this.latest));
    else send(res, 503, 'application/json; charset=utf-8', JSON.stringify({ error: this.lastError ?? 'stopping' }));
  }

  private subscribe(req: IncomingMessage, res: ServerResponse): void {
    if (this.stopper.signal.aborted) return void send(res, 503, 'text/plain; charset=utf-8', 'stopping\n');
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    if (this.latest || this.lastError) res.write(this.event());
    this.clients.add(res);
    req.once('close', () => this.clients.delete(res));
    this.wake?.();
  }
}

function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}, headOnly = false): void {
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}

/**
 * Starts a dashboard server and its polling; resolves once it listens (read the address from
 * {@link DashboardServer.url}). Call {@link DashboardServer.stop} to end it.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const server = new DashboardServer(options);
  await server.listen();
  return server;
}
