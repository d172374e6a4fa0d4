import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { environments } from '../../lib/config/environments';

// Prod in its own account: the pipeline must encrypt artifacts with a rotated KMS key and
// start the migration test through the role prod trusts it with.
const built = buildApp(new App(), {
  environments: {
    ...environments,
    prod: { ...environments.prod, account: '111122223333' },
    // The account prod leaves behind needs its own owner of the Session Manager preferences.
    staging: {
      ...environments.staging,
      compute: { ...environments.staging.compute, sessionManagerPreferences: true },
    },
  },
});
const template = Template.fromStack(built.pipeline!);

test('cross-account keys on, with rotation', () => {
  expect(built.pipeline!.crossAccount).toBe(true);
  template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
});

test('the migration test step assumes the trigger role of the prod account', () => {
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: 'arn:aws:iam::111122223333:role/v1-orcha-migration-test-trigger',
        },
      ]),
    },
  });
});

test('prod creates the trigger role, trusted by the pipeline step role only', () => {
  const ops = Template.fromStack(built.stages.prod.ops);
  ops.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'v1-orcha-migration-test-trigger',
    AssumeRolePolicyDocument: {
      Statement: [
        Match.objectLike({
          Action: 'sts:AssumeRole',
          Principal: { AWS: 'arn:aws:iam::700558745280:role/v1-orcha-infra-migration-test-prod' },
        }),
      ],
    },
  });
});

test('the pipeline step runs under that fixed role name', () => {
  template.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'v1-orcha-infra-migration-test-prod',
    AssumeRolePolicyDocument: {
      Statement: [Match.objectLike({ Principal: { Service: 'codebuild.amazonaws.com' } })],
    },
  });
});
