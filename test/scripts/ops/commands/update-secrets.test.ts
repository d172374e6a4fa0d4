import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParametersCommand, PutParameterCommand, SSMClient, type Parameter } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { updateSecrets } from '../../../../scripts/ops/commands/update-secrets';
import { ExitCode, OpsError } from '../../../../scripts/ops/errors';
import { main } from '../../../../scripts/ops/program';
import { processOutput } from '../../../../scripts/ops/output';
import {
  ACCOUNT,
  OTHER_ACCOUNT,
  REGION,
  awsError,
  captureOutput,
  cliDeps,
  factory,
  mockedSts,
} from '../../../helpers/ops';

// Distinctive values: none of them can appear in any output by accident.
const DB_URL = 'postgres://orcha:Zq8-SECRET-db-9fK@db.internal:5432/orcha';
const API_KEY = 'sk_live_SECRET_4f9a7c1e22b0';
const SMTP_PASSWORD = 'p@ss "quoted" SECRET\\backslash';
const UNICODE = 'pässwört-SECRET-ü€-99';
const OLD_DB_URL = 'postgres://orcha:OLD-SECRET-value-77@db.internal:5432/orcha';
const ALL_SECRETS = [DB_URL, API_KEY, SMTP_PASSWORD, UNICODE, OLD_DB_URL];

