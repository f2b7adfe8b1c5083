/**
 * An embedded Postgres for the tests: PGlite (Postgres compiled to WebAssembly) behind its
 * socket server (`@electric-sql/pglite-socket`), so `pg` reaches it over TCP like a real
 * server. The socket server multiplexes connections and keeps a transaction to the
 * connection that opened it; a connection that drops mid-transaction is rolled back.
 *
 * Creating a database runs initdb inside WebAssembly (~10 s on a busy 2-core machine), so
 * the fresh data directory is cached as a tarball in the OS temp directory and reloaded
 * (~1–2 s) by later runs.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded Postgres. */
export interface PostgresHandle {
  readonly host: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly connectionString: string;
  stop(): Promise<void>;
}

async function freshDataDir(): Promise<Blob | undefined> {
  // The pinned version of the devDependency names the cache (pglite's exports hide its package.json).
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
  const version = manifest.devDependencies['@electric-sql/pglite'];
  const cache = join(tmpdir(), `kcl-ts-pglite-${version}.tar`);
  try {
    return new Blob([await readFile(cache)]);
  } catch {
    const db = await PGlite.create();
    const dump = await db.dumpDataDir('none');
    await db.close();
    const partial = `${cache}.${randomUUID()}`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, cache); // atomic: a concurrent run reads a whole file or none
    return dump;
  }
}

/** Starts PGlite and its socket server on a free port of 127.0.0.1. */
export async function startPostgres(): Promise<PostgresHandle> {
  const dataDir = await freshDataDir();
  const db = await PGlite.create(dataDir ? { loadDataDir: dataDir } : {});
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 32 });
  await server.start();
  const [host, port] = server.getServerConn().split(':') as [string, string];
  let stopped: Promise<void> | undefined;
  return {
    host,
    port: Number(port),
    connectionString: `postgres://postgres@${host}:${port}/postgres`,
    stop: () =>
      (stopped ??= (async () => {
        await server.stop();
        await db.close();
      })()),
  };
}
