import { App, Stack } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AppPipeline, TAG_DEPLOYED_SCRIPT, type AppPipelineProps } from '../../lib/constructs/app-pipeline';
import { exportOf, outputNames, prodAndStagingOps, resourcesOf } from '../helpers';

const env = { account: '700558745280', region: 'eu-central-1' };
const LEGACY_CONNECTION =
  'arn:aws:codestar-connections:eu-central-1:700558745280:connection/12345678-1234-1234-1234-123456789012';

/** A stack holding the pipeline and everything it needs, with a configured (existing) connection. */
function pipelineStack(app: App, id: string, overrides: Partial<AppPipelineProps> = {}): Stack {
  const stack = new Stack(app, id, { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, maxAzs: 2 });
  new AppPipeline(stack, 'AppPipeline', {
    pipelineName: 'test-deploy',
    buildProjectName: 'test-build',
    applicationName: 'test',
    deploymentGroupName: 'test-production',
    connectionName: 'test-app-github',
    source: { repository: 'getorcha/orcha', branch: 'main', connectionArn: LEGACY_CONNECTION },
    requireApproval: true,
    approvalTopic: new sns.Topic(stack, 'Topic'),
    artifactBucketName: 'test-pipeline-artifacts',
    repository: new ecr.Repository(stack, 'Repository'),
    buildLogGroup: new logs.LogGroup(stack, 'BuildLogs'),
    deployedImageTagPrefix: 'deployed-test-',
    currentImageTag: 'deployed-test',
    recordProjectName: 'test-record-deployment',
    autoScalingGroup: new autoscaling.AutoScalingGroup(stack, 'Asg', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType('t4g.small'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
    }),
    ...overrides,
  });
  return stack;
}

let template: Template;

beforeAll(() => {
  template = Template.fromStack(pipelineStack(new App(), 'Existing'));
});

describe('AppPipeline with a configured connection', () => {
  test('uses the configured connection and branch; creates no connection and no outputs', () => {
    template.resourceCountIs('AWS::CodeConnections::Connection', 0);
    expect(template.toJSON().Outputs ?? {}).toEqual({});
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Source',
          Actions: [
            Match.objectLike({
              Configuration: {
                ConnectionArn: LEGACY_CONNECTION,
                FullRepositoryId: 'getorcha/orcha',
                BranchName: 'main',
                DetectChanges: true,
              },
            }),
          ],
        }),
      ]),
    });
  });

  test('grants UseConnection with both service prefixes: a legacy codestar-connections ARN keeps working', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
            Effect: 'Allow',
            Resource: LEGACY_CONNECTION,
          },
        ]),
      },
    });
  });

  test('the agent is not installed by CDK: no read grant on the regional CodeDeploy bucket', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('aws-codedeploy-');
  });
});

describe('AppPipeline validation', () => {
  test('a repository that is not owner/name fails with the value', () => {
    expect(() =>
      pipelineStack(new App(), 'Bad', {
        source: { repository: 'orcha', branch: 'master', connectionArn: LEGACY_CONNECTION },
      }),
    ).toThrow('Application repository must be owner/name, got "orcha"');
  });
});

// The application pipeline as the Ops stack builds it in prod and staging.
// prod and staging built by buildApp as `cdk synth` builds them (one App), each synthesized once.
const { prod, prodTemplate, stagingTemplate, topic } = prodAndStagingOps();

