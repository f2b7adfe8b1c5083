/**
 * A Postgres sink: batched `INSERT … ON CONFLICT … DO UPDATE` upserts through `pg`, one
 * transaction per flush. A redelivered record upserts the same row again; with `newestWins`
 * an older version never replaces a newer one. (Redshift has no `ON CONFLICT`: see
 * docs/sinks.md for its staging-table `MERGE` and for the S3 `COPY` path.)
 * @module
 */
import { AbortError, type KinesisClientRecord } from '@kcl-ts/processor';
import { checkFunction, checkInteger, checkObject, checkString } from '../options.js';
import { sortablePosition } from '../position.js';
import type { Sink, SinkBatch, SinkEntry, SinkErrorKind, SinkWriteContext, SinkWriteResult } from '../sink.js';
import { upsertStatement, type UpsertShape } from './sql.js';

/** The part of a `pg` client the sink uses (a `pg.PoolClient` or `pg.Client`). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
}

/** The part of a client checked out of a `pg.Pool` the sink uses. */
export interface PgPoolClientLike extends PgQueryable {
  release(destroy?: Error | boolean): void;
  /** `pg` emits `error` on a checked-out client whose connection drops; the sink listens while it holds one. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a `pg.Pool` the sink uses. */
export interface PgPoolLike {
  connect(): Promise<PgPoolClientLike>;
}

/** A row: column name → value (as `pg` serialises it; `undefined` becomes NULL). Any object type with these properties will do. */
export type PostgresRow = Record<string, unknown>;

/** "Newest version wins" settings of {@link PostgresSinkOptions.newestWins}. */
export interface PostgresNewestWinsOptions<T> {
  /** The column holding the version (written with every row). */
  readonly versionColumn: string;
  /**
   * The version of a row. @default `sortablePosition(record)` (store it in a `text` column;
   * exact within a shard, see `sortablePosition` across reshards)
   */
  readonly version?: (row: T, record: KinesisClientRecord) => string | number | bigint;
}

/** Options of {@link PostgresSink}. */
export interface PostgresSinkOptions<T extends object = PostgresRow> {
  /** Your pool (`new pg.Pool(...)`); the sink borrows one client per flush and never ends the pool. */
  readonly pool: PgPoolLike;
  /** The table, optionally schema-qualified (`analytics.events`). */
  readonly table: string;
  /** The columns written, in order (the version column is added if `newestWins` names one not listed). */
  readonly columns: readonly string[];
  /** The columns of the unique constraint or primary key the upsert conflicts on. */
  readonly conflictColumns: readonly string[];
  /** Columns updated on conflict; `[]` = `DO NOTHING` (insert-only, first write wins). @default every column not in `conflictColumns` */
  readonly updateColumns?: readonly string[];
  /** Update a row only when the new version is greater (`WHERE kcl_target.v < EXCLUDED.v`). */
  readonly newestWins?: PostgresNewestWinsOptions<T>;
  /** Rows per INSERT statement (capped so a statement has at most 65,535 parameters). @default 500 */
  readonly maxRowsPerStatement?: number;
  /** Name in logs and metrics. @default `postgres:<table>` */
  readonly name?: string;
}

/** SQLSTATE classes and codes worth retrying: connection, serialization, deadlock, resources, shutdown, lock timeouts. */
const TRANSIENT_SQLSTATE = /^(08|53|57P0|40001|40P01|55P03|58)/;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function checkColumns(path: string, value: unknown, allowEmpty: boolean): string[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || !value.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new TypeError(`${path} must be ${allowEmpty ? 'an' : 'a non-empty'} array of column names, got ${JSON.stringify(value)}`);
  }
  return [...(value as string[])];
}

function keyText(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value) ?? 'undefined';
}

/** Writes flushes to a Postgres table with batched upserts, one transaction per flush. */
export class PostgresSink<T extends object = PostgresRow> implements Sink<T> {
  /** `postgres:<table>` unless `name` was given. */
  readonly name: string;
  private readonly pool: PgPoolLike;
  private readonly shape: UpsertShape;
  private readonly version: ((row: T, record: KinesisClientRecord) => string | number | bigint) | undefined;
  private readonly rowsPerStatement: number;

