import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AppPipeline, type AppPipelineProps } from '../../lib/constructs/app-pipeline';

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