describe('OpsStack (prod): application pipeline', () => {
  const pipeline = () => {
    const found = resourcesOf(prodTemplate, 'AWS::CodePipeline::Pipeline');
    expect(found).toHaveLength(1);
    return found[0][1] as {
      Name: string;
      PipelineType: string;
      ArtifactStore: { Type: string; Location: unknown };
      Stages: {
        Name: string;
        Actions: {
          Name: string;
          ActionTypeId: { Category: string; Provider: string; Owner: string };
          Configuration: Record<string, unknown>;
          RoleArn: unknown;
        }[];
      }[];
    };
  };

  test('v1-orcha-deploy, V2, artifacts in the pipeline-artifacts bucket', () => {
    const p = pipeline();
    expect(p.Name).toBe('v1-orcha-deploy');
    expect(p.PipelineType).toBe('V2');
    expect(p.ArtifactStore.Type).toBe('S3');
    // FoundationStack's bucket, by its physical name (no cross-stack output).
    expect(p.ArtifactStore.Location).toBe('v1-orcha-pipeline-artifacts-700558745280');
    Template.fromStack(prod.foundation).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'v1-orcha-pipeline-artifacts-700558745280',
    });
    // No pipeline-owned bucket or key.
    prodTemplate.resourceCountIs('AWS::S3::Bucket', 0);
    prodTemplate.resourceCountIs('AWS::KMS::Key', 1);
  });

  test('stages in order: Source (GitHub) → Build (CodeBuild) → MigrationTest (CodeBuild) → Approve (manual) → Deploy (CodeDeploy) → Record (tag the deployed image)', () => {
    const stages = pipeline().Stages.map((s) => [
      s.Name,
      s.Actions.map((a) => `${a.ActionTypeId.Category}/${a.ActionTypeId.Provider}`),
    ]);
    expect(stages).toEqual([
      ['Source', ['Source/CodeStarSourceConnection']],
      ['Build', ['Build/CodeBuild']],
      ['MigrationTest', ['Build/CodeBuild']],
      ['Approve', ['Approval/Manual']],
      ['Deploy', ['Deploy/CodeDeploy']],
      ['Record', ['Build/CodeBuild']],
    ]);
  });

  test('source: getorcha/orcha, master, on push, through the connection created here', () => {
    const [source] = pipeline().Stages[0].Actions;
    const [connectionId] = Object.keys(prodTemplate.findResources('AWS::CodeConnections::Connection'));
    expect(source.Configuration).toEqual({
      ConnectionArn: { 'Fn::GetAtt': [connectionId, 'ConnectionArn'] },
      FullRepositoryId: 'getorcha/orcha',
      BranchName: 'master',
      DetectChanges: true,
    });
    prodTemplate.hasResourceProperties('AWS::CodeConnections::Connection', {
      ConnectionName: 'v1-orcha-app-github',
      ProviderType: 'GitHub',
    });
  });

  test('the new connection is announced: its ARN and the console page that completes it', () => {
    const outputs = prodTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [connectionId] = Object.keys(prodTemplate.findResources('AWS::CodeConnections::Connection'));
    const values = Object.values(outputs).map((o) => o.Value);
    expect(values).toContainEqual({ 'Fn::GetAtt': [connectionId, 'ConnectionArn'] });
    expect(values).toContainEqual(
      'https://eu-central-1.console.aws.amazon.com/codesuite/settings/connections?region=eu-central-1',
    );
  });

  test('the source role may use the connection with the codeconnections prefix its ARN has', () => {
    const [source] = pipeline().Stages[0].Actions;
    const roleId = (source.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const [connectionId] = Object.keys(prodTemplate.findResources('AWS::CodeConnections::Connection'));
    prodTemplate.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['codeconnections:UseConnection']),
            Resource: { 'Fn::GetAtt': [connectionId, 'ConnectionArn'] },
          }),
        ]),
      },
    });
  });

  test('build: v1-orcha-build, ARM image amazonlinux2-aarch64-standard:3.0, privileged, env vars, log group', () => {
    const [, project] = resourcesOf(prodTemplate, 'AWS::CodeBuild::Project').find(
      ([, p]) => p.Name === 'v1-orcha-build',
    )!;
    expect(project).toMatchObject({
      Name: 'v1-orcha-build',
      Environment: {
        Type: 'ARM_CONTAINER',
        Image: 'aws/codebuild/amazonlinux2-aarch64-standard:3.0',
        ComputeType: 'BUILD_GENERAL1_SMALL',
        PrivilegedMode: true,
      },
      Source: { Type: 'CODEPIPELINE' },
      TimeoutInMinutes: 30,
    });
    const env = (project.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] })
      .EnvironmentVariables;
    expect(env.map((v) => v.Name).sort()).toEqual(['AWS_ACCOUNT_ID', 'IMAGE_REPO_NAME', 'REPOSITORY_URI']);
    const value = (name: string) => env.find((v) => v.Name === name)?.Value;
    expect(value('AWS_ACCOUNT_ID')).toBe('700558745280');
    const f = prod.foundation;
    expect(outputNames(value('IMAGE_REPO_NAME'))).toEqual([exportOf(f, f.repository.repositoryName)]);
    // Built from the repository's account, region and name, not by splitting its ARN.
    expect(value('REPOSITORY_URI')).toEqual({
      'Fn::Join': [
        '',
        [
          '700558745280.dkr.ecr.eu-central-1.',
          { Ref: 'AWS::URLSuffix' },
          '/',
          {
            'Fn::GetStackOutput': expect.objectContaining({
              OutputName: exportOf(f, f.repository.repositoryName),
            }) as unknown,
          },
        ],
      ],
    });
    const logs = project.LogsConfig as { CloudWatchLogs: { Status: string; GroupName: unknown } };
    expect(logs.CloudWatchLogs.Status).toBe('ENABLED');
    expect(outputNames(logs.CloudWatchLogs.GroupName)).toEqual([
      exportOf(f, f.codeBuildLogGroup.logGroupName),
    ]);
  });

  test('buildspec: tests, image tagged with the commit and latest, pushed, CodeDeploy bundle as output', () => {
    const [, project] = resourcesOf(prodTemplate, 'AWS::CodeBuild::Project').find(
      ([, p]) => p.Name === 'v1-orcha-build',
    )!;
    const spec = JSON.parse((project.Source as { BuildSpec: string }).BuildSpec) as {
      phases: Record<string, { 'on-failure': string; commands: string[] }>;
      artifacts: { files: string[] };
    };
    const commands = Object.values(spec.phases).flatMap((p) => p.commands);
    const index = (pattern: RegExp) => commands.findIndex((c) => pattern.test(c));
    const login = index(/docker login --username AWS --password-stdin/);
    const test = index(/^docker build --target test /);
    const build = index(
      /^docker build --tag "\$REPOSITORY_URI:\$IMAGE_TAG" --tag "\$REPOSITORY_URI:latest" \.$/,
    );
    const pushSha = index(/^docker push "\$REPOSITORY_URI:\$IMAGE_TAG"$/);
    const pushLatest = index(/^docker push "\$REPOSITORY_URI:latest"$/);
    for (const i of [login, test, build, pushSha, pushLatest]) expect(i).toBeGreaterThanOrEqual(0);
    expect(login).toBeLessThan(test);
    expect(test).toBeLessThan(build);
    expect(build).toBeLessThan(pushSha);
    // Exported: the app pipeline's migration test runs exactly this tag (#{Build.IMAGE_TAG}).
    expect(commands).toContain('export IMAGE_TAG="${COMMIT_ID:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"');
    // A failing phase stops the build: nothing is pushed after a failed test.
    for (const phase of Object.values(spec.phases)) expect(phase['on-failure']).toBe('ABORT');
    expect(spec.artifacts.files).toEqual(['appspec.yml', 'scripts/**/*', 'image.env']);
  });

  test('the build action passes the commit id and outputs the bundle the deploy action consumes', () => {
    const p = pipeline();
    const build = p.Stages.find((s) => s.Name === 'Build')!.Actions[0] as unknown as {
      Configuration: { EnvironmentVariables: string };
      OutputArtifacts: { Name: string }[];
    };
    expect(JSON.parse(build.Configuration.EnvironmentVariables)).toEqual([
      { name: 'COMMIT_ID', type: 'PLAINTEXT', value: '#{Source.CommitId}' },
    ]);
    const deploy = p.Stages.find((s) => s.Name === 'Deploy')!.Actions[0] as unknown as {
      InputArtifacts: { Name: string }[];
    };
    expect(deploy.InputArtifacts).toEqual(build.OutputArtifacts);
  });

  test('build role: push and pull on the repository only, plus ecr:GetAuthorizationToken', () => {
    const f = prod.foundation;
    // The application pipeline's policies (the migration test's pull is asserted in its own tests).
    const policies = resourcesOf(prodTemplate, 'AWS::IAM::Policy')
      .filter(([id]) => !id.startsWith('MigrationTest'))
      .map(
        ([, p]) =>
          (p.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
      );
    const ecrStatements = policies
      .flat()
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('ecr:')))
      .filter((s) => (s as { Sid?: string }).Sid !== 'TagDeployedImage');
    expect(ecrStatements).toHaveLength(2);
    const push = ecrStatements.find((s) => [s.Action].flat().includes('ecr:PutImage'));
    expect(outputNames(push?.Resource)).toEqual([exportOf(f, f.repository.repositoryArn)]);
    expect([push?.Action].flat()).toEqual(
      expect.arrayContaining([
        'ecr:PutImage',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:BatchGetImage',
      ]),
    );
    const token = ecrStatements.find((s) => s.Action === 'ecr:GetAuthorizationToken');
    expect(token?.Resource).toBe('*');
  });

  test('approval: manual, notified through the alerts topic', () => {
    const [approve] = pipeline().Stages.find((s) => s.Name === 'Approve')!.Actions;
    expect(approve.Name).toBe('Approve');
    expect(approve.Configuration.NotificationArn).toEqual(topic());
    expect(approve.Configuration.CustomData).toMatch(/#\{Source\.CommitId\}/);
  });

  test('deploy: CodeDeploy v1-orcha / v1-orcha-production, ASG, AllAtOnce, rollback on failure and stop', () => {
    const [deploy] = pipeline().Stages.find((s) => s.Name === 'Deploy')!.Actions;
    const [appId] = Object.keys(prodTemplate.findResources('AWS::CodeDeploy::Application'));
    const [groupId] = Object.keys(prodTemplate.findResources('AWS::CodeDeploy::DeploymentGroup'));
    expect(deploy.Configuration).toEqual({
      ApplicationName: { Ref: appId },
      DeploymentGroupName: { Ref: groupId },
    });
    prodTemplate.hasResourceProperties('AWS::CodeDeploy::Application', {
      ApplicationName: 'v1-orcha',
      ComputePlatform: 'Server',
    });
    const [[, group]] = resourcesOf(prodTemplate, 'AWS::CodeDeploy::DeploymentGroup');
    expect(group).toMatchObject({
      DeploymentGroupName: 'v1-orcha-production',
      DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
    });
    const c = prod.compute;
    expect(outputNames(group.AutoScalingGroups)).toEqual([
      exportOf(c, c.autoScalingGroup.autoScalingGroupName),
    ]);
  });

  test('the instances may read the deployment bundle; no agent installer user data is added', () => {
    const compute = Template.fromStack(prod.compute);
    const bucketArn = 'arn:aws:s3:::v1-orcha-pipeline-artifacts-700558745280';
    const statements = resourcesOf(compute, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement,
    );
    // The deploy action's grant: explicit read actions (no s3:GetObject*, s3:List* groups).
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: `${bucketArn}/*`,
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetBucketAcl', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:ListBucket'],
      Resource: bucketArn,
    });
    // installAgent: false — the only agent installer is the boot script's own.
    expect(JSON.stringify(compute.toJSON()).match(/aws-codedeploy-/g)).toHaveLength(1);
  });
});

