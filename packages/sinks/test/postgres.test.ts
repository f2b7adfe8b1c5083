import type { KinesisClientRecord } from '@kcl-ts/processor';
import { FakeClock } from '@kcl-ts/processor/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../../test-support/stack.js';
import type { SinkBatch, SinkWriteContext } from '../src/index.js';
import { PostgresSink, upsertStatement } from '../src/postgres/index.js';
import { rec } from './support/fakes.js';
import { runFleetScenario, type Payload } from './support/fleet-scenario.js';
import { startPostgres, type PostgresHandle } from './support/postgres.js';

const SHARD = 'shardId-000000000003';
const context: SinkWriteContext = { signal: undefined, attempt: 0, clock: new FakeClock() };
let postgres: PostgresHandle;
let pool: pg.Pool;

function newPool(port: number): pg.Pool {
  const p = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 2 });
  p.on('error', () => undefined); // an idle client whose connection died: the pool replaces it
  return p;
}

function batch<T>(items: Array<[T, KinesisClientRecord]>): SinkBatch<T> {
  return { shardId: SHARD, entries: items.map(([item, record]) => ({ item, record })), bytes: 0 };
}

async function table(ddl: (name: string) => string): Promise<string> {
  const name = uniqueName('t').replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
  await pool.query(ddl(name));
  return name;
}

beforeAll(async () => {
  postgres = await startPostgres();
  pool = newPool(postgres.port);
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

describe('PostgresSink', () => {
  it('upserts a flush in one transaction of batched statements; redelivery and repeated keys do not add rows', async () => {
    const t = await table((n) => `CREATE TABLE ${n} (id text PRIMARY KEY, v integer NOT NULL, note text)`);
    const sink = new PostgresSink<{ id: string; v: number; note?: string }>({ pool, table: t, columns: ['id', 'v', 'note'], conflictColumns: ['id'], maxRowsPerStatement: 7 });
    const items = Array.from({ length: 30 }, (_, i): [{ id: string; v: number }, KinesisClientRecord] => [{ id: `r${i}`, v: i }, rec(i + 1)]);
    await sink.write(batch(items), context);
    await sink.write(batch(items.slice(5, 25)), context);
    await sink.write(batch([[{ id: 'r0', v: 100 }, rec(50)], [{ id: 'r0', v: 101, note: 'last' }, rec(51)]]), context);
    const { rows } = await pool.query<{ count: string }>(`SELECT count(*) FROM ${t}`);
    expect(Number(rows[0]!.count)).toBe(30);
    expect((await pool.query(`SELECT v, note FROM ${t} WHERE id = 'r0'`)).rows).toEqual([{ v: 101, note: 'last' }]);
  });

  it('newestWins never replaces a newer row; an insert-only sink keeps the first; both report stale rows', async () => {
    const t = await table((n) => `CREATE TABLE ${n} (device text PRIMARY KEY, state text, version text)`);
    const sink = new PostgresSink<{ device: string; state: string }>({ pool, table: t, columns: ['device', 'state'], conflictColumns: ['device'], newestWins: { versionColumn: 'version' } });
    expect(await sink.write(batch([[{ device: 'd1', state: 'new' }, rec(20)]]), context)).toEqual({ stale: 0 });
    expect(await sink.write(batch([[{ device: 'd1', state: 'old' }, rec(10)]]), context)).toEqual({ stale: 1 });
    expect((await pool.query(`SELECT state, version FROM ${t}`)).rows).toEqual([{ state: 'new', version: '002:20:0000000000' }]);

    const insertOnly = new PostgresSink<{ device: string; state: string }>({ pool, table: t, columns: ['device', 'state'], conflictColumns: ['device'], updateColumns: [] });
    expect(await insertOnly.write(batch([[{ device: 'd1', state: 'x' }, rec(30)], [{ device: 'd2', state: 'y' }, rec(31)]]), context)).toEqual({ stale: 1 });
    expect((await pool.query(`SELECT device, state FROM ${t} ORDER BY device`)).rows).toEqual([
      { device: 'd1', state: 'new' },
      { device: 'd2', state: 'y' },
    ]);
  });

  it('rolls the whole flush back when a statement fails, and calls constraint errors fatal', async () => {
    const t = await table((n) => `CREATE TABLE ${n} (id text PRIMARY KEY, v integer NOT NULL)`);
    const sink = new PostgresSink<{ id: string; v: number | null }>({ pool, table: t, columns: ['id', 'v'], conflictColumns: ['id'], maxRowsPerStatement: 2 });
    const error = await sink
      .write(batch([[{ id: 'a', v: 1 }, rec(1)], [{ id: 'b', v: 2 }, rec(2)], [{ id: 'c', v: null }, rec(3)]]), context)
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('23502');
    expect(sink.classifyError(error)).toBe('fatal');
    expect(sink.classifyError(Object.assign(new Error('x'), { code: '40001' }))).toBe('transient');
    expect(sink.classifyError(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows).toEqual([{ n: 0 }]);
  });

  it('builds quoted SQL and validates its options', () => {
    expect(upsertStatement({ table: 'app.Events', columns: ['id', 'we"ird'], conflictColumns: ['id'], updateColumns: ['we"ird'], versionColumn: 'v' }, 2)).toBe(
      'INSERT INTO "app"."Events" AS kcl_target ("id", "we""ird") VALUES ($1, $2), ($3, $4) ON CONFLICT ("id") DO UPDATE SET "we""ird" = EXCLUDED."we""ird" WHERE kcl_target."v" IS NULL OR kcl_target."v" < EXCLUDED."v"',
    );
    expect(() => new PostgresSink({ pool, table: 't', columns: [], conflictColumns: ['id'] })).toThrow(/postgres\.columns must be a non-empty array/);
    expect(() => new PostgresSink({ pool, table: 't', columns: ['a'], conflictColumns: ['id'] })).toThrow(/postgres\.conflictColumns: "id" is not one of postgres\.columns/);
    expect(() => new PostgresSink({ pool: {} as never, table: 't', columns: ['a'], conflictColumns: ['a'] })).toThrow(/postgres\.pool\.connect must be a function/);
  });

  it('end to end in a Worker fleet: graceful handoff mid-buffer without duplicates, kill -9 mid-flush without loss or duplicates', async () => {
    const t = await table((n) => `CREATE TABLE ${n} (id text PRIMARY KEY, k text NOT NULL, n integer NOT NULL)`);
    const pools: pg.Pool[] = [];
    await runFleetScenario<Payload & { id: string }>({
      upstream: `http://${postgres.host}:${postgres.port}`,
      sink: (endpoint) => {
        const own = newPool(Number(new URL(endpoint).port));
        pools.push(own);
        return { sink: new PostgresSink({ pool: own, table: t, columns: ['id', 'k', 'n'], conflictColumns: ['id'] }), close: () => void own.end().catch(() => undefined) };
      },
      item: (payload, id) => ({ ...payload, id }),
      stored: async () => (await pool.query<{ k: string; n: number }>(`SELECT k, n FROM ${t}`)).rows.map((r) => `${r.k}#${r.n}`),
    });
  }, 90_000);
});
