import { Naming } from '../../lib/config/naming';

describe('naming', () => {
  test('prod gets exactly the names of the specification', () => {
    const n = new Naming('prod');
    expect([
      n.albSecurityGroup,
      n.ec2SecurityGroup,
      n.rdsSecurityGroup,
      n.codeBuildSecurityGroup,
      n.documentsBucket('700558745280'),
      n.pipelineArtifactsBucket('700558745280'),
      n.ecrRepository,
      n.ingestQueue,
      n.ingestDlq,
      n.emailAcquireQueue,
      n.emailAcquireDlq,
      n.dbInstance,
      n.dbSecret,
      n.instanceName,
      n.serviceRole,
      n.alertsTopic,
      n.appPipeline,
      n.buildProject,
      n.codeDeployApplication,
      n.codeDeployGroup,
      n.developerPolicy,
      n.applicationLogGroup,
      n.userDataLogGroup,
      n.codeBuildLogGroup,
      n.ssmSessionsLogGroup,
      n.migrationTestProject,
      n.migrationTestInstancePrefix,
    ]).toEqual([
      'v1-orcha-alb-sg',
      'v1-orcha-ec2-sg',
      'v1-orcha-rds-sg',
      'v1-orcha-codebuild-sg',
      'v1-orcha-global-storage-700558745280',
      'v1-orcha-pipeline-artifacts-700558745280',
      'v1-orcha',
      'v1-orcha-global-ingest',
      'v1-orcha-global-ingest-dlq',
      'v1-orcha-global-email-acquire',
      'v1-orcha-global-email-acquire-dlq',
      'v1-orcha-db',
      '/v1-orcha/db-credentials',
      'v1-orcha-app',
      'v1-orcha-service-role',
      'v1-orcha-alerts',
      'v1-orcha-deploy',
      'v1-orcha-build',
      'v1-orcha',
      'v1-orcha-production',
      'v1-orcha-developer-ssm-access',
      '/v1-orcha/application',
      '/v1-orcha/user-data',
      '/v1-orcha/codebuild',
      '/v1-orcha/ssm-sessions',
      'v1-orcha-migration-test',
      'v1-orcha-migtest-',
    ]);
    expect(n.alarm('alb-unhealthy')).toBe('v1-orcha-alb-unhealthy');
    expect(n.migrationTestReportGroup).toBe('v1-orcha-migration-test-reports');
    expect(n.replPortForwardingDocument).toBe('v1-orcha-repl-port-forwarding');
  });

  test('other environments carry their name and cannot collide with prod', () => {
    const staging = new Naming('staging');
    expect(staging.dbInstance).toBe('v1-orcha-staging-db');
    expect(staging.dbSecret).toBe('/v1-orcha-staging/db-credentials');
    expect(staging.documentsBucket('1')).toBe('v1-orcha-staging-global-storage-1');
    // The janitor of prod matches `v1-orcha-migtest-`: no other environment's instance may start with it.
    expect(
      staging.migrationTestInstancePrefix.startsWith(new Naming('prod').migrationTestInstancePrefix),
    ).toBe(false);
  });
});
