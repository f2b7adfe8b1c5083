/**
 * `@kcl-ts/sinks/postgres`: the Postgres sink (pass a `pg.Pool`; `pg` itself is not imported
 * by this module).
 * @packageDocumentation
 */
export { PostgresSink, type PostgresSinkOptions, type PostgresNewestWinsOptions, type PostgresRow, type PgPoolLike, type PgPoolClientLike, type PgQueryable } from './postgres-sink.js';
export { upsertStatement, quoteIdentifier, type UpsertShape } from './sql.js';
