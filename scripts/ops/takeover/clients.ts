import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import { clientConfig, defaultClientFactory, type AwsTarget } from '../aws';

/** The clients of the takeover commands; tests inject mocked ones. */
export interface TakeoverClients {
  sts: STSClient;
  cloudformation: CloudFormationClient;
  rds: RDSClient;
  secretsManager: SecretsManagerClient;
  s3: S3Client;
  ecr: ECRClient;
  route53: Route53Client;
  sqs: SQSClient;
  logs: CloudWatchLogsClient;
  ec2: EC2Client;
  ssm: SSMClient;
  codePipeline: CodePipelineClient;
}

export type TakeoverClientFactory = (target: AwsTarget) => TakeoverClients;

/** The real clients, all for the same account and region. */
export const defaultTakeoverClients: TakeoverClientFactory = (target) => {
  const config = clientConfig(target);
  return {
    sts: defaultClientFactory.sts(target),
    cloudformation: new CloudFormationClient(config),
    rds: new RDSClient(config),
    secretsManager: new SecretsManagerClient(config),
    s3: new S3Client(config),
    ecr: new ECRClient(config),
    route53: defaultClientFactory.route53(target),
    sqs: defaultClientFactory.sqs(target),
    logs: new CloudWatchLogsClient(config),
    ec2: defaultClientFactory.ec2(target),
    ssm: defaultClientFactory.ssm(target),
    codePipeline: new CodePipelineClient(config),
  };
};
