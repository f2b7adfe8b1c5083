import type { Server } from 'node:http';
import { loopbackEndpoint, type EmulatorHandle } from './emulator.js';
import type { LocalLogger } from './logger.js';
import { LOOPBACK_HOST } from './ports.js';
import { pollUntil } from './wait.js';

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

/**
 * Serves an in-process emulator (dynalite, kinesalite) on 127.0.0.1: listens, waits until a
 * real request succeeds (`answers`), and returns its handle. The server is unref'd, so an
 * emulator never keeps an otherwise finished process alive; a failed start closes it.
 */
export async function serveInProcess(options: {
  readonly name: string;
  readonly server: Server;
  readonly port: number;
  readonly answers: (endpoint: string) => Promise<boolean>;
  readonly startTimeoutMs: number;
  readonly logger: LocalLogger;
}): Promise<EmulatorHandle> {
  const { name, server, logger } = options;
  server.unref();
  const port = await listenOn(server, options.port);
  const endpoint = loopbackEndpoint(port);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= closeServer(server).then(() => logger.debug({ component: name, endpoint }, `${name} stopped`));
    return stopping;
  };
  try {
    await pollUntil(() => options.answers(endpoint), { timeoutMs: options.startTimeoutMs, intervalMs: 50, what: `${name} at ${endpoint}` });
  } catch (err) {
    await stop();
    throw err;
  }
  logger.info({ component: name, endpoint }, `${name} ready`);
  return { endpoint, port, pid: undefined, stop };
}
