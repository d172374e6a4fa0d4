/**
 * Intended data loss, declared by `table`, `schema.table`, `table.column` or
 * `schema.table.column` (unquoted PostgreSQL names, compared in lower case).
 *
 * - A table entry (`orders`, or `billing.orders`) allows everything that happens to that
 *   table: dropped, rows fewer, columns dropped.
 * - A column entry (`orders.note`, or `billing.orders.note`) allows only that column to be
 *   dropped.
 *
 * A two-part entry is read both ways (`schema.table` and `table.column`); names are
 * rarely ambiguous in practice and the report lists which entry allowed which loss.
 */

const ENTRY = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*){0,2}$/;

/** Validates and normalises entries; throws on a malformed one. */
export function parseAllowList(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!ENTRY.test(entry)) {
      throw new Error(
        `${JSON.stringify(raw)} must be table, schema.table, table.column or schema.table.column`,
      );
    }
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}

/** The entry allowing the loss of a whole table (`schema`, `table`), if any. */
export function tableAllowance(allow: readonly string[], schema: string, table: string): string | undefined {
  const t = table.toLowerCase();
  const st = `${schema.toLowerCase()}.${t}`;
  return allow.find((entry) => entry === t || entry === st);
}

/** The entry allowing a column to be dropped (a table entry also does), if any. */
export function columnAllowance(
  allow: readonly string[],
  schema: string,
  table: string,
  column: string,
): string | undefined {
  const c = column.toLowerCase();
  const tc = `${table.toLowerCase()}.${c}`;
  const stc = `${schema.toLowerCase()}.${tc}`;
  return allow.find((entry) => entry === tc || entry === stc) ?? tableAllowance(allow, schema, table);
}
