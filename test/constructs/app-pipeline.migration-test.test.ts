/**
 * The app pipeline runs the environment's migration test with the image it just built, between
 * its build and its approval (lib/constructs/app-pipeline.ts with `migrationTest`, wired by the
 * Ops stack from `appPipeline.migrationTest`).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { environments } from '../../lib/config/environments';
import { BUILD_SPEC } from '../../lib/constructs/app-pipeline';
import { resourcesOf } from '../helpers';

interface Action {
  Name: string;
  ActionTypeId: { Provider: string };
  Configuration: { ProjectName?: unknown; EnvironmentVariables?: string };
  Namespace?: string;
}
interface PipelineStage {
  Name: string;
  Actions: Action[];
}

// prod as configured (block), and staging switched to report-only (with its migration test on).
const app = new App();
const { stages } = buildApp(app, {
  envName: 'prod',
});
const prodOps = Template.fromStack(stages.prod.ops);
const stagingApp = buildApp(new App(), {
  envName: 'staging',
  environments: {
    ...environments,
    staging: {
      ...environments.staging,
      appPipeline: { ...environments.staging.appPipeline, migrationTest: 'report-only' },
      migrationTest: { ...environments.staging.migrationTest, enabled: true },
    },
  },
});
const stagingOps = Template.fromStack(stagingApp.stages.staging.ops);

function appPipelineStages(template: Template): PipelineStage[] {
  const [[, pipeline]] = resourcesOf(template, 'AWS::CodePipeline::Pipeline').filter(([, p]) =>
    JSON.stringify(p.Name).includes('deploy'),
  );
  return pipeline.Stages as PipelineStage[];
}
const migrationAction = (template: Template): Action =>
  appPipelineStages(template)
    .find((s) => s.Name === 'MigrationTest')!
    .Actions.find((a) => a.Name === 'MigrationTest')!;

test('prod: Source → Build → MigrationTest → Approve → Deploy → Record', () => {
  expect(appPipelineStages(prodOps).map((s) => s.Name)).toEqual([
    'Source',
    'Build',
    'MigrationTest',
    'Approve',
    'Deploy',
    'Record',
  ]);
});

test('the migration test runs the migration-test project with the exact tag the build pushed, blocking', () => {
  const action = migrationAction(prodOps);
  expect(action.ActionTypeId.Provider).toBe('CodeBuild');
  const [[projectId]] = resourcesOf(prodOps, 'AWS::CodeBuild::Project').filter(
    ([, p]) => p.Name === 'v1-orcha-migration-test',
  );
  expect(action.Configuration.ProjectName).toEqual({ Ref: projectId });
  expect(JSON.parse(action.Configuration.EnvironmentVariables!)).toEqual([
    { name: 'MIGRATION_IMAGE_TAG', type: 'PLAINTEXT', value: '#{Build.IMAGE_TAG}' },
    { name: 'MIGRATION_VERDICT', type: 'PLAINTEXT', value: 'block' },
  ]);
  // ...which the build exports, as the tag it pushed.
  const build = appPipelineStages(prodOps).find((s) => s.Name === 'Build')!.Actions[0];
  expect(build.Namespace).toBe('Build');
  expect(BUILD_SPEC.env['exported-variables']).toEqual(['IMAGE_TAG']);
  expect(BUILD_SPEC.phases.pre_build.commands[0]).toMatch(/^export IMAGE_TAG=/);
  expect(BUILD_SPEC.phases.post_build.commands).toContain('docker push "$REPOSITORY_URI:$IMAGE_TAG"');
});

test('the project may read the bundle it is given as input (the app pipeline artifacts bucket)', () => {
  const [[roleId]] = resourcesOf(prodOps, 'AWS::IAM::Role').filter(([id]) =>
    id.startsWith('MigrationTestProjectRole'),
  );
  const statements = resourcesOf(prodOps, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles).includes(roleId))
    .flatMap(
      ([, p]) => (p.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    );
  expect(
    statements.some(
      (s) =>
        JSON.stringify(s.Action).includes('s3:GetObject') &&
        JSON.stringify(s.Resource).includes('v1-orcha-pipeline-artifacts-700558745280/*'),
    ),
  ).toBe(true);
});

test('staging in report-only mode: the same stage, the verdict does not block', () => {
  expect(appPipelineStages(stagingOps).map((s) => s.Name)).toContain('MigrationTest');
  expect(JSON.parse(migrationAction(stagingOps).Configuration.EnvironmentVariables!)).toContainEqual({
    name: 'MIGRATION_VERDICT',
    type: 'PLAINTEXT',
    value: 'report-only',
  });
});

test("the approval quotes the migration test's summary and links its report page (the build's exports)", () => {
  expect(migrationAction(prodOps).Namespace).toBe('MigrationTest');
  const approve = appPipelineStages(prodOps)
    .find((s) => s.Name === 'Approve')!
    .Actions.find((a) => a.Name === 'Approve')! as Action & {
    Configuration: { CustomData: unknown; ExternalEntityLink: unknown };
  };
  expect(JSON.stringify(approve.Configuration.CustomData)).toContain(
    ' Migration test (block): #{MigrationTest.MIGRATION_SUMMARY}',
  );
  expect(approve.Configuration.ExternalEntityLink).toBe('#{MigrationTest.MIGRATION_REPORT_URL}');
  // Both are variables the migration-test project's build exports.
  const [[, project]] = resourcesOf(prodOps, 'AWS::CodeBuild::Project').filter(
    ([, p]) => p.Name === 'v1-orcha-migration-test',
  );
  const spec = JSON.stringify((project.Source as { BuildSpec: unknown }).BuildSpec);
  expect(spec).toContain('MIGRATION_SUMMARY');
  expect(spec).toContain('MIGRATION_REPORT_URL');
});