const dir = mkdtempSync(join(tmpdir(), 'ops-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function secretsFile(content: string): string {
  const file = join(dir, `secrets-${++fileCount}`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

const STANDARD_FILE = [
  '# Orcha prod settings',
  `export DATABASE_URL="${DB_URL}"`,
  `API_KEY=${API_KEY}`,
  `SMTP_PASSWORD='${SMTP_PASSWORD}'`,
  '',
].join('\n');

function setup(account = ACCOUNT) {
  const sts = mockedSts(account);
  const ssm = new SSMClient({ region: REGION });
  const ssmMock = mockClient(ssm);
  ssmMock.on(GetParametersCommand).resolves({ Parameters: [] });
  ssmMock.on(PutParameterCommand).resolves({ Version: 1 });
  const clients = factory({ sts: () => sts.client, ssm: () => ssm });
  const out = captureOutput();
  return { sts, ssmMock, clients, out };
}

function stored(name: string, value: string, type = 'SecureString'): Parameter {
  return { Name: name, Value: value, Type: type as Parameter['Type'] };
}

function puts(ssmMock: ReturnType<typeof mockClient>) {
  return ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
}

function expectNoSecrets(text: string, secrets = ALL_SECRETS) {
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(text).not.toContain(encodeURIComponent(secret));
  }
}

describe('update-secrets', () => {
  test('writes every key as a SecureString under /v1-orcha/ with Overwrite', async () => {
    const { ssmMock, clients, out } = setup();
    const result = await updateSecrets(
      { env: 'prod', fromFile: secretsFile(STANDARD_FILE) },
      { clients, out },
    );

    expect(puts(ssmMock)).toEqual([
      { Name: '/v1-orcha/DATABASE_URL', Value: DB_URL, Type: 'SecureString', Overwrite: true },
      { Name: '/v1-orcha/API_KEY', Value: API_KEY, Type: 'SecureString', Overwrite: true },
      { Name: '/v1-orcha/SMTP_PASSWORD', Value: SMTP_PASSWORD, Type: 'SecureString', Overwrite: true },
    ]);
    expect(ssmMock.commandCalls(GetParametersCommand)[0]?.args[0].input).toEqual({
      Names: ['/v1-orcha/DATABASE_URL', '/v1-orcha/API_KEY', '/v1-orcha/SMTP_PASSWORD'],
      WithDecryption: true,
    });
    expect(result.written).toEqual(['DATABASE_URL', 'API_KEY', 'SMTP_PASSWORD']);
    expect(result.notWritten).toEqual([]);
    expect(out.stdout()).toContain('created      /v1-orcha/API_KEY');
    expect(out.stdout()).toContain('Done: 3 created, 0 changed, 0 unchanged.');
    expectNoSecrets(out.all());
  });

  test('uses the environment path for staging and the configured region by default', async () => {
    const { ssmMock, clients, out } = setup();
    await updateSecrets({ env: 'staging', fromFile: secretsFile(`API_KEY=${API_KEY}\n`) }, { clients, out });
    expect(puts(ssmMock).map((p) => p.Name)).toEqual(['/v1-orcha-staging/API_KEY']);
    expect(clients.targets.find((t) => t.kind === 'ssm')?.target).toEqual({
      region: REGION,
      profile: undefined,
    });
  });

  test('passes --profile and --region to the clients', async () => {
    const { clients, out } = setup();
    await updateSecrets(
      {
        env: 'prod',
        fromFile: secretsFile(`API_KEY=${API_KEY}\n`),
        profile: 'orcha-prod',
        region: 'eu-west-1',
      },
      { clients, out },
    );
    expect(clients.targets.map((t) => t.target)).toEqual([
      { region: 'eu-west-1', profile: 'orcha-prod' },
      { region: 'eu-west-1', profile: 'orcha-prod' },
    ]);
  });

  test('dry run lists created, changed and unchanged keys and writes nothing', async () => {
    const { ssmMock, clients, out } = setup();
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [stored('/v1-orcha/DATABASE_URL', OLD_DB_URL), stored('/v1-orcha/API_KEY', API_KEY)],
      InvalidParameters: ['/v1-orcha/SMTP_PASSWORD'],
    });
    const result = await updateSecrets(
      { env: 'prod', fromFile: secretsFile(STANDARD_FILE), dryRun: true },
      { clients, out },
    );

    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(result.plan.map((p) => [p.key, p.action])).toEqual([
      ['DATABASE_URL', 'change'],
      ['API_KEY', 'unchanged'],
      ['SMTP_PASSWORD', 'create'],
    ]);
    expect(out.stdout()).toContain('would change /v1-orcha/DATABASE_URL');
    expect(out.stdout()).toContain('unchanged    /v1-orcha/API_KEY');
    expect(out.stdout()).toContain('would create /v1-orcha/SMTP_PASSWORD');
    expect(out.stdout()).toContain('Dry run: 1 to create, 1 to change, 1 unchanged. Nothing was written.');
    expectNoSecrets(out.all());
  });

  test('a parameter with the same value but another type is converted to SecureString', async () => {
    const { ssmMock, clients, out } = setup();
    ssmMock
      .on(GetParametersCommand)
      .resolves({ Parameters: [stored('/v1-orcha/API_KEY', API_KEY, 'String')] });
    const result = await updateSecrets(
      { env: 'prod', fromFile: secretsFile(`API_KEY=${API_KEY}\n`) },
      { clients, out },
    );
    expect(result.plan[0]).toMatchObject({ action: 'change', note: expect.stringContaining('String') });
    expect(puts(ssmMock)).toHaveLength(1);
  });

  test('warns about keys the instances set themselves', async () => {
    const { ssmMock, clients, out } = setup();
    await updateSecrets(
      { env: 'prod', fromFile: secretsFile(`DB_HOST=x.example\nAPI_KEY=${API_KEY}\n`) },
      { clients, out },
    );
    expect(out.stderr()).toContain('Warning: DB_HOST is set by the instances themselves');
    expect(puts(ssmMock)).toHaveLength(2);
  });

  test('a rerun with everything stored writes nothing', async () => {
    const { ssmMock, clients, out } = setup();
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        stored('/v1-orcha/DATABASE_URL', DB_URL),
        stored('/v1-orcha/API_KEY', API_KEY),
        stored('/v1-orcha/SMTP_PASSWORD', SMTP_PASSWORD),
      ],
    });
    const result = await updateSecrets(
      { env: 'prod', fromFile: secretsFile(STANDARD_FILE) },
      { clients, out },
    );
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(result.unchanged).toEqual(['DATABASE_URL', 'API_KEY', 'SMTP_PASSWORD']);
    expect(out.stdout()).toContain('Done: 0 created, 0 changed, 3 unchanged.');
  });

  test('reads current values in batches of at most 10 names', async () => {
    const { ssmMock, clients, out } = setup();
    const keys = Array.from({ length: 23 }, (_, i) => `KEY_${i}`);
    await updateSecrets(
      { env: 'prod', fromFile: secretsFile(keys.map((k) => `${k}=value-of-${k}`).join('\n')), dryRun: true },
      { clients, out },
    );
    const batches = ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names ?? []);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches.flat()).toEqual(keys.map((k) => `/v1-orcha/${k}`));
  });

  describe('refuses bad input before touching AWS (exit 2)', () => {
    test.each([
      ['an empty value', 'API_KEY=\nOTHER=x\n', 'line 1: API_KEY has an empty value'],
      ['a quoted empty value', 'API_KEY=""\n', 'API_KEY has an empty value'],
      ['a lower-case key', 'api_key=x\n', 'key "api_key" is not valid'],
      ['a key with a dot', 'API.KEY=x\n', 'key "API.KEY" is not valid'],
      ['a duplicate key', 'A=1\nA=2\n', 'A is defined more than once (lines 1, 2)'],
      ['a stray line', `A=1\n${API_KEY}\n`, 'line 2: not a KEY=value line (content not shown)'],
      ['an unquoted #', 'A=abc#def\n', 'quote the value'],
      ['an unclosed quote', 'A="abc\n', 'not closed'],
      ['an empty file', '# nothing\n\n', 'holds no KEY=value lines'],
      ['a multi-line value', 'A="one\\ntwo"\n', 'line 1: A: the value spans several lines'],
      ['a value over 4096 bytes', `A=${'x'.repeat(4097)}\n`, 'more than the 4096 bytes'],
    ])('%s', async (_what, content, message) => {
      const { sts, ssmMock, clients, out } = setup();
      const run = updateSecrets({ env: 'prod', fromFile: secretsFile(content) }, { clients, out });
      await expect(run).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining(message),
      });
      await expect(run).rejects.not.toMatchObject({ message: expect.stringContaining(API_KEY) });
      expect(sts.mock.calls()).toHaveLength(0);
      expect(ssmMock.calls()).toHaveLength(0);
    });

    test('an unknown environment', async () => {
      const { sts, clients, out } = setup();
      await expect(
        updateSecrets({ env: 'production', fromFile: secretsFile('A=1\n') }, { clients, out }),
      ).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('unknown environment (known: dev, staging, prod)'),
      });
      expect(sts.mock.calls()).toHaveLength(0);
    });

    test('a missing file', async () => {
      const { clients, out } = setup();
      await expect(
        updateSecrets({ env: 'prod', fromFile: join(dir, 'does-not-exist') }, { clients, out }),
      ).rejects.toMatchObject({ exitCode: ExitCode.Usage, message: expect.stringContaining('ENOENT') });
    });

    test('lists every problem of the file at once', async () => {
      const { clients, out } = setup();
      await expect(
        updateSecrets({ env: 'prod', fromFile: secretsFile('a=1\nB=\nC=ok\n') }, { clients, out }),
      ).rejects.toThrow(/line 1: key "a".*\n.*line 2: B has an empty value/);
    });
  });

  test('wrong account: exits 3 before reading or writing parameters', async () => {
    const { ssmMock, clients, out } = setup(OTHER_ACCOUNT);
    await expect(
      updateSecrets(
        { env: 'prod', fromFile: secretsFile(STANDARD_FILE), profile: 'orcha-dev' },
        { clients, out },
      ),
    ).rejects.toMatchObject({
      exitCode: ExitCode.Credentials,
      message: expect.stringMatching(
        /^Wrong account: profile "orcha-dev" belong to account 111122223333 .* 700558745280/,
      ),
    });
    expect(ssmMock.calls()).toHaveLength(0);
  });

  test('missing credentials: exits 3 with a hint', async () => {
    const { sts, ssmMock, clients, out } = setup();
    sts.mock
      .on(GetCallerIdentityCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    await expect(
      updateSecrets({ env: 'prod', fromFile: secretsFile(STANDARD_FILE) }, { clients, out }),
    ).rejects.toMatchObject({
      exitCode: ExitCode.Credentials,
      message: expect.stringContaining('aws sso login'),
    });
    expect(ssmMock.calls()).toHaveLength(0);
  });

  test('a failure while reading current values writes nothing (exit 1)', async () => {
    const { ssmMock, clients, out } = setup();
    ssmMock.on(GetParametersCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(
      updateSecrets({ env: 'prod', fromFile: secretsFile(STANDARD_FILE) }, { clients, out }),
    ).rejects.toMatchObject({
      exitCode: ExitCode.Failed,
      message: expect.stringContaining('ThrottlingException: Rate exceeded'),
    });
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  describe('partial failure', () => {
    function failOn(ssmMock: ReturnType<typeof mockClient>, name: string, error: Error) {
      ssmMock.on(PutParameterCommand, { Name: name }).rejects(error);
    }

    test('reports exactly which keys were written and which not, and a rerun finishes', async () => {
      const { ssmMock, clients, out } = setup();
      ssmMock
        .on(GetParametersCommand)
        .resolves({ Parameters: [stored('/v1-orcha/DATABASE_URL', OLD_DB_URL)] });
      failOn(
        ssmMock,
        '/v1-orcha/API_KEY',
        awsError('ValidationException', `1 validation error detected: Value '${API_KEY}' at 'value' failed`),
      );

      let error: unknown;
      await updateSecrets({ env: 'prod', fromFile: secretsFile(STANDARD_FILE) }, { clients, out }).catch(
        (e: unknown) => (error = e),
      );
      expect(error).toBeInstanceOf(OpsError);
      const message = (error as OpsError).message;
      expect((error as OpsError).exitCode).toBe(ExitCode.Failed);
      expect(message).toContain('Partial failure: 2 of 3 parameters written; not written: API_KEY.');
      expect(message).toContain('Rerun the same command');
      expect(puts(ssmMock).map((p) => p.Name)).toEqual([
        '/v1-orcha/DATABASE_URL',
        '/v1-orcha/API_KEY',
        '/v1-orcha/SMTP_PASSWORD',
      ]);
      expect(out.stderr()).toContain('Written (2): DATABASE_URL, SMTP_PASSWORD');
      expect(out.stderr()).toMatch(/Not written \(1\): API_KEY \(ValidationException: .*\[REDACTED\]/);
      expect(out.stderr()).toContain('FAILED       /v1-orcha/API_KEY');
      expectNoSecrets(out.all() + message);

      // The rerun: what was written is now stored; only API_KEY is written.
      const rerun = setup();
      rerun.ssmMock.on(GetParametersCommand).resolves({
        Parameters: [
          stored('/v1-orcha/DATABASE_URL', DB_URL),
          stored('/v1-orcha/SMTP_PASSWORD', SMTP_PASSWORD),
        ],
      });
      const result = await updateSecrets(
        { env: 'prod', fromFile: secretsFile(STANDARD_FILE) },
        { clients: rerun.clients, out: rerun.out },
      );
      expect(puts(rerun.ssmMock).map((p) => p.Name)).toEqual(['/v1-orcha/API_KEY']);
      expect(result.unchanged).toEqual(['DATABASE_URL', 'SMTP_PASSWORD']);
    });

    test('expired credentials mid-way stop the run; the rest is reported as not attempted', async () => {
      const { ssmMock, clients, out } = setup();
      failOn(
        ssmMock,
        '/v1-orcha/API_KEY',
        awsError('ExpiredTokenException', 'The security token included in the request is expired'),
      );
      await expect(
        updateSecrets({ env: 'prod', fromFile: secretsFile(STANDARD_FILE) }, { clients, out }),
      ).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: expect.stringContaining('1 of 3 parameters written; not written: API_KEY, SMTP_PASSWORD.'),
      });
      expect(puts(ssmMock).map((p) => p.Name)).toEqual(['/v1-orcha/DATABASE_URL', '/v1-orcha/API_KEY']);
      expect(out.stderr()).toContain('SMTP_PASSWORD (not attempted)');
      expect(out.stderr()).toContain('Written (1): DATABASE_URL');
    });
  });

  describe('never prints a secret value', () => {
    const FILE = `${STANDARD_FILE}UNICODE_KEY=${UNICODE}\n`;
    let written: string[];
    let spies: jest.SpyInstance[];

    beforeEach(() => {
      written = [];
      const record = (chunk: unknown) => {
        written.push(String(chunk));
        return true;
      };
      spies = [
        jest.spyOn(process.stdout, 'write').mockImplementation(record),
        jest.spyOn(process.stderr, 'write').mockImplementation(record),
        jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => record(a.join(' '))),
        jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => record(a.join(' '))),
        jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => record(a.join(' '))),
      ];
    });
    afterEach(() => spies.forEach((s) => s.mockRestore()));

    async function runCli(args: string[], configure: (s: ReturnType<typeof setup>) => void) {
      const s = setup();
      configure(s);
      const code = await main(['node', 'ops', 'update-secrets', ...args], cliDeps(s.clients, processOutput));
      return { code, s };
    }

    type Setup = ReturnType<typeof setup>;
    const cases: [string, string[], (s: Setup) => void, number][] = [
      ['a successful run', [], () => undefined, ExitCode.Ok],
      ['a dry run', ['--dry-run'], () => undefined, ExitCode.Ok],
      [
        'a write failure whose SDK message echoes the value (plain and JSON-escaped)',
        [],
        (s: ReturnType<typeof setup>) => {
          s.ssmMock
            .on(PutParameterCommand, { Name: '/v1-orcha/SMTP_PASSWORD' })
            .rejects(
              awsError(
                'ValidationException',
                `Value ${JSON.stringify(SMTP_PASSWORD)} at 'value' failed; raw ${SMTP_PASSWORD}`,
              ),
            );
          s.ssmMock
            .on(PutParameterCommand, { Name: '/v1-orcha/UNICODE_KEY' })
            .rejects(
              awsError(
                'ValidationException',
                `Value '${UNICODE}' is invalid, also ${encodeURIComponent(UNICODE)}`,
              ),
            );
        },
        ExitCode.Failed,
      ],
      [
        'a failure echoing a current (old) value',
        [],
        (s: ReturnType<typeof setup>) => {
          s.ssmMock
            .on(GetParametersCommand)
            .resolves({ Parameters: [stored('/v1-orcha/DATABASE_URL', OLD_DB_URL)] });
          s.ssmMock
            .on(PutParameterCommand, { Name: '/v1-orcha/DATABASE_URL' })
            .rejects(awsError('InternalServerError', `conflict with ${OLD_DB_URL} / ${DB_URL}`));
        },
        ExitCode.Failed,
      ],
      [
        'a read failure whose message echoes values',
        [],
        (s: ReturnType<typeof setup>) => {
          s.ssmMock
            .on(GetParametersCommand)
            .rejects(awsError('InternalServerError', `boom ${API_KEY} ${DB_URL}`));
        },
        ExitCode.Failed,
      ],
      [
        'an unexpected non-AWS error echoing a value',
        [],
        (s: ReturnType<typeof setup>) => {
          s.ssmMock.on(PutParameterCommand).callsFake(() => {
            throw new TypeError(`cannot serialize ${API_KEY}`);
          });
        },
        ExitCode.Failed,
      ],
    ];

    test.each(cases)('%s', async (_what, extraArgs, configure, expectedCode) => {
      const { code, s } = await runCli(
        ['--env', 'prod', '--from-file', secretsFile(FILE), ...extraArgs],
        configure,
      );
      expect(code).toBe(expectedCode);
      expect(written.length).toBeGreaterThan(0);
      expectNoSecrets(written.join(''));
      // The values did reach AWS (so the test would notice if they were printed instead).
      if (!extraArgs.includes('--dry-run') && expectedCode === ExitCode.Ok) {
        expect(puts(s.ssmMock).map((p) => p.Value)).toContain(UNICODE);
      }
    });

    test('also through a capturing output sink', async () => {
      const s = setup();
      s.ssmMock
        .on(PutParameterCommand, { Name: '/v1-orcha/API_KEY' })
        .rejects(awsError('ValidationException', `Value '${API_KEY}' failed`));
      const out = captureOutput();
      const code = await main(
        ['node', 'ops', 'update-secrets', '--env', 'prod', '--from-file', secretsFile(FILE)],
        cliDeps(s.clients, out),
      );
      expect(code).toBe(ExitCode.Failed);
      expect(out.all()).toContain('API_KEY');
      expect(out.all()).toContain('[REDACTED]');
      expectNoSecrets(out.all());
      expect(written.join('')).toBe('');
    });

    test('short values (WORKERS=2, DEBUG=false) do not mangle the prose of an AWS error', async () => {
      const s = setup();
      s.ssmMock
        .on(PutParameterCommand, { Name: '/v1-orcha/DEBUG' })
        .rejects(awsError('ThrottlingException', 'Cannot determine the rate; retry later (tried 2x)'));
      const out = captureOutput();
      const code = await main(
        [
          'node',
          'ops',
          'update-secrets',
          '--env',
          'prod',
          '--from-file',
          secretsFile('WORKERS=2\nDEBUG=false\nAPI_KEY=' + API_KEY + '\n'),
        ],
        cliDeps(s.clients, out),
      );
      expect(code).toBe(ExitCode.Failed);
      expect(out.all()).toContain('Cannot determine the rate; retry later (tried 2x)');
      expect(out.all()).not.toMatch(/d\[REDACTED\]t/);
      expectNoSecrets(out.all());
    });
  });
});
