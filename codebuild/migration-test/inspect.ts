/**
 * What a database looks like, read with plain SQL from the catalogue: every table of every
 * non-system schema with its exact row count (`count(*)`), its columns, indexes (with
 * `pg_index.indisvalid`), constraints (with `pg_constraint.convalidated`) and the rows of
 * the migrations table. One REPEATABLE READ, READ ONLY transaction, so the numbers agree.
 */

/** What the inspection needs from a connection (a `pg.Client` is one). */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface ColumnState {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
}

export interface TableState {
  readonly schema: string;
  readonly name: string;
  readonly rowCount: number;
  readonly columns: readonly ColumnState[];
}

export interface IndexState {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly valid: boolean;
  readonly definition: string;
}

export interface ConstraintState {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** `p` primary key, `u` unique, `f` foreign key, `c` check, `x` exclusion, `n` not-null, `t` trigger. */
  readonly type: string;
  readonly validated: boolean;
  readonly definition: string;
}

export interface MigrationRow {
  /** Identity of the row (its id/version column, or the whole row). */
  readonly key: string;
  /** What the report shows: version/id/name and description. */
  readonly label: string;
  /** The tool recorded it as failed (flyway `success = false`, prisma unfinished, golang-migrate `dirty`). */
  readonly failed: boolean;
}

export interface MigrationsState {
  /** `schema.table` */
  readonly table: string;
  readonly rows: readonly MigrationRow[];
}

export interface DatabaseState {
  readonly tables: readonly TableState[];
  readonly indexes: readonly IndexState[];
  readonly constraints: readonly ConstraintState[];
  /** Absent when no migrations table was found. */
  readonly migrations?: MigrationsState;
}

/** Migration tables of common tools, in order of preference. */
export const WELL_KNOWN_MIGRATION_TABLES = [
  'schema_migrations', // migratus, Rails, golang-migrate
  'ragtime_migrations', // ragtime
  'flyway_schema_history', // Flyway
  '_prisma_migrations', // Prisma
] as const;

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;

/** `"name"` with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface InspectOptions {
  /** `[schema.]table` of the migrations table when it is not a well-known one. */
  readonly migrationsTable?: string;
}

export async function inspectDatabase(db: Queryable, options: InspectOptions = {}): Promise<DatabaseState> {
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const state = await inspectInTransaction(db, options);
    await db.query('COMMIT');
    return state;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function inspectInTransaction(db: Queryable, options: InspectOptions): Promise<DatabaseState> {
  const tableRows = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMAS}
      ORDER BY 1, 2`,
  );
  const columnRows = await db.query<{
    schema: string;
    table: string;
    name: string;
    type: string;
    nullable: boolean;
  }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name,
            format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND ${USER_SCHEMAS}
      ORDER BY 1, 2, a.attnum`,
  );
  const columns = new Map<string, ColumnState[]>();
  for (const c of columnRows.rows) {
    const key = `${c.schema}.${c.table}`;
    const list = columns.get(key) ?? [];
    list.push({ name: c.name, type: c.type, nullable: c.nullable });
    columns.set(key, list);
  }

  const tables: TableState[] = [];
  for (const t of tableRows.rows) {
    const count = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`,
    );
    tables.push({
      schema: t.schema,
      name: t.name,
      rowCount: Number(count.rows[0]?.n ?? 0),
      columns: columns.get(`${t.schema}.${t.name}`) ?? [],
    });
  }

  const indexes = await db.query<IndexState>(
    `SELECT n.nspname AS schema, t.relname AS table, i.relname AS name,
            x.indisvalid AS valid, pg_get_indexdef(x.indexrelid) AS definition
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE ${USER_SCHEMAS}
      ORDER BY 1, 2, 3`,
  );
  const constraints = await db.query<ConstraintState>(
    `SELECT n.nspname AS schema, t.relname AS table, con.conname AS name, con.contype::text AS type,
            con.convalidated AS validated, pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con
       JOIN pg_class t ON t.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE con.conrelid <> 0 AND ${USER_SCHEMAS}
      ORDER BY 1, 2, 3`,
  );

  const migrationsTable = findMigrationsTable(tables, options.migrationsTable);
  const migrations = migrationsTable
    ? {
        table: `${migrationsTable.schema}.${migrationsTable.name}`,
        rows: await readMigrations(db, migrationsTable),
      }
    : undefined;

  return {
    tables,
    indexes: indexes.rows,
    constraints: constraints.rows,
    ...(migrations ? { migrations } : {}),
  };
}

/** The configured table, else the first well-known one (the `public` schema first). */
export function findMigrationsTable(
  tables: readonly Pick<TableState, 'schema' | 'name'>[],
  configured?: string,
): Pick<TableState, 'schema' | 'name'> | undefined {
  if (configured) {
    const [schema, name] = configured.includes('.') ? configured.split('.', 2) : [undefined, configured];
    return tables.find((t) => t.name === name && (schema === undefined || t.schema === schema));
  }
  for (const name of WELL_KNOWN_MIGRATION_TABLES) {
    const matches = tables.filter((t) => t.name === name);
    const found = matches.find((t) => t.schema === 'public') ?? matches[0];
    if (found) return found;
  }
  return undefined;
}

const KEY_COLUMNS = ['installed_rank', 'id', 'version', 'migration_name', 'name'];
const LABEL_COLUMNS = ['version', 'id', 'migration_name', 'name'];

async function readMigrations(
  db: Queryable,
  table: Pick<TableState, 'schema' | 'name'>,
): Promise<MigrationRow[]> {
  const result = await db.query<{ j: string }>(
    `SELECT row_to_json(m)::text AS j FROM ${quoteIdent(table.schema)}.${quoteIdent(table.name)} m`,
  );
  return result.rows.map((r) => migrationRow(JSON.parse(r.j) as Record<string, unknown>));
}

function text(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Reads one row of any of the well-known tools' tables (or a similar one). */
export function migrationRow(row: Record<string, unknown>): MigrationRow {
  const keyColumn = KEY_COLUMNS.find((c) => row[c] !== undefined && row[c] !== null);
  const key = keyColumn ? `${keyColumn}=${text(row[keyColumn])}` : JSON.stringify(row);
  const labelColumn = LABEL_COLUMNS.find((c) => row[c] !== undefined && row[c] !== null);
  const label =
    [labelColumn ? text(row[labelColumn]) : undefined, text(row.description)]
      .filter((x): x is string => Boolean(x))
      .join(' ') || key;
  const failed =
    row.success === false ||
    row.dirty === true ||
    ('finished_at' in row && row.finished_at === null && !row.rolled_back_at);
  return { key, label, failed };
}
