import type { CommandRunner, CommandSpec } from '../../../codebuild/migration-test/command';
import { connectionEnv, dockerMigration, ecrImageExists } from '../../../codebuild/migration-test/command';
import { DATABASE_VARIABLES } from '../../../lib/config/app-contract';
import { PASSWORD } from '../../fixtures/migration-test/states';

test('docker executor: ECR login, pull, run with -e NAMES only; the password never in arguments', async () => {
  const specs: CommandSpec[] = [];
  const env = connectionEnv({
    host: 'db.internal',
    port: 5432,
    user: 'orcha_admin',
    password: PASSWORD,
    database: 'orcha',
    sslMode: 'verify-full',
  });
  expect(env.DATABASE_URL).toBe(`postgres://orcha_admin:${PASSWORD}@db.internal:5432/orcha?sslmode=require`);
  const migrate = dockerMigration(
    {
      image: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
      imageTag: 'abc123',
      command: ['migrate', '--all'],
      region: 'eu-central-1',
    },
    async (spec) => {
      specs.push(spec);
      return { exitCode: 0 };
    },
  );
  const result = await migrate(env, new AbortController().signal, () => undefined);

  expect(result.exitCode).toBe(0);
  expect(specs.map((s) => s.command)).toEqual(['sh', 'docker', 'docker']);
  expect(specs[0]?.env).toEqual({
    ECR_REGION: 'eu-central-1',
    ECR_REGISTRY: '700558745280.dkr.ecr.eu-central-1.amazonaws.com',
  });
  expect(specs[1]?.args).toEqual(['pull', '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha:abc123']);
  expect(specs[2]?.args).toEqual([
    'run',
    '--rm',
    '--network',
    'host',
    // The database contract (lib/config/app-contract.ts), by name only.
    ...Object.keys(DATABASE_VARIABLES).flatMap((name) => ['-e', name]),
    '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha:abc123',
    'migrate',
    '--all',
  ]);
  expect(specs[2]?.env?.PGPASSWORD).toBe(PASSWORD);
  for (const spec of specs) expect(JSON.stringify([spec.command, spec.args])).not.toContain(PASSWORD);
});

test('docker executor: a failed pull is an error of the test, not a verdict', async () => {
  const migrate = dockerMigration(
    {
      image: 'registry.example.com/orcha',
      imageTag: 'missing',
      command: ['migrate'],
      region: 'eu-central-1',
    },
    async (spec) => ({ exitCode: spec.args[0] === 'pull' ? 1 : 0 }),
  );
  await expect(migrate({}, new AbortController().signal, () => undefined)).rejects.toThrow(
    /docker pull .* failed/,
  );
});

describe('ecrImageExists: asks ECR without pulling', () => {
  const options = {
    image: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
    imageTag: 'latest',
    command: ['migrate'],
    region: 'eu-central-1',
  };
  const answering =
    (stdout: string, exitCode = 0, seen: CommandSpec[] = []): CommandRunner =>
    async (spec, _signal, onLine) => {
      seen.push(spec);
      onLine(stdout, 'stdout');
      return { exitCode };
    };

  test('batch-get-image on the repository and tag; 1 image → exists, 0 → missing', async () => {
    const seen: CommandSpec[] = [];
    expect(await ecrImageExists(options, answering('1', 0, seen))(new AbortController().signal)).toBe(true);
    expect(seen[0]?.command).toBe('aws');
    expect(seen[0]?.args).toEqual([
      'ecr',
      'batch-get-image',
      '--region',
      'eu-central-1',
      '--repository-name',
      'v1-orcha',
      '--image-ids',
      'imageTag=latest',
      '--query',
      'length(images)',
      '--output',
      'text',
    ]);
    expect(await ecrImageExists(options, answering('0'))(new AbortController().signal)).toBe(false);
  });

  test('ECR that cannot be asked is an error (the test could not run), not a skip', async () => {
    await expect(ecrImageExists(options, answering('', 254))(new AbortController().signal)).rejects.toThrow(
      /cannot ask ECR .* status 254/,
    );
  });

  test('an image outside ECR is left to the pull', async () => {
    const seen: CommandSpec[] = [];
    const other = { ...options, image: 'docker.io/library/postgres' };
    expect(await ecrImageExists(other, answering('0', 0, seen))(new AbortController().signal)).toBe(true);
    expect(seen).toEqual([]);
  });
});
