import { spawnSync } from 'node:child_process';
import {
  DATABASE_SECRET_VARIABLES,
  DATABASE_VARIABLES,
  databaseEnv,
  databaseEnvJq,
  deployedImageTagPrefix,
  uriEncode,
} from '../../lib/config/app-contract';

const FIELDS = {
  host: '$host',
  port: '$port',
  name: '$name',
  user: '$user',
  password: '$password',
  sslMode: '$sslmode',
} as const;

/** The jq expression evaluated by the installed jq with the connection's fields as variables. */
function viaJq(c: {
  host: string;
  port: string;
  name: string;
  user: string;
  password: string;
  sslmode: string;
}) {
  const args = Object.entries(c).flatMap(([k, v]) => ['--arg', k, v]);
  const r = spawnSync('jq', ['-n', '-c', ...args, databaseEnvJq(FIELDS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

test('one definition, two renderers: the TypeScript and the jq rendering agree, reserved characters included', () => {
  for (const password of ["p@ss:w/rd?#&=+ !'()*%é", 'plain', '~-_.']) {
    const c = {
      host: 'db.internal',
      port: '5432',
      name: 'orcha',
      user: 'orcha admin',
      password,
      sslmode: 'require',
    };
    expect(viaJq(c)).toEqual(databaseEnv({ ...c, sslMode: 'require' }));
  }
});

test('the variables the application and the migration container get', () => {
  expect(Object.keys(DATABASE_VARIABLES)).toEqual([
    'DB_HOST',
    'DB_PORT',
    'DB_NAME',
    'DB_USER',
    'DB_PASSWORD',
    'DB_SSLMODE',
    'DATABASE_URL',
    'JDBC_DATABASE_URL',
    'PGHOST',
    'PGPORT',
    'PGDATABASE',
    'PGUSER',
    'PGPASSWORD',
    'PGSSLMODE',
  ]);
  expect(DATABASE_SECRET_VARIABLES).toEqual([
    'DB_PASSWORD',
    'DATABASE_URL',
    'JDBC_DATABASE_URL',
    'PGPASSWORD',
  ]);
});

test('percent-encoding leaves only the unreserved characters', () => {
  expect(uriEncode("a-b_c.d~e!f'g(h)i*j k/l@m")).toBe('a-b_c.d~e%21f%27g%28h%29i%2Aj%20k%2Fl%40m');
});

test('the jq expression fits in a single-quoted bash string', () => {
  expect(databaseEnvJq(FIELDS)).not.toContain("'");
});

test('deployed image tags are per environment', () => {
  expect(deployedImageTagPrefix('prod')).toBe('deployed-prod-');
  expect(() => deployedImageTagPrefix('Prod X')).toThrow(/lower-case/);
});
