import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Every action that reads an SSM parameter's value (by name, by path, or its history). */
export const PARAMETER_READ_ACTIONS = [
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'ssm:GetParameterHistory',
] as const;

/**
 * Confines a role's parameter reads to `allowedParameterArns` and AWS's public parameters
 * (`/aws/service/…`, e.g. AMI ids, which hold nothing of ours), with an explicit deny.
 *
 * Why: the AWS managed policy AmazonSSMManagedInstanceCore, which every instance needs for the
 * SSM agent, allows ssm:GetParameter(s) on every parameter of the account; environments share
 * the account, so without this an instance of one environment (or the NAT instance) could read
 * another's SecureStrings. An explicit deny wins over any allow. The SSM and CloudWatch agents
 * read no parameter of ours (the agent configuration is a file written at boot).
 */
export function confineParameterReads(role: iam.IRole, allowedParameterArns: readonly string[]): void {
  const stack = Stack.of(role);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DenyOtherSettings',
      effect: iam.Effect.DENY,
      actions: [...PARAMETER_READ_ACTIONS],
      notResources: [
        ...allowedParameterArns,
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: 'aws/service/*',
          account: '',
        }),
      ],
    }),
  );
}