describe('OpsStack (staging)', () => {
  const [[, p]] = resourcesOf(stagingTemplate, 'AWS::CodePipeline::Pipeline');
  const stages = p.Stages as {
    Name: string;
    Actions: {
      Name: string;
      RunOrder: number;
      ActionTypeId: { Category: string; Provider: string };
      Configuration: Record<string, unknown>;
      RoleArn: { 'Fn::GetAtt': [string, string] };
    }[];
  }[];

  test('no approval stage (requireApproval false)', () => {
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'Deploy', 'Record']);
  });

  test('staging sleeps outside office hours: the Deploy stage wakes it first (Lambda invoke), then deploys', () => {
    const deploy = stages.find((s) => s.Name === 'Deploy')!;
    expect(
      deploy.Actions.map((a) => [
        a.Name,
        `${a.ActionTypeId.Category}/${a.ActionTypeId.Provider}`,
        a.RunOrder,
      ]),
    ).toEqual([
      ['Wake', 'Invoke/Lambda', 1],
      ['Deploy', 'Deploy/CodeDeploy', 2],
    ]);
    const [fnId] = resourcesOf(stagingTemplate, 'AWS::Lambda::Function').find(
      ([, f]) => f.FunctionName === 'v1-orcha-staging-deploy-wake',
    )!;
    expect(deploy.Actions[0]!.Configuration.FunctionName).toEqual({ Ref: fnId });
  });

  test("the Wake action's role may invoke the wake function (and list functions), nothing else", () => {
    const wake = stages.find((s) => s.Name === 'Deploy')!.Actions[0]!;
    const roleId = wake.RoleArn['Fn::GetAtt'][0];
    const statements = resourcesOf(stagingTemplate, 'AWS::IAM::Policy')
      .filter(([, pol]) => JSON.stringify(pol.Roles).includes(`"${roleId}"`))
      .flatMap(
        ([, pol]) =>
          (pol.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
      );
    expect(statements.map((st) => st.Action).sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:ListFunctions',
    ]);
    const invoke = statements.find((st) => st.Action === 'lambda:InvokeFunction')!;
    expect(JSON.stringify(invoke.Resource)).toContain('DeployWakeFunction');
    // Assumed by the pipeline's own role only.
    const [, role] = resourcesOf(stagingTemplate, 'AWS::IAM::Role').find(([id]) => id === roleId)!;
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).toMatch(/AppPipelineRole/);
  });
});

