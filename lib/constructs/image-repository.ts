import { Aws } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';

/**
 * `<account>.dkr.ecr.<region>.<url suffix>`: the registry that holds a repository.
 *
 * CDK's `repository.repositoryUri` parses the repository's ARN (`Fn::Split`); across stacks that
 * ARN is a `Fn::GetStackOutput`, which CloudFormation does not accept inside `Fn::Split` (cfn-lint
 * E1021/E1022). The account and region come from the repository's stack (literal for stacks with
 * an explicit environment), the URL suffix from the pseudo parameter of the consuming stack.
 */
export function registryOf(repository: ecr.IRepository): string {
  return `${repository.env.account}.dkr.ecr.${repository.env.region}.${Aws.URL_SUFFIX}`;
}

/**
 * `<registry>/<repository name>`, the value of `repository.repositoryUri`, built without parsing
 * an ARN: the name is passed whole (a reference at most), never split.
 */
export function repositoryUriOf(repository: ecr.IRepository): string {
  return `${registryOf(repository)}/${repository.repositoryName}`;
}