  /** @throws TypeError naming the bad option (`postgres.columns`, …). */
  constructor(options: PostgresSinkOptions<T>) {
    const o = checkObject('postgres', options, false);
    checkFunction('postgres.pool.connect', checkObject('postgres.pool', o.pool, false).connect, false);
    this.pool = options.pool;
    const table = checkString('postgres.table', o.table);
    const columns = checkColumns('postgres.columns', o.columns, false);
    const conflictColumns = checkColumns('postgres.conflictColumns', o.conflictColumns, false);
    const newest = o.newestWins === undefined ? undefined : checkObject('postgres.newestWins', o.newestWins, false);
    const versionColumn = newest === undefined ? undefined : checkString('postgres.newestWins.versionColumn', newest.versionColumn);
    if (versionColumn !== undefined && !columns.includes(versionColumn)) columns.push(versionColumn);
    for (const c of conflictColumns) {
      if (!columns.includes(c)) throw new TypeError(`postgres.conflictColumns: ${JSON.stringify(c)} is not one of postgres.columns`);
    }
    const updateColumns = o.updateColumns === undefined ? columns.filter((c) => !conflictColumns.includes(c)) : checkColumns('postgres.updateColumns', o.updateColumns, true);
    for (const c of updateColumns) {
      if (!columns.includes(c)) throw new TypeError(`postgres.updateColumns: ${JSON.stringify(c)} is not one of postgres.columns`);
    }
    if (new Set(columns).size !== columns.length) throw new TypeError(`postgres.columns must not repeat a column, got ${JSON.stringify(columns)}`);
    this.shape = { table, columns, conflictColumns, updateColumns, versionColumn };
    this.version = newest === undefined ? undefined : (checkFunction<PostgresNewestWinsOptions<T>['version']>('postgres.newestWins.version', newest.version, true) ?? ((_row, record) => sortablePosition(record)));
    const maxRows = checkInteger('postgres.maxRowsPerStatement', o.maxRowsPerStatement, 1) ?? 500;
    this.rowsPerStatement = Math.max(1, Math.min(maxRows, Math.floor(65_535 / columns.length)));
    this.name = o.name === undefined ? `postgres:${table}` : checkString('postgres.name', o.name);
  }

  /** Upserts the batch in one transaction; resolves after COMMIT. */
  async write(batch: SinkBatch<T>, { signal }: SinkWriteContext): Promise<SinkWriteResult> {
    const rows = this.rowsOf(batch.entries);
    const client = await this.pool.connect();
    let failed: unknown;
    let applied = 0;
    // Without a listener, a connection dropping mid-flush would be an uncaught 'error' event;
    // the failed query rejects on its own, and the client is destroyed on release.
    const onError = (error: Error): void => {
      failed ??= error;
    };
    client.on?.('error', onError);
    try {
      await client.query('BEGIN');
      for (let i = 0; i < rows.length; i += this.rowsPerStatement) {
        if (signal?.aborted) throw new AbortError('the Postgres write was aborted');
        const chunk = rows.slice(i, i + this.rowsPerStatement);
        const result = await client.query(upsertStatement(this.shape, chunk.length), chunk.flat());
        applied += result.rowCount ?? chunk.length;
      }
      if (signal?.aborted) throw new AbortError('the Postgres write was aborted');
      await client.query('COMMIT');
    } catch (error) {
      failed ??= error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.removeListener?.('error', onError);
      // A connection that failed mid-transaction is not reused.
      client.release(failed === undefined ? undefined : failed instanceof Error ? failed : true);
    }
    return { stale: Math.max(0, rows.length - applied) };
  }

  /** Connection and concurrency failures (SQLSTATE 08, 40001, 40P01, 53, 57P0x, 55P03; network errors) are `transient`; constraint, syntax and data errors `fatal`. */
  classifyError(error: unknown): SinkErrorKind {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || TRANSIENT_SQLSTATE.test(code)) return 'transient';
      if (/^[0-9A-Z]{5}$/.test(code)) return 'fatal';
    }
    return 'transient'; // no SQLSTATE: the connection broke ("Connection terminated unexpectedly")
  }

  /** The rows' parameter values, one row per conflict key (the newest, or the last in shard order). */
  private rowsOf(entries: readonly SinkEntry<T>[]): unknown[][] {
    const { columns, conflictColumns, versionColumn } = this.shape;
    const byKey = new Map<string, { values: unknown[]; version: string | number | bigint | undefined }>();
    for (const { item, record } of entries) {
      const version = this.version?.(item, record);
      const row = item as Record<string, unknown>;
      const values = columns.map((c) => (c === versionColumn ? version : (row[c] ?? null)));
      const key = conflictColumns.map((c) => keyText(row[c])).join('\u0000');
      const seen = byKey.get(key);
      if (seen !== undefined && version !== undefined && seen.version !== undefined && version < seen.version) continue;
      byKey.set(key, { values, version });
    }
    return [...byKey.values()].map((r) => r.values);
  }
}
