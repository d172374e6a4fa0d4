import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { environments, pipeline } from '../../lib/config/environments';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../lib/app';
import {
  ConfigError,
  cidrsOverlap,
  environmentNames,
  loadEnvironment,
  loadPipeline,
} from '../../lib/config/load';
import { Naming } from '../../lib/config/naming';
import { isIpv4Cidr, type EnvironmentInput } from '../../lib/config/schema';
import { PROJECT_ROOT } from '../../lib/config/project';

/** Sets the value at a dotted path of a plain object (deletes it for `undefined`). */
function setPath(target: Record<string, unknown>, pathInConfig: string, value: unknown): void {
  const keys = pathInConfig.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[keys[keys.length - 1]];
  else node[keys[keys.length - 1]] = value;
}

/** A copy of the whole set with the given values changed (`env.path.in.config` → value). */
function setWith(changes: Record<string, unknown>, extra: Record<string, EnvironmentInput> = {}) {
  // JSON, not structuredClone: dev and staging share nested objects in environments.ts.
  const copy = JSON.parse(JSON.stringify({ ...environments, ...extra })) as Record<string, unknown>;
  for (const [where, value] of Object.entries(changes)) {
    const [env, ...rest] = where.split('.');
    setPath(copy[env] as Record<string, unknown>, rest.join('.'), value);
  }
  return copy as unknown as Record<string, EnvironmentInput>;
}