test('the Record project runs exactly this script, after Deploy, with ecr:BatchGetImage and ecr:PutImage on the repository only', () => {
  const t = prodTemplate;
  const projects = Object.values(t.findResources('AWS::CodeBuild::Project')) as {
    Properties: {
      Name: string;
      Source: { BuildSpec: string };
      Environment: { EnvironmentVariables: { Name: string; Value: unknown }[] };
    };
  }[];
  const record = projects.find((p) => p.Properties.Name === 'v1-orcha-record-deployment');
  expect(record).toBeDefined();
  const spec = JSON.parse(record!.Properties.Source.BuildSpec) as {
    phases: { build: { commands: string[] } };
  };
  expect(spec.phases.build.commands).toEqual([fs.readFileSync(TAG_DEPLOYED_SCRIPT, 'utf8')]);
  expect(record!.Properties.Environment.EnvironmentVariables).toEqual(
    expect.arrayContaining([
      { Name: 'DEPLOYED_TAG_PREFIX', Type: 'PLAINTEXT', Value: 'deployed-prod-' },
      { Name: 'CURRENT_TAG', Type: 'PLAINTEXT', Value: 'deployed-prod' },
    ]),
  );
  const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (
        p as {
          Properties: {
            PolicyDocument: { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] };
          };
        }
      ).Properties.PolicyDocument.Statement,
  );
  const tag = statements.filter((s) => s.Sid === 'TagDeployedImage');
  expect(tag).toHaveLength(1);
  expect(tag[0]!.Action).toEqual(['ecr:BatchGetImage', 'ecr:PutImage']);
  expect(JSON.stringify(tag[0]!.Resource)).toMatch(/Repository/);
});
