import { columnAllowance, tableAllowance } from './allow-list';
import type { DatabaseState, MigrationRow, TableState } from './inspect';

/**
 * Before/after comparison and the verdict (pure).
 *
 * Data loss, unless an allow-list entry covers it: a table dropped, a column dropped, a
 * table's row count fell. A migration fails the test too when its command exits non-zero,
 * when the migrations table records it as failed, or when it leaves an index INVALID that
 * was not invalid before (a failed `CREATE INDEX CONCURRENTLY`). NOT VALID constraints are
 * a legitimate two-step pattern (`ADD … NOT VALID`, later `VALIDATE`): reported, not failed.
 */

export interface DroppedTable {
  readonly table: string;
  readonly rowCount: number;
  readonly allowedBy?: string;
}
export interface DroppedColumn {
  readonly table: string;
  readonly column: string;
  readonly allowedBy?: string;
}
export interface FallenRowCount {
  readonly table: string;
  readonly before: number;
  readonly after: number;
  readonly allowedBy?: string;
}
export interface InvalidIndex {
  readonly table: string;
  readonly name: string;
  readonly definition: string;
  /** Already invalid before the migrations ran. */
  readonly preexisting: boolean;
}
export interface NotValidConstraint {
  readonly table: string;
  readonly name: string;
  readonly definition: string;
  readonly preexisting: boolean;
}

export interface Comparison {
  readonly migrationsTable?: string;
  readonly migrationsApplied: readonly MigrationRow[];
  readonly migrationsRemoved: readonly MigrationRow[];
  readonly tablesDropped: readonly DroppedTable[];
  readonly columnsDropped: readonly DroppedColumn[];
  readonly rowCountsFell: readonly FallenRowCount[];
  readonly tablesAdded: readonly string[];
  readonly columnsAdded: readonly string[];
  readonly invalidIndexes: readonly InvalidIndex[];
  readonly notValidConstraints: readonly NotValidConstraint[];
  /** Allow-list entries that allowed a loss, with what they allowed. */
  readonly allowancesUsed: readonly { readonly entry: string; readonly allowed: readonly string[] }[];
  readonly allowancesUnused: readonly string[];
}

const qualified = (t: Pick<TableState, 'schema' | 'name'>): string => `${t.schema}.${t.name}`;

export function compare(
  before: DatabaseState,
  after: DatabaseState,
  allowDataLoss: readonly string[],
): Comparison {
  const afterTables = new Map(after.tables.map((t) => [qualified(t), t]));
  const beforeTables = new Map(before.tables.map((t) => [qualified(t), t]));
  const used = new Map<string, string[]>();
  const use = (entry: string | undefined, what: string): string | undefined => {
    if (entry) used.set(entry, [...(used.get(entry) ?? []), what]);
    return entry;
  };

  const tablesDropped: DroppedTable[] = [];
  const columnsDropped: DroppedColumn[] = [];
  const rowCountsFell: FallenRowCount[] = [];
  const columnsAdded: string[] = [];

  for (const b of before.tables) {
    const name = qualified(b);
    const a = afterTables.get(name);
    if (!a) {
      const allowedBy = use(tableAllowance(allowDataLoss, b.schema, b.name), `table ${name} dropped`);
      tablesDropped.push({ table: name, rowCount: b.rowCount, ...(allowedBy ? { allowedBy } : {}) });
      continue;
    }
    const afterColumns = new Set(a.columns.map((c) => c.name));
    for (const c of b.columns) {
      if (afterColumns.has(c.name)) continue;
      const allowedBy = use(
        columnAllowance(allowDataLoss, b.schema, b.name, c.name),
        `column ${name}.${c.name} dropped`,
      );
      columnsDropped.push({ table: name, column: c.name, ...(allowedBy ? { allowedBy } : {}) });
    }
    const beforeColumns = new Set(b.columns.map((c) => c.name));
    for (const c of a.columns) if (!beforeColumns.has(c.name)) columnsAdded.push(`${name}.${c.name}`);
    if (a.rowCount < b.rowCount) {
      const allowedBy = use(
        tableAllowance(allowDataLoss, b.schema, b.name),
        `rows of ${name} ${b.rowCount} → ${a.rowCount}`,
      );
      rowCountsFell.push({
        table: name,
        before: b.rowCount,
        after: a.rowCount,
        ...(allowedBy ? { allowedBy } : {}),
      });
    }
  }
  const tablesAdded = after.tables.map(qualified).filter((name) => !beforeTables.has(name));

  const invalidBefore = new Set(before.indexes.filter((i) => !i.valid).map((i) => `${i.schema}.${i.name}`));
  const invalidIndexes = after.indexes
    .filter((i) => !i.valid)
    .map((i) => ({
      table: `${i.schema}.${i.table}`,
      name: i.name,
      definition: i.definition,
      preexisting: invalidBefore.has(`${i.schema}.${i.name}`),
    }));
  const notValidBefore = new Set(
    before.constraints.filter((c) => !c.validated).map((c) => `${c.schema}.${c.table}.${c.name}`),
  );
  const notValidConstraints = after.constraints
    .filter((c) => !c.validated)
    .map((c) => ({
      table: `${c.schema}.${c.table}`,
      name: c.name,
      definition: c.definition,
      preexisting: notValidBefore.has(`${c.schema}.${c.table}.${c.name}`),
    }));

  const beforeKeys = new Set(before.migrations?.rows.map((r) => r.key) ?? []);
  const afterKeys = new Set(after.migrations?.rows.map((r) => r.key) ?? []);
  const migrationsApplied = sortRows((after.migrations?.rows ?? []).filter((r) => !beforeKeys.has(r.key)));
  const migrationsRemoved = sortRows(
    after.migrations ? (before.migrations?.rows ?? []).filter((r) => !afterKeys.has(r.key)) : [],
  );
  const migrationsTable = after.migrations?.table ?? before.migrations?.table;

  return {
    ...(migrationsTable ? { migrationsTable } : {}),
    migrationsApplied,
    migrationsRemoved,
    tablesDropped,
    columnsDropped,
    rowCountsFell,
    tablesAdded,
    columnsAdded,
    invalidIndexes,
    notValidConstraints,
    allowancesUsed: [...used.entries()].map(([entry, allowed]) => ({ entry, allowed })),
    allowancesUnused: allowDataLoss.filter((entry) => !used.has(entry)),
  };
}