/** A copy of prod with one value changed at `path`. */
function prodWith(pathInConfig: string, value: unknown): Record<string, EnvironmentInput> {
  const copy = structuredClone(environments.prod) as unknown as Record<string, unknown>;
  const keys = pathInConfig.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[keys[keys.length - 1]];
  else node[keys[keys.length - 1]] = value;
  return { prod: copy as unknown as EnvironmentInput };
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('bad configuration fails with one message naming the field and the value', () => {
  test.each<[string, string, unknown, RegExp]>([
    [
      'bad account id',
      'account',
      '70055874528',
      /account = "70055874528": must be a 12-digit AWS account id/,
    ],
    ['bad region', 'region', 'europe-1', /region = "europe-1": must be an AWS region/],
    [
      'bad CIDR octet',
      'network.vpcCidr',
      '10.0.0.300/16',
      /network\.vpcCidr = "10\.0\.0\.300\/16": must be an IPv4 CIDR/,
    ],
    ['CIDR with host bits', 'network.vpcCidr', '10.0.1.0/16', /network\.vpcCidr = "10\.0\.1\.0\/16"/],
    [
      'bad e-mail',
      'alertEmail',
      'alerts-at-getorcha',
      /alertEmail = "alerts-at-getorcha": must be an e-mail address/,
    ],
    [
      'bad connection ARN',
      'appPipeline.source.connectionArn',
      'arn:aws:s3:::bucket',
      /appPipeline\.source\.connectionArn = "arn:aws:s3:::bucket": must be a CodeConnections connection ARN/,
    ],
    [
      'root volume smaller than the image',
      'compute.rootVolumeGiB',
      6,
      /compute\.rootVolumeGiB = 6: must be at least 8 GiB \(the Amazon Linux 2023 image\)/,
    ],
    [
      'min > max',
      'compute.minCapacity',
      3,
      /compute\.minCapacity = 3: must not exceed compute\.maxCapacity \(2\)/,
    ],
    [
      'no headroom for a rolling update',
      'compute.maxCapacity',
      1,
      /compute\.maxCapacity = 1: must be at least compute\.minCapacity \+ 1 \(2\): rolling updates start the new instance before the old one leaves/,
    ],
    [
      'AMI name (an id is refused: it cannot be checked offline)',
      'compute.amiName',
      'ami-0123456789abcdef0',
      /compute\.amiName = "ami-0123456789abcdef0": must be the name of an Amazon Linux 2023 arm64 release, such as al2023-ami-2023\.6\.20241111\.0-kernel-6\.1-arm64/,
    ],
    [
      'one deployed image only',
      'ecr.deployedImageCount',
      1,
      /ecr\.deployedImageCount = 1: must be at least 2 \(the running image and one to roll back to\)/,
    ],
    [
      'max storage < allocated',
      'database.maxAllocatedStorageGiB',
      20,
      /database\.maxAllocatedStorageGiB = 20: must be at least database\.allocatedStorageGiB \(30\)/,
    ],
    ['empty domain', 'dns.zoneName', '', /dns\.zoneName = "": must not be empty/],
    [
      'bad instance type (not ARM)',
      'compute.instanceType',
      't3.medium',
      /compute\.instanceType = "t3\.medium": must be a Graviton/,
    ],
    [
      'bad log retention',
      'monitoring.logRetentionDays',
      31,
      /monitoring\.logRetentionDays = 31: must be one of/,
    ],
    [
      'AZ outside the region',
      'availabilityZones',
      ['eu-west-1a', 'eu-west-1b'],
      /availabilityZones\.0 = "eu-west-1a": must be in region eu-central-1/,
    ],
    [
      'single AZ',
      'availabilityZones',
      ['eu-central-1a'],
      /availabilityZones = \["eu-central-1a"\]: must list at least two/,
    ],
    ['missing field', 'database.instanceClass', undefined, /database\.instanceClass = \(missing\)/],
    [
      'a minor engine version (RDS applies minors itself)',
      'database.engineVersion',
      '18.1',
      /database\.engineVersion = "18\.1": must be a PostgreSQL major version such as 18 \(RDS applies minor versions in the maintenance window/,
    ],
    ['negative budget', 'monitoring.monthlyBudgetUsd', -5, /monitoring\.monthlyBudgetUsd = -5/],
    ['unknown WAF mode', 'compute.waf.mode', 'deny', /compute\.waf\.mode = "deny": must be count or block/],
    ['unknown field', 'database.iops', 3000, /database = .*unknown field\(s\) iops/],
    [
      'rotation every 0 days',
      'database.credentialRotation.everyDays',
      0,
      /database\.credentialRotation\.everyDays = 0: Too small: expected number to be >=1/,
    ],
    [
      'rotation beyond what Secrets Manager accepts',
      'database.credentialRotation.everyDays',
      1001,
      /database\.credentialRotation\.everyDays = 1001: Too big: expected number to be <=1000/,
    ],
    [
      'rotation switch not a boolean',
      'database.credentialRotation.enabled',
      'yes',
      /database\.credentialRotation\.enabled = "yes": Invalid input: expected boolean/,
    ],
    [
      'the former roadmap shape of rotation',
      'database.credentialRotation',
      false,
      /database\.credentialRotation = false: Invalid input: expected object/,
    ],
  ])('%s', (_what, field, value, message) => {
    const error = errorOf(() => loadEnvironment('prod', prodWith(field, value)));
    expect(error.message).toMatch(/^Invalid configuration for environment "prod": /);
    expect(error.message).toMatch(message);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  test('unknown environment', () => {
    expect(errorOf(() => loadEnvironment('qa')).message).toBe(
      'Invalid configuration: env = "qa": unknown environment (known: dev, staging, prod)',
    );
  });

  test('malformed environment name', () => {
    expect(errorOf(() => loadEnvironment('Prod!')).message).toMatch(
      /env = "Prod!": must be a lower-case name/,
    );
  });

  test('pipeline: unknown stage, duplicate stage, bad e-mail, bad repository', () => {
    expect(errorOf(() => loadPipeline({ ...pipeline, stages: ['staging', 'production'] })).message).toMatch(
      /stages\.1 = "production": unknown environment/,
    );
    expect(errorOf(() => loadPipeline({ ...pipeline, stages: ['prod', 'prod'] })).message).toMatch(
      /lists an environment twice/,
    );
    expect(errorOf(() => loadPipeline({ ...pipeline, notificationEmail: 'x' })).message).toMatch(
      /notificationEmail = "x"/,
    );
    expect(
      errorOf(() => loadPipeline({ ...pipeline, source: { ...pipeline.source, repository: 'no-owner' } }))
        .message,
    ).toMatch(/source\.repository = "no-owner": must be owner\/name/);
  });

  test('CIDR checks', () => {
    expect(isIpv4Cidr('10.0.0.0/16')).toBe(true);
    expect(isIpv4Cidr('10.0.0.0/8')).toBe(false);
    expect(isIpv4Cidr('10.0.0.0/29')).toBe(false);
    expect(isIpv4Cidr('10.0.0/16')).toBe(false);
  });

  test('the app exits non-zero with the one message and writes nothing', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'orcha-bad-config-'));
    const root = PROJECT_ROOT;
    const result = spawnSync(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      [path.join(root, 'bin', 'orcha.ts')],
      {
        cwd: root,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ env: 'qa' }), CDK_OUTDIR: out },
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'Invalid configuration: env = "qa": unknown environment (known: dev, staging, prod)',
    );
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
    rmSync(out, { recursive: true });
  });
});

