/**
 * SQL text of the Postgres sink: quoted identifiers and the batched upsert statement.
 * @module
 */

/** `name` as a quoted SQL identifier (`"a""b"`); a dotted name `schema.table` is quoted part by part. */
export function quoteIdentifier(name: string, dotted = false): string {
  const parts = dotted ? name.split('.') : [name];
  return parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}

/** The alias of the target table inside the statement (for the newest-wins condition). */
export const TARGET_ALIAS = 'kcl_target';

/** What {@link upsertStatement} builds. */
export interface UpsertShape {
  readonly table: string;
  readonly columns: readonly string[];
  readonly conflictColumns: readonly string[];
  readonly updateColumns: readonly string[];
  readonly versionColumn: string | undefined;
}

/**
 * `INSERT INTO t AS kcl_target (cols) VALUES ($1, …), (…) ON CONFLICT (keys) DO UPDATE SET
 * c = EXCLUDED.c, … [WHERE kcl_target.version < EXCLUDED.version]` for `rows` rows, or
 * `… DO NOTHING` when there is nothing to update.
 */
export function upsertStatement(shape: UpsertShape, rows: number): string {
  const width = shape.columns.length;
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    const params: string[] = [];
    for (let c = 0; c < width; c++) params.push(`$${r * width + c + 1}`);
    values.push(`(${params.join(', ')})`);
  }
  const columns = shape.columns.map((c) => quoteIdentifier(c)).join(', ');
  const conflict = shape.conflictColumns.map((c) => quoteIdentifier(c)).join(', ');
  let action = 'DO NOTHING';
  if (shape.updateColumns.length > 0) {
    action = `DO UPDATE SET ${shape.updateColumns.map((c) => `${quoteIdentifier(c)} = EXCLUDED.${quoteIdentifier(c)}`).join(', ')}`;
    if (shape.versionColumn !== undefined) {
      const v = quoteIdentifier(shape.versionColumn);
      action += ` WHERE ${TARGET_ALIAS}.${v} IS NULL OR ${TARGET_ALIAS}.${v} < EXCLUDED.${v}`;
    }
  }
  return `INSERT INTO ${quoteIdentifier(shape.table, true)} AS ${TARGET_ALIAS} (${columns}) VALUES ${values.join(', ')} ON CONFLICT (${conflict}) ${action}`;
}
