import { createServer } from 'node:net';

/** The loopback host every emulator of the local stack binds to. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * Asks the operating system for a free TCP port on the loopback interface: listens on
 * port 0, reads the port it was given, and closes the socket again.
 *
 * There is a small window in which another process could take the port before the caller
 * binds it; for a development stack that is acceptable.
 */
export async function findFreePort(host: string = LOOPBACK_HOST): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** True when a TCP server could listen on `port` of `host` right now. */
export async function isPortFree(port: number, host: string = LOOPBACK_HOST): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
