import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../lib/app';
import { pipeline as defaultPipeline } from '../../lib/config/environments';
import { BUILD_SPEC as APP_BUILD_SPEC } from '../../lib/constructs/app-pipeline';
import { resourcesOf } from '../helpers';

const built = buildApp(new App());
const pipelineStack = built.pipeline!;
const template = Template.fromStack(pipelineStack);
const projects = resourcesOf(template, 'AWS::CodeBuild::Project');
const project = (name: string) => {
  const found = projects.find(([, p]) => p.Name === name);
  if (!found) throw new Error(`no project ${name}`);
  return found;
};
const buildSpec = (name: string) =>
  JSON.parse((project(name)[1].Source as { BuildSpec: string }).BuildSpec) as {
    phases: Record<string, { commands?: string[] }>;
  };
const connection = { 'Fn::GetAtt': ['GitHubConnection', 'ConnectionArn'] };

describe.each([
  ['v1-orcha-infra-pr', 'https://github.com/getorcha/orcha-infrastructure.git'],
  ['v1-orcha-app-pr', 'https://github.com/getorcha/orcha.git'],
])('%s', (name, location) => {
  test('pull requests against master start it through the connection; it reports a commit status', () => {
    const [, props] = project(name);
    expect(props.Source).toMatchObject({
      Type: 'GITHUB',
      Location: location,
      ReportBuildStatus: true,
      BuildStatusConfig: { Context: name },
      Auth: { Type: 'CODECONNECTIONS', Resource: connection },
    });
    expect(props.Triggers).toEqual({
      Webhook: true,
      FilterGroups: [
        [
          { Type: 'EVENT', Pattern: 'PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED' },
          { Type: 'BASE_REF', Pattern: 'refs/heads/master' },
        ],
      ],
      // Fork pull requests wait for a collaborator's comment.
      PullRequestBuildPolicy: {
        RequiresCommentApproval: 'FORK_PULL_REQUESTS',
        ApproverRoles: ['GITHUB_WRITE', 'GITHUB_MAINTAIN', 'GITHUB_ADMIN'],
      },
    });
  });

  test('its role may use the connection and write its logs; nothing that deploys', () => {
    const [id] = project(name);
    const roleRef = (project(name)[1].ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Roles).includes(`"${roleRef}"`),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0][1].PolicyDocument as { Statement: { Action: string | string[] }[] })
      .Statement;
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(
      expect.arrayContaining(['codeconnections:GetConnectionToken', 'codeconnections:UseConnection']),
    );
    expect(actions.filter((a) => /^(cloudformation|s3|iam|ecr|ssm|secretsmanager):/.test(a))).toEqual([]);
    expect(id).toBeDefined();
  });
});

test("the infrastructure check runs the Synth step's command, then a cdk diff of staging and prod", () => {
  const spec = buildSpec('v1-orcha-infra-pr');
  const synth = projects.find(([, p]) => JSON.stringify(p.Description ?? '').includes('/Build/Synth'));
  expect(synth).toBeDefined();
  const synthCommands = (
    JSON.parse((synth![1].Source as { BuildSpec: string }).BuildSpec) as {
      phases: { build: { commands: string[] } };
    }
  ).phases.build.commands;
  expect(spec.phases.build.commands).toEqual(synthCommands);
  expect(spec.phases.build.commands).toEqual(['npm run ci']);
  expect(spec.phases.post_build.commands?.join('\n')).toContain(
    'npx cdk diff -a cdk.out --method template "Staging/*" "Prod/*"',
  );
});

test('the infrastructure check reads the deployed stacks with the CDK lookup role only (read-only)', () => {
  const roleRef = (project('v1-orcha-infra-pr')[1].ServiceRole as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  const [[, policy]] = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
    JSON.stringify(p.Roles).includes(`"${roleRef}"`),
  );
  const statements = (policy.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
    .Statement;
  const assume = statements.filter((st) => st.Action === 'sts:AssumeRole');
  expect(assume).toHaveLength(1);
  // Staging and prod share the account here: one lookup role.
  expect(assume[0].Resource).toBe(
    'arn:aws:iam::700558745280:role/cdk-hnb659fds-lookup-role-700558745280-eu-central-1',
  );
  const json = JSON.stringify(policy);
  expect(json).not.toContain('deploy-role');
  expect(json).not.toContain('file-publishing-role');
  expect(json).not.toContain('cfn-exec-role');
});

test('the application check builds the test stage of the Dockerfile exactly as the app pipeline does', () => {
  const spec = buildSpec('v1-orcha-app-pr');
  expect(spec.phases.build.commands).toEqual([APP_BUILD_SPEC.phases.build.commands[0]]);
  expect(spec.phases.build.commands?.[0]).toMatch(/^docker build --target test /);
  expect(project('v1-orcha-app-pr')[1].Environment).toMatchObject({ PrivilegedMode: true });
});

test('both checks log to one log group with a retention', () => {
  template.hasResourceProperties('AWS::Logs::LogGroup', {
    LogGroupName: '/v1-orcha-infra/pull-requests',
    RetentionInDays: 30,
  });
});

test('cdk-nag: the checks add no unacknowledged finding', () => {
  const checks = pipelineStack.node.findChild('PullRequestChecks');
  const violations = new AwsSolutionsChecks(pipelineStack).validateScope(checks).violations;
  expect(violations).toEqual([]);
});

test('off (first deploy, connection still pending): no webhook projects', () => {
  const off = buildApp(new App(), { pipeline: { ...defaultPipeline, pullRequestChecks: false } }).pipeline!;
  expect(off.node.tryFindChild('PullRequestChecks')).toBeUndefined();
});