describe('environments that share an account cannot collide', () => {
  const across = (set: Record<string, EnvironmentInput>, name = 'prod') => {
    const error = errorOf(() => loadEnvironment(name, set));
    expect(error.message).toMatch(/^Invalid configuration across environments: /);
    expect(error.message.split('\n')).toHaveLength(1);
    return error.message;
  };
  /** dev's values under a new environment name (its own CIDR, zone and no singleton). */
  const extraEnv = (cidr: string, zone: string): EnvironmentInput => {
    const copy = structuredClone(environments.dev) as unknown as Record<string, unknown>;
    setPath(copy, 'network.vpcCidr', cidr);
    setPath(copy, 'dns.zoneName', zone);
    return copy as unknown as EnvironmentInput;
  };

  test('the configured environments pass, and every one of them is checked against the others', () => {
    expect(() => loadPipeline()).not.toThrow();
    // A clash between staging and dev stops even a command about prod.
    expect(across(setWith({ 'dev.network.vpcCidr': '10.1.0.0/16' }))).toContain('dev.network.vpcCidr');
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'the same VPC CIDR',
      { 'staging.network.vpcCidr': '10.0.0.0/16' },
      'prod.network.vpcCidr = "10.0.0.0/16": overlaps staging.network.vpcCidr ("10.0.0.0/16") in account 700558745280; give each environment its own range',
    ],
    [
      'an overlapping VPC CIDR',
      { 'dev.network.vpcCidr': '10.1.128.0/17' },
      'staging.network.vpcCidr = "10.1.0.0/16": overlaps dev.network.vpcCidr ("10.1.128.0/17") in account 700558745280',
    ],
    [
      'the same DNS zone',
      { 'staging.dns.zoneName': 'prod.getorcha.com' },
      'prod.dns.zoneName = "prod.getorcha.com": staging.dns.zoneName is the same zone; each environment needs its own',
    ],
    [
      'a DNS zone inside another environment zone',
      { 'dev.dns.zoneName': 'dev.staging.getorcha.com' },
      'dev.dns.zoneName = "dev.staging.getorcha.com": lies inside staging.dns.zoneName ("staging.getorcha.com")',
    ],
    [
      'two owners of an account-wide singleton',
      { 'staging.compute.sessionManagerPreferences': true },
      'prod.compute.sessionManagerPreferences = true: staging.compute.sessionManagerPreferences is true too, in account 700558745280 eu-central-1; only one environment there may own the Session Manager preferences',
    ],
  ])('%s', (_what, changes, message) => {
    expect(across(setWith(changes))).toContain(message);
  });

  test('the same zone is refused even across accounts; CIDRs and singletons only matter in one account', () => {
    expect(
      across(
        setWith({
          'staging.account': '111122223333',
          'staging.dns.zoneName': 'prod.getorcha.com',
        }),
      ),
    ).toContain('prod.dns.zoneName = "prod.getorcha.com": staging.dns.zoneName is the same zone');
    expect(() =>
      loadEnvironment(
        'prod',
        setWith({
          'staging.account': '111122223333',
          'staging.network.vpcCidr': '10.0.0.0/16',
          'staging.compute.sessionManagerPreferences': true,
        }),
      ),
    ).not.toThrow();
  });

  test("a name inside another environment's name prefix (its janitor would delete it)", () => {
    const set = setWith({}, { migtest: extraEnv('10.9.0.0/16', 'migtest.getorcha.com') });
    expect(across(set)).toContain(
      'environment "migtest" names a rds-instance "v1-orcha-migtest-db", which environment "prod" treats as its own (every "v1-orcha-migtest-*") in account 700558745280',
    );
  });

  test("a name of the infrastructure pipeline's (checked when the pipeline is loaded)", () => {
    const set = setWith(
      {},
      {
        infra: extraEnv('10.8.0.0/16', 'infra.getorcha.com'),
        trigger: extraEnv('10.9.0.0/16', 'trigger.getorcha.com'),
      },
    );
    const error = errorOf(() => loadPipeline({ ...pipeline, stages: ['trigger', 'prod'] }, set));
    expect(error.message).toBe(
      'Invalid configuration across environments: the infrastructure pipeline and environment "infra" both name a iam-role "v1-orcha-infra-migration-test-trigger" in account 700558745280; rename one environment',
    );
  });

  test('cidrsOverlap', () => {
    expect(cidrsOverlap('10.0.0.0/16', '10.0.255.0/24')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/16', '10.1.0.0/16')).toBe(false);
    expect(cidrsOverlap('10.1.0.0/17', '10.1.128.0/17')).toBe(false);
    expect(cidrsOverlap('172.16.0.0/16', '172.16.0.0/28')).toBe(true);
  });

  test('every name of the naming module is in its list of physical names (or is a known exception)', () => {
    const naming = new Naming('staging');
    const listed = new Set(naming.physicalNames('1').map((p) => p.name));
    // Not physical names of their own: the prefix and root, the database name inside the
    // instance, the account-wide singleton (owned by one environment), the janitor's prefix, the
    // scheduled action named within its own group.
    const exceptions = new Set([
      'sleepAfterWakeAction',
      'prefix',
      'parameterRoot',
      'dbName',
      'sessionManagerDocument',
      'migrationTestInstancePrefix',
    ]);
    const getters = Object.entries(Object.getOwnPropertyDescriptors(Naming.prototype))
      .filter(([key, d]) => d.get && !exceptions.has(key))
      .map(([key]) => key);
    expect(getters.length).toBeGreaterThan(35);
    const missing = getters.filter((key) => {
      const value = (naming as unknown as Record<string, string>)[key];
      return !listed.has(value) && ![...listed].some((name) => name.endsWith(`/${value}`));
    });
    expect(missing).toEqual([]);
    for (const method of ['documentsBucket', 'pipelineArtifactsBucket', 'accessLogsBucket'] as const)
      expect(listed).toContain(naming[method]('1'));
  });
});

