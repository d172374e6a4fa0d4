/**
 * The application's database contract: the ONE definition of the environment variables that
 * carry the database connection to the application image. Two renderers read it:
 *
 * - {@link databaseEnv} (TypeScript): what the migration test's container gets
 *   (codebuild/migration-test/command.ts);
 * - {@link databaseEnvJq} (a jq object expression): what `orcha-prepare` writes into
 *   `/etc/orcha/orcha.env` for the running app and worker (assets/boot/orcha-prepare.sh).
 *
 * So a migration that connects in production connects in the gate, and the reverse.
 * test/assets/boot/boot.deploy-path.test.ts runs the real `orcha-prepare` and compares its output with
 * {@link databaseEnv} for the same connection (passwords with URL-reserved characters included).
 *
 * Templates use `{field}` (the raw value) and `{field|uri}` (percent-encoded, only
 * `A-Za-z0-9-_.~` left as they are — the same bytes from TypeScript and from jq 1.6 or 1.7).
 */

/** The connection the variables describe. */
export interface DatabaseConnection {
  readonly host: string;
  readonly port: number | string;
  /** Database name. */
  readonly name: string;
  readonly user: string;
  readonly password: string;
  /** libpq `sslmode`: RDS for PostgreSQL 15+ forces TLS (`rds.force_ssl`), so `require` everywhere. */
  readonly sslMode: 'require' | 'disable';
}

type Field = keyof DatabaseConnection;

/** The application's TLS mode towards RDS (both the app and the migration container). */
export const DATABASE_SSL_MODE = 'require' as const;

/** Variable name → template. The order is the order in which they are written. */
export const DATABASE_VARIABLES: Readonly<Record<string, string>> = {
  DB_HOST: '{host}',
  DB_PORT: '{port}',
  DB_NAME: '{name}',
  DB_USER: '{user}',
  DB_PASSWORD: '{password}',
  DB_SSLMODE: '{sslMode}',
  DATABASE_URL: 'postgres://{user|uri}:{password|uri}@{host}:{port}/{name|uri}?sslmode={sslMode}',
  JDBC_DATABASE_URL:
    'jdbc:postgresql://{host}:{port}/{name|uri}?user={user|uri}&password={password|uri}&sslmode={sslMode}',
  PGHOST: '{host}',
  PGPORT: '{port}',
  PGDATABASE: '{name}',
  PGUSER: '{user}',
  PGPASSWORD: '{password}',
  PGSSLMODE: '{sslMode}',
};

/** Names of the variables that hold a secret (never logged, never on a command line). */
export const DATABASE_SECRET_VARIABLES: readonly string[] = Object.entries(DATABASE_VARIABLES)
  .filter(([, template]) => template.includes('{password'))
  .map(([name]) => name);

const FIELDS: readonly Field[] = ['host', 'port', 'name', 'user', 'password', 'sslMode'];
const TOKEN = /\{([A-Za-z]+)(\|uri)?\}/g;

function checkField(name: string, template: string): Field {
  if (!(FIELDS as readonly string[]).includes(name)) {
    throw new Error(`app contract: unknown field {${name}} in ${template}`);
  }
  return name as Field;
}

/** Percent-encoding that leaves only `A-Za-z0-9-_.~` (RFC 3986 unreserved) as they are. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The variables for one connection (the migration test's container). */
export function databaseEnv(c: DatabaseConnection): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(DATABASE_VARIABLES)) {
    out[name] = template.replace(TOKEN, (_m, field: string, uri?: string) => {
      const value = String(c[checkField(field, template)]);
      return uri ? uriEncode(value) : value;
    });
  }
  return out;
}

/**
 * jq's `@uri` plus the sub-delimiters jq 1.6 leaves as they are (jq 1.7 already encodes them),
 * as a jq function.
 */
const JQ_URI_DEF =
  'def uri: @uri | gsub("!"; "%21") | gsub("\\u0027"; "%27") | gsub("\\\\("; "%28") | gsub("\\\\)"; "%29") | gsub("\\\\*"; "%2A");';

/**
 * A jq object expression of the variables, given a jq term of string type for each field (e.g.
 * `{ host: '$host', password: '$password' }`). Rendered into orcha-prepare, whose jq program is
 * single-quoted in bash: the result contains no single quote.
 */
export function databaseEnvJq(fields: Readonly<Record<Field, string>>): string {
  const entries = Object.entries(DATABASE_VARIABLES).map(([name, template]) => {
    const parts: string[] = [];
    let last = 0;
    for (const match of template.matchAll(TOKEN)) {
      const index = match.index ?? 0;
      if (index > last) parts.push(JSON.stringify(template.slice(last, index)));
      const term = fields[checkField(match[1] ?? '', template)];
      parts.push(match[2] ? `(${term}|uri)` : term);
      last = index + match[0].length;
    }
    if (last < template.length) parts.push(JSON.stringify(template.slice(last)));
    return `${name}:${parts.length === 1 ? parts[0] : `(${parts.join('+')})`}`;
  });
  const jq = `(${JQ_URI_DEF} {${entries.join(',')}})`;
  if (jq.includes("'"))
    throw new Error(`app contract: the jq expression must not contain a single quote: ${jq}`);
  return jq;
}

/**
 * Prefix of the tag the app pipeline adds to every image it deployed successfully to `env`
 * (`deployed-prod-<commit>`); the repository's lifecycle rule of highest priority keeps them.
 */
export function deployedImageTagPrefix(env: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(env)) throw new Error(`environment name must be lower-case, got ${env}`);
  return `deployed-${env}-`;
}

/**
 * The moving tag of the image `env` runs now (`deployed-prod`): the app pipeline's Record stage
 * moves it to each image it deployed successfully (next to `deployed-prod-<commit>`), so it names
 * what the instances run. The infrastructure pipeline's migration test migrates with it.
 */
export function currentImageTag(env: string): string {
  return deployedImageTagPrefix(env).slice(0, -1);
}
