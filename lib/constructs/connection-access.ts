import * as iam from 'aws-cdk-lib/aws-iam';

/** IAM action that lets a role use an `AWS::CodeConnections::Connection` (`arn:aws:codeconnections:…`). */
export const USE_CONNECTION_ACTION = 'codeconnections:UseConnection';

/**
 * Lets a pipeline's source action role use a GitHub connection.
 *
 * CDK's `CodeStarConnectionsSourceAction` grants only `codestar-connections:UseConnection`, but
 * IAM requires the action's service prefix to match the resource ARN's, and connections created
 * since 1 July 2024 (and every `AWS::CodeConnections::Connection`) are `arn:aws:codeconnections:…`
 * (AWS Developer Tools console user guide, "Rename of connections"). Granting both prefixes keeps
 * a connection with either ARN usable; the action CDK adds stays untouched.
 */
export function grantUseConnection(grantee: iam.IGrantable, connectionArn: string): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: [USE_CONNECTION_ACTION],
    resourceArns: [connectionArn],
  });
}
