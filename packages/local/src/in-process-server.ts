import type { Server } from 'node:http';
import { LOOPBACK_HOST } from './ports.js';

/** Makes `server` listen on `port` of 127.0.0.1; rejects on EADDRINUSE and the like. */
export async function listenOn(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, LOOPBACK_HOST, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * Closes `server` (and, for dynalite and kinesalite, their LevelDB store, which their
 * `close` wraps), dropping keep-alive connections so the port is free when it resolves.
 */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((err?: Error) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(err);
      else resolve();
    });
    server.closeAllConnections();
  });
}
