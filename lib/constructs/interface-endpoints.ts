import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/**
 * The AWS APIs the application instances and the migration test call, each with who calls it.
 * S3 is not here: it has a free gateway endpoint (`network.s3GatewayEndpoint`).
 */
export const INTERFACE_ENDPOINT_SERVICES: readonly {
  readonly id: string;
  readonly service: ec2.InterfaceVpcEndpointAwsService;
  readonly calledBy: string;
}[] = [
  {
    id: 'Ssm',
    service: ec2.InterfaceVpcEndpointAwsService.SSM,
    calledBy: 'SSM agent (Session Manager), orcha-prepare (parameters)',
  },
  {
    id: 'SsmMessages',
    service: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    calledBy: 'Session Manager sessions and port forwarding',
  },
  {
    id: 'Ec2Messages',
    service: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    calledBy: 'SSM agent (commands)',
  },
  {
    id: 'EcrApi',
    service: ec2.InterfaceVpcEndpointAwsService.ECR,
    calledBy: 'docker login and image metadata (instances, migration test)',
  },
  {
    id: 'EcrDocker',
    service: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    calledBy: 'docker pull (instances, migration test)',
  },
  {
    id: 'Logs',
    service: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    calledBy: 'CloudWatch agent, Docker awslogs, migration test build logs',
  },
  {
    id: 'SecretsManager',
    service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    calledBy: 'orcha-prepare (database credentials), migration test',
  },
  {
    id: 'Sqs',
    service: ec2.InterfaceVpcEndpointAwsService.SQS,
    calledBy: 'the worker (ingest, e-mail queues)',
  },
  {
    id: 'Sts',
    service: ec2.InterfaceVpcEndpointAwsService.STS,
    calledBy: 'AWS SDKs in the containers (caller identity, regional STS)',
  },
];

export interface InterfaceEndpointsProps {
  readonly vpc: ec2.IVpc;
  /** Subnets that hold the endpoints' network interfaces (one per AZ). */
  readonly subnets: ec2.SubnetSelection;
  /** The endpoints' security group; callers are admitted on 443 with {@link allowFrom}. */
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * Roadmap "VPC interface endpoints": the AWS APIs of {@link INTERFACE_ENDPOINT_SERVICES} reached
 * through interface endpoints with private DNS, so the SDKs and agents resolve the public service
 * names to addresses inside the VPC without any change to the instances or the migration test.
 * One security group for all of them, admitting 443 only from the groups given to `allowFrom`.
 * APIs not listed (CloudFormation's cfn-signal, CodeDeploy, CloudWatch metrics, RDS for the
 * migration test) keep going through the internet gateway or NAT.
 */
export class InterfaceEndpoints extends Construct {
  public readonly endpoints: Record<string, ec2.InterfaceVpcEndpoint> = {};

  constructor(
    scope: Construct,
    id: string,
    private readonly props: InterfaceEndpointsProps,
  ) {
    super(scope, id);
    for (const { id: endpointId, service } of INTERFACE_ENDPOINT_SERVICES) {
      this.endpoints[endpointId] = new ec2.InterfaceVpcEndpoint(this, endpointId, {
        vpc: props.vpc,
        service,
        subnets: props.subnets,
        privateDnsEnabled: true,
        securityGroups: [props.securityGroup],
        // No rule from the VPC CIDR: callers are admitted by security group.
        open: false,
      });
    }
  }

  /** Admits HTTPS from `peer`'s security group to every endpoint. */
  public allowFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.props.securityGroup.addIngressRule(peer, ec2.Port.tcp(443), description);
  }
}