function sortRows(rows: MigrationRow[]): MigrationRow[] {
  const collator = new Intl.Collator('en', { numeric: true });
  return [...rows].sort((x, y) => collator.compare(x.key, y.key));
}

export interface Judgement {
  readonly verdict: 'pass' | 'fail';
  /** Why it failed (empty when it passed). */
  readonly reasons: readonly string[];
  /** Worth a look, not a failure. */
  readonly warnings: readonly string[];
}

export function judge(comparison: Comparison, migrationExitCode: number): Judgement {
  const reasons: string[] = [];
  const warnings: string[] = [];
  if (migrationExitCode !== 0) reasons.push(`the migration command exited with status ${migrationExitCode}`);
  const failedRows = comparison.migrationsApplied.filter((m) => m.failed);
  if (failedRows.length > 0) {
    reasons.push(`migrations recorded as failed: ${failedRows.map((m) => m.label).join(', ')}`);
  }
  const tables = comparison.tablesDropped.filter((t) => !t.allowedBy);
  if (tables.length > 0) reasons.push(`tables dropped: ${tables.map((t) => t.table).join(', ')}`);
  const columns = comparison.columnsDropped.filter((c) => !c.allowedBy);
  if (columns.length > 0) {
    reasons.push(`columns dropped: ${columns.map((c) => `${c.table}.${c.column}`).join(', ')}`);
  }
  const rows = comparison.rowCountsFell.filter((r) => !r.allowedBy);
  if (rows.length > 0) {
    reasons.push(`rows lost: ${rows.map((r) => `${r.table} ${r.before} → ${r.after}`).join(', ')}`);
  }
  const newInvalid = comparison.invalidIndexes.filter((i) => !i.preexisting);
  if (newInvalid.length > 0) {
    reasons.push(`indexes left INVALID: ${newInvalid.map((i) => `${i.table} ${i.name}`).join(', ')}`);
  }

  const oldInvalid = comparison.invalidIndexes.filter((i) => i.preexisting);
  if (oldInvalid.length > 0) {
    warnings.push(
      `indexes already INVALID before the migrations: ${oldInvalid.map((i) => i.name).join(', ')}`,
    );
  }
  if (comparison.notValidConstraints.length > 0) {
    warnings.push(
      `NOT VALID constraints (validate them in a later migration): ${comparison.notValidConstraints
        .map((c) => `${c.table} ${c.name}`)
        .join(', ')}`,
    );
  }
  if (comparison.migrationsRemoved.length > 0) {
    warnings.push(
      `rows removed from the migrations table: ${comparison.migrationsRemoved.map((m) => m.label).join(', ')}`,
    );
  }
  if (!comparison.migrationsTable) {
    warnings.push(
      'no migrations table found (schema_migrations, ragtime_migrations, flyway_schema_history, _prisma_migrations or MIGRATIONS_TABLE)',
    );
  }
  if (comparison.allowancesUnused.length > 0) {
    warnings.push(`allow-list entries not needed by this run: ${comparison.allowancesUnused.join(', ')}`);
  }
  return { verdict: reasons.length === 0 ? 'pass' : 'fail', reasons, warnings };
}
