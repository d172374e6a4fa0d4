import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { CredentialsError, ExitCode, toOpsError } from './errors';

type Credentials = NonNullable<STSClientConfig['credentials']>;

/** Which credentials and region a client uses. */
export interface AwsTarget {
  region: string;
  /** Named profile (`~/.aws/config`); without it, the default chain (AWS_PROFILE, env vars, SSO, …). */
  profile?: string;
  /** Role assumed with the profile's (or the default) credentials. */
  roleArn?: string;
}

/** Builds SDK clients; tests inject one that returns mocked clients. */
export interface ClientFactory {
  sts(target: AwsTarget): STSClient;
  route53(target: AwsTarget): Route53Client;
  ssm(target: AwsTarget): SSMClient;
  sqs(target: AwsTarget): SQSClient;
  ec2(target: AwsTarget): EC2Client;
  rds(target: AwsTarget): RDSClient;
  autoscaling(target: AwsTarget): AutoScalingClient;
  scheduler(target: AwsTarget): SchedulerClient;
}

function credentialsFor(target: AwsTarget): Credentials | undefined {
  const base = target.profile ? fromIni({ profile: target.profile }) : undefined;
  if (target.roleArn) {
    return fromTemporaryCredentials({
      params: { RoleArn: target.roleArn, RoleSessionName: 'orcha-ops', DurationSeconds: 900 },
      ...(base ? { masterCredentials: base } : {}),
      clientConfig: { region: target.region },
    });
  }
  return base;
}

/** Region and credentials of an SDK client for `target`; every ops command builds its clients with it. */
export function clientConfig(target: AwsTarget): { region: string; credentials?: Credentials } {
  const credentials = credentialsFor(target);
  return credentials ? { region: target.region, credentials } : { region: target.region };
}

/** The real clients. */
export const defaultClientFactory: ClientFactory = {
  sts: (t) => new STSClient(clientConfig(t)),
  route53: (t) => new Route53Client(clientConfig(t)),
  ssm: (t) => new SSMClient(clientConfig(t)),
  sqs: (t) => new SQSClient(clientConfig(t)),
  ec2: (t) => new EC2Client(clientConfig(t)),
  rds: (t) => new RDSClient(clientConfig(t)),
  autoscaling: (t) => new AutoScalingClient(clientConfig(t)),
  scheduler: (t) => new SchedulerClient(clientConfig(t)),
};

export interface CallerIdentity {
  account: string;
  arn: string;
}

/** Who the credentials belong to; fails with exit 3 when there are no usable credentials. */
export async function callerIdentity(sts: STSClient, side = 'credentials'): Promise<CallerIdentity> {
  let account: string | undefined;
  let arn: string | undefined;
  try {
    ({ Account: account, Arn: arn } = await sts.send(new GetCallerIdentityCommand({})));
  } catch (err) {
    const converted = toOpsError(err, `Cannot determine the identity of the ${side}`);
    // STS GetCallerIdentity needs no permission: any failure here is a credentials problem.
    throw converted.exitCode === ExitCode.Credentials ? converted : new CredentialsError(converted.message);
  }
  if (!account) throw new CredentialsError(`STS returned no account for the ${side}`);
  return { account, arn: arn ?? '(unknown arn)' };
}

/**
 * Checks that the credentials belong to the environment's account. A mismatch is the most
 * dangerous mistake an operator can make (writing prod secrets into another account), so it
 * exits 3 before anything else happens.
 */
export async function verifyAccount(
  sts: STSClient,
  expected: { account: string; envName: string; profile?: string },
): Promise<CallerIdentity> {
  const identity = await callerIdentity(sts);
  if (identity.account !== expected.account) {
    const using = expected.profile ? `profile "${expected.profile}"` : 'the default credentials';
    throw new CredentialsError(
      `Wrong account: ${using} belong to account ${identity.account} (${identity.arn}), ` +
        `but environment "${expected.envName}" is in account ${expected.account}. ` +
        `Use --profile with a profile for account ${expected.account}.`,
    );
  }
  return identity;
}
