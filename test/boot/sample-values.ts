import type { BootScriptValues } from '../../lib/constructs/app-instance-boot';

/** Concrete values of the shape CloudFormation resolves the boot script's references to. */
export const SAMPLE_VALUES: BootScriptValues = {
  environment: 'prod',
  region: 'eu-central-1',
  stackName: 'v1-orcha-compute',
  signalResource: 'AutoScalingGroupASG804C35BE',
  parameterRoot: '/v1-orcha',
  dbSecretId: 'arn:aws:secretsmanager:eu-central-1:700558745280:secret:/v1-orcha/db-credentials-AbCdEf',
  dbHost: 'v1-orcha-db.abcdefghijkl.eu-central-1.rds.amazonaws.com',
  dbPort: '5432',
  dbName: 'orcha',
  ingestQueueUrl: 'https://sqs.eu-central-1.amazonaws.com/700558745280/v1-orcha-global-ingest',
  emailAcquireQueueUrl: 'https://sqs.eu-central-1.amazonaws.com/700558745280/v1-orcha-global-email-acquire',
  documentsBucket: 'v1-orcha-global-storage-700558745280',
  registry: '700558745280.dkr.ecr.eu-central-1.amazonaws.com',
  appPort: 8888,
  replPort: 9878,
  healthCheckPath: '/health',
  workerCommand: ['worker'],
  tenantWorkers: [],
  applicationLogGroup: '/v1-orcha/application',
  userDataLogGroup: '/v1-orcha/user-data',
  composeS3Uri:
    's3://v1-orcha-pipeline-artifacts-700558745280/tools/docker-compose/v2.40.3/docker-compose-linux-aarch64',
  composeSha256: 'd26373b19e89160546d15407516cc59f453030d9bc5b43ba7faf16f7b4980137',
};