describe('account-wide singletons: an owner in every account and region (two are refused above)', () => {
  const owning = (env: EnvironmentInput, owns: boolean): EnvironmentInput => ({
    ...env,
    compute: { ...env.compute, sessionManagerPreferences: owns },
  });

  test('the configuration of record: prod owns them for the shared account', () => {
    expect(
      environmentNames()
        .map((name) => loadEnvironment(name))
        .filter((c) => c.compute.sessionManagerPreferences)
        .map((c) => c.name),
    ).toEqual(['prod']);
  });

  test('no owner in an account fails, naming the account, its environments and what would be missing', () => {
    const set = { ...environments, prod: owning(environments.prod, false) };
    expect(errorOf(() => loadEnvironment('prod', set)).message).toBe(
      'Invalid configuration across environments: compute.sessionManagerPreferences = false in every environment of ' +
        'account 700558745280 eu-central-1 (dev, staging, prod): set it to true in exactly one, which then owns the ' +
        'Session Manager preferences (SSM-SessionManagerRunShell, one per account and region) and the session log ' +
        'group every environment there writes to',
    );
  });

  test('each account has its own owner when environments live in several accounts', () => {
    const split = {
      ...environments,
      prod: { ...environments.prod, account: '111122223333' },
      staging: owning(environments.staging, true),
    };
    expect(() => loadEnvironment('prod', split)).not.toThrow();
    const orphaned = { ...environments, prod: { ...environments.prod, account: '111122223333' } };
    expect(errorOf(() => loadEnvironment('prod', orphaned)).message).toMatch(
      /account 700558745280 eu-central-1 \(dev, staging\): set it to true in exactly one/,
    );
  });

  test('synthesizing one environment still checks the whole configuration', () => {
    const set = { ...environments, prod: owning(environments.prod, false) };
    expect(errorOf(() => buildApp(new App(), { envName: 'dev', environments: set })).message).toMatch(
      /compute\.sessionManagerPreferences = false in every environment/,
    );
  });
});
