/**
 * What each of the original design's roadmap options would add to an environment's monthly
 * bill, next to the price the original gave it. An option that is already on is part of the
 * environment's estimate (its resources are in the templates) and is listed as "on".
 */
import type { EnvironmentConfig } from '../../lib/config/schema';
import { INTERFACE_ENDPOINT_SERVICES } from '../../lib/constructs/interface-endpoints';
import { round2, type Assumptions, type Prices } from './model';

export interface OptionDelta {
  readonly option: string;
  /** The configuration field that turns it on. */
  readonly field: string;
  readonly on: boolean;
  /** Added monthly cost if turned on (0 when already on). */
  readonly deltaUsd: number;
  /** The original design's price for it. */
  readonly originalUsd: number;
  /** How the figure is made up, and why it differs from the original's. */
  readonly basis: string;
  /** When the team would turn it on (the original design's "When" column). */
  readonly when: string;
}

const WHEN: Record<string, string> = {
  'S3 gateway endpoint': 'security improvement, keeps S3 traffic in AWS',
  'ECR retention 10': 'better rollback capability',
  WAF: 'when handling sensitive customer data',
  'VPC interface endpoints': 'security, compliance requirements',
  'High availability (2 instances)': 'when SLA commitments are needed',
  'NAT gateway': 'compliance (EC2 in private subnets)',
  'RDS Multi-AZ': 'when SLA commitments are needed',
};

export function optionDeltas(
  config: EnvironmentConfig,
  prices: Prices,
  assumptions: Assumptions,
  /** Root volume of the application instances, GB (from the launch template). */
  appRootVolumeGb: number,
): OptionDelta[] {
  const h = prices.hoursPerMonth;
  const ipv4 = prices.publicIpv4PerHour * h;
  const instance = (prices.ec2PerHour[config.compute.instanceType] ?? Number.NaN) * h;
  const appInstance = instance + appRootVolumeGb * prices.ebsGp3PerGbMonth + ipv4;
  const natInstance =
    (prices.ec2PerHour['t4g.nano'] ?? Number.NaN) * h +
    prices.ec2DefaultRootVolumeGb * prices.ebsGp3PerGbMonth +
    ipv4;
  const db = prices.rdsPostgresPerHour[config.database.instanceClass] ?? Number.NaN;
  // The endpoints lib/constructs/interface-endpoints.ts builds (the original priced 7; SQS and STS are added).
  const endpoints = INTERFACE_ENDPOINT_SERVICES.length;
  const azs = config.availabilityZones.length;
  const wafRules = assumptions.wafManagedRuleGroups + assumptions.wafRateRules;
  const wafRequests =
    config.name === 'prod'
      ? assumptions.wafMillionRequestsPerMonth.prod
      : assumptions.wafMillionRequestsPerMonth.default;
  const extraImages = Math.max(0, 10 - config.ecr.maxImageCount);

  const option = (
    name: string,
    field: string,
    on: boolean,
    delta: number,
    originalUsd: number,
    basis: string,
  ): OptionDelta => ({
    option: name,
    field,
    on,
    deltaUsd: on ? 0 : round2(delta),
    originalUsd,
    basis,
    when: WHEN[name] ?? '',
  });

  return [
    option(
      'S3 gateway endpoint',
      'network.s3GatewayEndpoint',
      config.network.s3GatewayEndpoint,
      0,
      0,
      'gateway endpoints are free',
    ),
    option(
      'ECR retention 10',
      'ecr.maxImageCount',
      config.ecr.maxImageCount >= 10,
      extraImages * assumptions.imageSizeGb * prices.ecrStoragePerGbMonth,
      1,
      `${extraImages} more images × ${assumptions.imageSizeGb} GB × $${prices.ecrStoragePerGbMonth}/GB`,
    ),
    option(
      'WAF',
      'compute.waf.enabled',
      config.compute.waf.enabled,
      prices.wafWebAclPerMonth +
        wafRules * prices.wafRulePerMonth +
        wafRequests * prices.wafPerMillionRequests,
      15,
      `web ACL $${prices.wafWebAclPerMonth} + ${wafRules} rules + ${wafRequests} M requests`,
    ),
    option(
      'VPC interface endpoints',
      'network.interfaceEndpoints',
      config.network.interfaceEndpoints,
      endpoints * azs * prices.interfaceEndpointPerAzHour * h +
        assumptions.interfaceEndpointGbPerMonth * prices.interfaceEndpointPerGb,
      122,
      `${endpoints} endpoints × ${azs} AZs × $${prices.interfaceEndpointPerAzHour}/h`,
    ),
    option(
      'High availability (2 instances)',
      'compute.minCapacity',
      config.compute.minCapacity >= 2,
      appInstance,
      30,
      `one more ${config.compute.instanceType} with its ${appRootVolumeGb} GB volume and public IPv4 (the original predates the IPv4 charge)`,
    ),
    option(
      'NAT gateway',
      'network.natGateway',
      config.network.natGateway !== 'none',
      prices.natGatewayPerHour * h +
        ipv4 +
        assumptions.natGatewayGbPerMonth * prices.natGatewayPerGb -
        natInstance -
        config.compute.minCapacity * ipv4,
      38,
      'one NAT gateway with its IPv4 and data, less the NAT instance and the instances’ public IPv4 addresses',
    ),
    option(
      'RDS Multi-AZ',
      'database.multiAz',
      config.database.multiAz,
      db * h + config.database.allocatedStorageGiB * prices.rdsGp3PerGbMonth,
      60,
      `a standby ${config.database.instanceClass} and a second copy of ${config.database.allocatedStorageGiB} GB`,
    ),
  ];
}
