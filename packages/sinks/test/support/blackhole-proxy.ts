/**
 * A TCP proxy on 127.0.0.1 that can play "this process was killed": `freeze()` destroys
 * every connection it carries (the server sees the client vanish, as after `kill -9`: open
 * transactions roll back, half-sent requests are dropped) and from then on accepts new
 * connections without ever forwarding a byte (the client's calls hang, so the worker behind
 * it stops renewing its leases). Everything it holds is destroyed by `stop()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface BlackholeProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** Cuts every connection and blackholes the new ones. */
  freeze(): void;
  /** Closes the proxy and destroys every socket it holds. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a proxy in front of `127.0.0.1:<targetPort>` (or the port of `target`, an `http://host:port` URL). */
export async function startBlackholeProxy(target: string | number): Promise<BlackholeProxy> {
  const url = typeof target === 'number' ? undefined : new URL(target);
  const targetPort = typeof target === 'number' ? target : Number(url!.port);
  const targetHost = url?.hostname ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server: Server = createServer((client) => {
    track(client);
    if (frozen) return; // accepted, never answered
    const upstream = connect({ host: targetHost, port: targetPort });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (!frozen) client.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    freeze: () => {
      frozen = true;
      for (const s of sockets) s.destroy();
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        frozen = true;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      })),
  };
}
