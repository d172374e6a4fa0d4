import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { CLEANUP_MARGIN_MINUTES } from '../../../lib/constructs/migration-test';
import { nagFindings } from '../../../lib/nag';
import { migrationTestStack } from '../../helpers/migration-test-stack';

// One synth for the file.
const {
  app,
  stack,
  config,
  vpc,
  codeBuildSg,
  rdsSg,
  subnetGroup,
  repository,
  logGroup,
  migrationTest,
  template,
} = migrationTestStack();

const ref = (construct: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.getLogicalId((construct.node.defaultChild ?? construct) as never),
});
const buildSubnetRefs = vpc.selectSubnets({ subnetGroupName: 'build' }).subnets.map((s) => ref(s));
const TEMP_INSTANCES = 'arn:aws:rds:eu-central-1:700558745280:db:v1-orcha-migtest-*';
/** `Fn::Join` of strings and references as one string, references written `${LogicalId}`. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string; 'Fn::GetAtt'?: string[] };
  if (v.Ref) return `\${${v.Ref}}`;
  if (v['Fn::GetAtt']) return `\${${v['Fn::GetAtt'].join('.')}}`;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(joined).join(v['Fn::Join'][0]);
  throw new Error(`cannot join ${JSON.stringify(value)}`);
}
const sorted = (value: unknown): string[] => [value].flat().map(joined).sort();

function statementsOf(roleMatcher: unknown): Record<string, unknown>[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([roleMatcher]) },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
        .PolicyDocument.Statement,
  );
}
const projectRole = ref(migrationTest.project.role as never);
const bySid = (statements: Record<string, unknown>[], sid: string) => statements.find((s) => s.Sid === sid);

test('the CodeBuild project runs in the build subnets with the CodeBuild security group', () => {
  template.hasResourceProperties('AWS::CodeBuild::Project', {
    Name: 'v1-orcha-migration-test',
    VpcConfig: {
      VpcId: ref(vpc),
      Subnets: buildSubnetRefs,
      SecurityGroupIds: [
        { 'Fn::GetAtt': [stack.getLogicalId(codeBuildSg.node.defaultChild as never), 'GroupId'] },
      ],
    },
    Environment: Match.objectLike({
      Type: 'ARM_CONTAINER',
      Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
      PrivilegedMode: true,
    }),
    TimeoutInMinutes: config.migrationTest.timeoutMinutes + CLEANUP_MARGIN_MINUTES,
    // No source of its own: the buildspec downloads the runner, whatever source a build is given.
    Source: Match.objectLike({ Type: 'NO_SOURCE' }),
    LogsConfig: {
      CloudWatchLogs: { Status: 'ENABLED', GroupName: ref(logGroup), StreamName: 'v1-orcha-migration-test' },
    },
  });
  expect(buildSubnetRefs).toHaveLength(2);
});

test('the project passes the runner its settings and runs the bundled runner', () => {
  const project = Object.values(template.findResources('AWS::CodeBuild::Project'))[0] as {
    Properties: {
      Environment: { EnvironmentVariables: { Name: string; Value: unknown }[] };
      Source: { BuildSpec: unknown };
    };
  };
  const vars = Object.fromEntries(
    project.Properties.Environment.EnvironmentVariables.map((v) => [v.Name, v.Value]),
  );
  expect(vars).toMatchObject({
    SOURCE_DB_INSTANCE_ID: 'v1-orcha-db',
    TEMP_INSTANCE_PREFIX: 'v1-orcha-migtest-',
    DB_SUBNET_GROUP_NAME: ref(subnetGroup),
    DB_SECURITY_GROUP_IDS: {
      'Fn::GetAtt': [stack.getLogicalId(rdsSg.node.defaultChild as never), 'GroupId'],
    },
    TEMP_INSTANCE_CLASS: 'db.t4g.medium',
    TIMEOUT_MINUTES: '90',
    INSTANCE_TTL_HOURS: '3',
    // The repository URI from its account, region and name: no ARN parsed with Fn::Split.
    MIGRATION_IMAGE: {
      'Fn::Join': [
        '',
        ['700558745280.dkr.ecr.eu-central-1.', { Ref: 'AWS::URLSuffix' }, '/', ref(repository)],
      ],
    },
    // The image prod runs now (moved by the app pipeline's Record stage), not `latest`.
    MIGRATION_IMAGE_TAG: 'deployed-prod',
    MIGRATION_VERDICT: 'block',
    MIGRATION_COMMAND: '["migrate"]',
    ALLOW_DATA_LOSS: '[]',
    DATABASE_NAME: 'orcha',
    DB_SSL_CA_FILE: '/tmp/rds-ca.pem',
  });
  const buildspec = JSON.parse(joined(project.Properties.Source.BuildSpec)) as {
    phases: { build: { commands: string[] }; pre_build: { commands: string[] } };
    reports: Record<string, { 'file-format': string; files: string[] }>;
    env: { 'exported-variables': string[] };
  };
  expect(buildspec.phases.build.commands[0]).toMatch(
    /^node --enable-source-maps \/tmp\/migration-test-runner\/runner\.js/,
  );
  expect(joined(vars.RUNNER_BUNDLE)).toMatch(
    /^s3:\/\/cdk-hnb659fds-assets-700558745280-eu-central-1\/[0-9a-f]{64}\.zip$/,
  );
  expect(buildspec.phases.pre_build.commands[0]).toContain(
    'truststore.pki.rds.amazonaws.com/global/global-bundle.pem',
  );
  expect(Object.values(buildspec.reports)).toEqual([
    { files: ['migration-report.xml'], 'base-directory': 'reports', 'file-format': 'JUNITXML' },
  ]);
  expect(buildspec.env['exported-variables']).toEqual([
    'MIGRATION_EXIT_CODE',
    'MIGRATION_SUMMARY',
    'MIGRATION_REPORT_URL',
  ]);
  template.resourceCountIs('AWS::CodeBuild::ReportGroup', 1);
});

test('the runner was bundled into one JavaScript file by esbuild', () => {
  const bundles = readdirSync(app.outdir).filter(
    (d) => d.startsWith('asset.') && existsSync(join(app.outdir, d, 'runner.js')),
  );
  expect(bundles).toHaveLength(1);
  expect(existsSync(join(app.outdir, bundles[0]!, 'runner.js.map'))).toBe(true);
});

test('restore is scoped to the source snapshots, prefixed instances and the subnet group, with request tags', () => {
  const statement = bySid(statementsOf(projectRole), 'RestoreFromSourceSnapshots');
  expect(statement).toMatchObject({
    Action: 'rds:RestoreDBInstanceFromDBSnapshot',
    Effect: 'Allow',
    Condition: {
      StringEquals: {
        'aws:RequestTag/Purpose': 'migration-test',
        'aws:RequestTag/ManagedBy': 'migration-test-runner',
      },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['Purpose', 'CreatedBy', 'ExpiresAt', 'ManagedBy'] },
    },
  });
  const db = 'v1-orcha-db'; // by its fixed name: literal ARNs
  expect(sorted(statement?.Resource)).toEqual([
    TEMP_INSTANCES,
    'arn:aws:rds:eu-central-1:700558745280:og:*',
    'arn:aws:rds:eu-central-1:700558745280:pg:*',
    `arn:aws:rds:eu-central-1:700558745280:snapshot:rds:${db}-*`,
    `arn:aws:rds:eu-central-1:700558745280:snapshot:${db}-*`,
    `arn:aws:rds:eu-central-1:700558745280:subgrp:\${${stack.getLogicalId(subnetGroup.node.defaultChild as never)}}`,
  ]);
});

test('modify/delete only prefixed instances tagged Purpose=migration-test; describe scoped where IAM allows', () => {
  const statements = statementsOf(projectRole);
  const modifyDelete = bySid(statements, 'ModifyAndDeleteTemporaryInstances');
  expect(sorted(modifyDelete?.Action)).toEqual(['rds:DeleteDBInstance', 'rds:ModifyDBInstance']);
  expect(modifyDelete).toMatchObject({
    Resource: TEMP_INSTANCES,
    Condition: { StringEquals: { 'aws:ResourceTag/Purpose': 'migration-test' } },
  });
  expect(bySid(statements, 'TagTemporaryInstancesOnCreate')).toMatchObject({
    Action: 'rds:AddTagsToResource',
    Condition: { StringEquals: { 'aws:RequestTag/Purpose': 'migration-test' } },
  });
  expect(bySid(statements, 'DescribeSnapshots')).toMatchObject({
    Action: 'rds:DescribeDBSnapshots',
    Resource: '*',
  });
  expect(bySid(statements, 'DescribeTemporaryInstances')?.Resource).toBe(TEMP_INSTANCES);
  // No other RDS action on "*".
  const rdsOnStar = statements.filter(
    (s) => s.Resource === '*' && [s.Action].flat().some((a) => String(a).startsWith('rds:')),
  );
  expect(rdsOnStar.map((s) => s.Action)).toEqual(['rds:DescribeDBSnapshots']);
  // ECR pull of the application repository.
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']),
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(repository.node.defaultChild as never), 'Arn'] },
    }),
  );
});

test('the janitor: arm64 Node Lambda with its prefix, hourly, allowed to delete only tagged prefixed instances', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    FunctionName: 'v1-orcha-migtest-janitor',
    Runtime: 'nodejs24.x',
    Architectures: ['arm64'],
    Environment: {
      Variables: Match.objectLike({
        INSTANCE_PREFIX: 'v1-orcha-migtest-',
        NODE_OPTIONS: '--enable-source-maps',
      }),
    },
    LoggingConfig: { LogGroup: ref(migrationTest.janitor.logGroup as never) },
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', {
    LogGroupName: '/aws/lambda/v1-orcha-migtest-janitor',
    RetentionInDays: 30,
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 hour)',
    State: 'ENABLED',
    Targets: [
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [stack.getLogicalId(migrationTest.janitor.node.defaultChild as never), 'Arn'] },
      }),
    ],
  });
  const statements = statementsOf(ref(migrationTest.janitor.role as never));
  expect(bySid(statements, 'DeleteExpiredTemporaryInstances')).toMatchObject({
    Action: 'rds:DeleteDBInstance',
    Resource: TEMP_INSTANCES,
    Condition: { StringEquals: { 'aws:ResourceTag/Purpose': 'migration-test' } },
  });
  expect(bySid(statements, 'ListInstances')?.Resource).toBe('arn:aws:rds:eu-central-1:700558745280:db:*');
  expect(statements.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('rds:')))).toHaveLength(
    2,
  );
});

test('the trigger role: trusted by the pipeline step role only, only start/watch this project', () => {
  template.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'v1-orcha-migration-test-trigger',
    AssumeRolePolicyDocument: {
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/v1-orcha-infra-migration-test-prod' },
        },
      ],
    },
  });
  const statements = statementsOf(ref(migrationTest.triggerRole as never));
  expect(statements).toEqual([
    {
      Sid: 'RunMigrationTest',
      Effect: 'Allow',
      Action: ['codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject', 'codebuild:StartBuild'],
      Resource: {
        'Fn::GetAtt': [stack.getLogicalId(migrationTest.project.node.defaultChild as never), 'Arn'],
      },
    },
  ]);
});

test('cdk-nag (AwsSolutions): no open finding; every accepted one is acknowledged with a reason', () => {
  expect(nagFindings(migrationTest)).toEqual([]);
});
