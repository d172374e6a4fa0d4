import * as fs from 'node:fs';
import { Aws, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledge } from '../nag';
import { inlineShellLibraries, substitute } from './app-instance-boot';
import { confineParameterReads } from './parameter-isolation';
import { projectPath } from '../config/project';

/** The NAT instance's boot script template. */
export const NAT_BOOT_SCRIPT = projectPath('assets', 'nat', 'nat-boot.sh');

/** Longest NAT boot before CloudFormation counts the instance as failed. */
export const NAT_BOOT_TIMEOUT = 'PT15M';

export interface NatBootValues {
  readonly region: string;
  readonly stackName: string;
  /** Logical id of the NAT instance (cfn-signal). */
  readonly signalResource: string;
}

/** The rendered NAT boot script (deterministic). */
export function renderNatBootScript(v: NatBootValues): string {
  return substitute(
    inlineShellLibraries(fs.readFileSync(NAT_BOOT_SCRIPT, 'utf8'), 'nat-boot.sh'),
    { REGION: v.region, STACK_NAME: v.stackName, SIGNAL_RESOURCE: v.signalResource },
    'nat-boot.sh',
  );
}

/**
 * User data for `NatProvider.instanceV2({ userData })`; call {@link hardenNatInstance} on each
 * instance afterwards so that cfn-signal names it and CloudFormation waits for the signal.
 */
export class NatInstanceBoot {
  public readonly userData: ec2.UserData;
  private instance?: ec2.CfnInstance;

  constructor(stack: Stack) {
    this.userData = ec2.UserData.custom(
      renderNatBootScript({
        region: stack.region,
        stackName: Aws.STACK_NAME,
        signalResource: Lazy.string({
          produce: () => {
            if (!this.instance)
              throw new Error('NatInstanceBoot: call attach(instance) for the NAT instance');
            return stack.getLogicalId(this.instance);
          },
        }),
      }),
    );
  }

  /**
   * The NAT instance: waits for the boot's signal (a NAT that does not work fails the stack
   * deployment and CloudFormation keeps the previous one), and reachable with Session Manager.
   * The user data is shared, so one provider carries one NAT instance (the VPC has one).
   */
  public attach(instance: ec2.Instance): void {
    if (this.instance) throw new Error('NatInstanceBoot: one NAT instance per provider (natGateways: 1)');
    this.instance = instance.instance;
    instance.instance.cfnOptions.creationPolicy = {
      resourceSignal: { count: 1, timeout: NAT_BOOT_TIMEOUT },
    };
    // The built-in CloudFormation validation warns on a literal ImageId (W9010, portability):
    // the literal is the point, the image is pinned per environment in configuration.
    Validations.of(instance.instance).acknowledge({
      id: 'CloudFormation-Validate::W9010',
      reason:
        'The AMI is pinned per environment on purpose (compute.amiName): an image read from the latest SSM parameter replaces the NAT instance whenever AWS publishes one.',
    });
    instance.role.addManagedPolicy(
      iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
    );
    // That policy allows reading every parameter of the account (every environment's settings);
    // the NAT instance needs none of them.
    confineParameterReads(instance.role, []);
    acknowledge(
      instance.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'AmazonSSMManagedInstanceCore is the policy AWS maintains for the SSM agent (Session Manager to debug the NAT instance); it is attached to the NAT instance role only, which has no other permissions.',
    );
  }
}
