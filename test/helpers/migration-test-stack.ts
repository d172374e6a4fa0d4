import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as kms from 'aws-cdk-lib/aws-kms';
import { loadEnvironment } from '../../lib/config/load';
import { Naming } from '../../lib/config/naming';
import { ArtifactBucket } from '../../lib/constructs/artifact-bucket';
import { MigrationTest } from '../../lib/constructs/migration-test';

/**
 * prod's MigrationTest in a small stack with the VPC layout of FoundationStack, its pipeline in
 * another account (so the trigger role exists). Call once per test file (one synth).
 */
export function migrationTestStack() {
  const app = new App();
  const stack = new Stack(app, 'MigrationTestStack', {
    env: { account: '700558745280', region: 'eu-central-1' },
  });
  const config = loadEnvironment('prod');
  const naming = new Naming('prod');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    natGatewayProvider: ec2.NatProvider.instanceV2({
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
    }),
    natGateways: 1,
    natGatewaySubnets: { subnetGroupName: 'public' },
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      { name: 'build', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
    ],
  });
  const codeBuildSg = new ec2.SecurityGroup(stack, 'CodeBuildSg', {
    vpc,
    securityGroupName: naming.codeBuildSecurityGroup,
    allowAllOutbound: true,
  });
  const rdsSg = new ec2.SecurityGroup(stack, 'RdsSg', { vpc, securityGroupName: naming.rdsSecurityGroup });
  rdsSg.addIngressRule(codeBuildSg, ec2.Port.tcp(5432));
  const subnetGroup = new rds.SubnetGroup(stack, 'DbSubnets', {
    vpc,
    description: 'db',
    vpcSubnets: { subnetGroupName: 'private' },
  });
  const database = new rds.DatabaseInstance(stack, 'Db', {
    instanceIdentifier: naming.dbInstance,
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_18_1 }),
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    vpc,
    subnetGroup,
    securityGroups: [rdsSg],
  });
  const repository = new ecr.Repository(stack, 'Repo', { repositoryName: naming.ecrRepository });
  const logGroup = new logs.LogGroup(stack, 'BuildLogs', { logGroupName: naming.codeBuildLogGroup });

  const migrationTest = new MigrationTest(stack, 'MigrationTest', {
    naming,
    config,
    vpc,
    securityGroup: codeBuildSg,
    databaseSecurityGroup: rdsSg,
    database,
    subnetGroup,
    repository,
    logGroup,
    logEncryptionKey: new kms.Key(stack, 'LogKey'),
    artifactsBucket: new ArtifactBucket(stack, 'Artifacts', {
      bucketName: naming.pipelineArtifactsBucket('700558745280'),
    }),
    pipelineAccount: '111122223333',
  });
  const template = Template.fromStack(stack);
  return {
    app,
    stack,
    config,
    naming,
    vpc,
    codeBuildSg,
    rdsSg,
    subnetGroup,
    repository,
    logGroup,
    migrationTest,
    template,
  };
}
