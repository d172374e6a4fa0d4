/**
 * The migration test's contract (lib/config/migration-test-contract.ts) across its three sides,
 * each taken as it really is: the synthesized template (the project's variables, its role's and
 * the janitor's IAM conditions), the runner (its settings and the tags its restore phase sends)
 * and the janitor Lambda (what it deletes). A drift of any side fails here.
 */
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type Tag,
} from '@aws-sdk/client-rds';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { RestoreRequest, restoreSnapshot } from '../../codebuild/migration-test/phases';
import { RunContext } from '../../codebuild/migration-test/run-context';
import { loadSettings, type Settings } from '../../codebuild/migration-test/settings';
import { sweep } from '../../lambda/migration-janitor';
import { JANITOR_ENV, RUNNER_ENV, buildReportsUrl } from '../../lib/config/migration-test-contract';
import { resourcesOf } from '../helpers';
import { migrationTestStack } from '../helpers/migration-test-stack';

const { template } = migrationTestStack();
const rdsMock = mockClient(RDSClient);

interface Statement {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
const statements = (roleIdPrefix: string): Statement[] =>
  resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles).includes(roleIdPrefix))
    .flatMap(([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
const bySid = (roleIdPrefix: string, sid: string): Statement => {
  const found = statements(roleIdPrefix).find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} on ${roleIdPrefix}`);
  return found;
};

/** The condition operators these statements use, as IAM evaluates them for one request. */
function conditionsHold(
  condition: Statement['Condition'],
  request: { requestTags?: readonly Tag[]; resourceTags?: readonly Tag[] },
): boolean {
  const tagValue = (tags: readonly Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;
  return Object.entries(condition ?? {}).every(([operator, entries]) =>
    Object.entries(entries).every(([key, expected]) => {
      const allowed = Array.isArray(expected) ? expected : [expected];
      if (operator === 'StringEquals' && key.startsWith('aws:RequestTag/')) {
        return allowed.includes(tagValue(request.requestTags, key.slice('aws:RequestTag/'.length)) ?? '');
      }
      if (operator === 'StringEquals' && key.startsWith('aws:ResourceTag/')) {
        return allowed.includes(tagValue(request.resourceTags, key.slice('aws:ResourceTag/'.length)) ?? '');
      }
      if (operator === 'ForAllValues:StringEquals' && key === 'aws:TagKeys') {
        return (request.requestTags ?? []).every((t) => allowed.includes(t.Key ?? ''));
      }
      throw new Error(`condition ${operator} ${key} is not evaluated by this test`);
    }),
  );
}

const [[, project]] = resourcesOf(template, 'AWS::CodeBuild::Project');
const projectVariables = Object.fromEntries(
  (
    project.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }
  ).EnvironmentVariables.map((v) => [v.Name, v.Value]),
);
/** The project's variables as a build sees them (references resolved to plausible values). */
const buildEnvironment: Record<string, string> = {
  ...Object.fromEntries(Object.entries(projectVariables).filter(([, v]) => typeof v === 'string')),
  [RUNNER_ENV.subnetGroupName]: 'v1-orcha-db-subnets',
  [RUNNER_ENV.securityGroupIds]: 'sg-0123456789abcdef0',
  [RUNNER_ENV.image]: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
  CODEBUILD_BUILD_ID: 'v1-orcha-migration-test:0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
  AWS_REGION: 'eu-central-1',
};
const [[, janitor]] = resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) =>
  id.startsWith('MigrationTestJanitor'),
);
const janitorEnv = (janitor.Environment as { Variables: Record<string, string> }).Variables;

let settings: Settings;
beforeAll(() => {
  settings = loadSettings(buildEnvironment, () => 'PEM bundle');
});
beforeEach(() => rdsMock.reset());

test('the project sets every variable of the contract, and the runner reads them as the project means them', () => {
  expect(Object.keys(projectVariables).sort()).toEqual(
    [...Object.values(RUNNER_ENV), 'RUNNER_BUNDLE'].sort(),
  );
  expect(settings).toMatchObject({
    sourceInstanceId: projectVariables[RUNNER_ENV.sourceInstanceId],
    instancePrefix: projectVariables[RUNNER_ENV.instancePrefix],
    instanceClass: projectVariables[RUNNER_ENV.instanceClass],
    timeoutMinutes: Number(projectVariables[RUNNER_ENV.timeoutMinutes]),
    ttlHours: Number(projectVariables[RUNNER_ENV.ttlHours]),
    imageTag: 'deployed-prod',
    command: JSON.parse(projectVariables[RUNNER_ENV.command] as string),
    databaseName: projectVariables[RUNNER_ENV.databaseName],
  });
  expect(settings.tempInstanceId.startsWith(settings.instancePrefix)).toBe(true);
});

describe('the runner restores what the project role allows, and the janitor cleans up what the runner leaves', () => {
  let requestTags: Tag[];
  beforeAll(async () => {
    rdsMock.reset();
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    let t = Date.parse('2026-11-27T08:00:00Z');
    const ctx = new RunContext({
      rds: new RDSClient({ region: 'eu-central-1' }),
      settings,
      log: () => undefined,
      clock: { now: () => t },
      sleep: async (ms) => void (t += ms),
    });
    const snapshot = {
      identifier: 'rds:v1-orcha-db-2026-11-26',
      type: 'automated',
      createdAt: new Date(),
      encrypted: true,
    };
    await restoreSnapshot(ctx, snapshot, new RestoreRequest());
    ctx.dispose();
    const input = rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0].args[0].input;
    requestTags = input.Tags ?? [];
    expect(input.DBInstanceIdentifier).toBe(settings.tempInstanceId);
  });

  test('the restore request carries exactly the tags the restore and tag statements require', () => {
    for (const sid of ['RestoreFromSourceSnapshots', 'TagTemporaryInstancesOnCreate']) {
      expect(conditionsHold(bySid('MigrationTestProjectRole', sid).Condition, { requestTags })).toBe(true);
    }
    // The evaluation can fail: one tag more, or one required tag less, is refused.
    const restore = bySid('MigrationTestProjectRole', 'RestoreFromSourceSnapshots').Condition;
    expect(conditionsHold(restore, { requestTags: [...requestTags, { Key: 'Owner', Value: 'x' }] })).toBe(
      false,
    );
    expect(conditionsHold(restore, { requestTags: requestTags.filter((t) => t.Key !== 'ManagedBy') })).toBe(
      false,
    );
  });

  test('the runner may delete the instance it created (its tags satisfy the delete condition)', () => {
    const del = bySid('MigrationTestProjectRole', 'ModifyAndDeleteTemporaryInstances');
    expect(conditionsHold(del.Condition, { resourceTags: requestTags })).toBe(true);
  });

  test('the janitor finds that instance by its prefix and tags once expired, and its role may delete it', async () => {
    const expired = requestTags.map((t) =>
      t.Key === 'ExpiresAt' ? { ...t, Value: '2026-11-27T09:00:00.000Z' } : t,
    );
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: settings.tempInstanceId, DBInstanceStatus: 'available', TagList: expired },
        // the same tags on an instance outside the prefix: never touched
        { DBInstanceIdentifier: 'v1-orcha-db', DBInstanceStatus: 'available', TagList: expired },
      ],
    });
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    const summary = await sweep({
      rds: new RDSClient({ region: 'eu-central-1' }),
      prefix: janitorEnv[JANITOR_ENV.instancePrefix],
      logger: new Logger({ logLevel: 'SILENT' }),
      now: () => Date.parse('2026-11-27T12:00:00Z'),
    });
    expect(summary.deleted).toEqual([settings.tempInstanceId]);
    const del = bySid('MigrationTestJanitorRole', 'DeleteExpiredTemporaryInstances');
    expect(conditionsHold(del.Condition, { resourceTags: expired })).toBe(true);
  });
});

describe("the link of a build's report page (the runner's export, the trigger's fallback, the approvals)", () => {
  const uuid = '0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a';
  test('from the build ARN, per partition; the build id is URL-encoded', () => {
    expect(
      buildReportsUrl(`arn:aws:codebuild:eu-central-1:700558745280:build/v1-orcha-migration-test:${uuid}`),
    ).toBe(
      `https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/700558745280/projects/v1-orcha-migration-test/build/v1-orcha-migration-test%3A${uuid}/reports?region=eu-central-1`,
    );
    expect(buildReportsUrl(`arn:aws-us-gov:codebuild:us-gov-west-1:111122223333:build/p:${uuid}`)).toBe(
      `https://console.amazonaws-us-gov.com/codesuite/codebuild/111122223333/projects/p/build/p%3A${uuid}/reports?region=us-gov-west-1`,
    );
  });
  test.each([
    ['a project ARN', 'arn:aws:codebuild:eu-central-1:700558745280:project/v1-orcha-migration-test'],
    ['a build id', `v1-orcha-migration-test:${uuid}`],
    ['an unknown partition', `arn:aws-xx:codebuild:eu-central-1:700558745280:build/p:${uuid}`],
    ['markup in the project name', `arn:aws:codebuild:eu-central-1:700558745280:build/p"><x:${uuid}`],
  ])('nothing for %s', (_what, arn) => {
    expect(buildReportsUrl(arn)).toBeUndefined();
  });
});
