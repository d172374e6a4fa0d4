import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { managedLogGroup } from './log-group';

/** `count`: rules only count matches (a first weeks' trial); `block`: they block. */
export type WafMode = 'count' | 'block';

export interface LoadBalancerWebAclProps {
  /** Name of the web ACL (and prefix of its metrics). */
  readonly webAclName: string;
  /** Name of its log group; must start with `aws-waf-logs-` (WAF refuses other names). */
  readonly logGroupName: string;
  /** Retention of the log group in days (the environment's `monitoring.logRetentionDays`). */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
  /** The load balancer the web ACL protects. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Whether the rules count or block. */
  readonly mode: WafMode;
  /** Requests per client IP in any 5 minutes before the rate rule applies. */
  readonly rateLimitPerFiveMinutes: number;
}

/** AWS managed rule groups of the web ACL, in priority order. */
export const MANAGED_RULE_GROUPS = [
  /** OWASP-style common exploits: XSS, path traversal, oversized bodies, bad bots' user agents. */
  'AWSManagedRulesCommonRuleSet',
  /** Request patterns known to be malicious: Log4Shell, Java deserialization, SSRF to localhost. */
  'AWSManagedRulesKnownBadInputsRuleSet',
  /** Addresses Amazon threat intelligence lists as sources of bots and attacks. */
  'AWSManagedRulesAmazonIpReputationList',
] as const;

/** Name of the rate-based rule. */
export const RATE_LIMIT_RULE = 'RateLimitPerIp';

/**
 * Roadmap "WAF": a regional web ACL on the application's load balancer with three AWS managed
 * rule groups (common exploits, known bad inputs, IP reputation) and a rate limit per client IP,
 * each with its CloudWatch metrics and sampled requests; every request logged (the
 * `Authorization` and `Cookie` headers redacted) to a log group with the environment's retention.
 * In `count` mode nothing is blocked: the logs and metrics show what `block` would stop.
 */
export class LoadBalancerWebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LoadBalancerWebAclProps) {
    super(scope, id);
    if (!props.logGroupName.startsWith('aws-waf-logs-')) {
      throw new Error(`WAF log group ${props.logGroupName}: the name must start with aws-waf-logs-`);
    }
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${props.webAclName}-${metricName}`,
    });
    const count = props.mode === 'count';

    const managed: wafv2.CfnWebACL.RuleProperty[] = MANAGED_RULE_GROUPS.map((name, priority) => ({
      name,
      priority,
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      overrideAction: count ? { count: {} } : { none: {} },
      visibilityConfig: visibility(name),
    }));
    const rateLimit: wafv2.CfnWebACL.RuleProperty = {
      name: RATE_LIMIT_RULE,
      priority: MANAGED_RULE_GROUPS.length,
      statement: {
        rateBasedStatement: {
          limit: props.rateLimitPerFiveMinutes,
          aggregateKeyType: 'IP',
          evaluationWindowSec: 300,
        },
      },
      action: count ? { count: {} } : { block: {} },
      visibilityConfig: visibility(RATE_LIMIT_RULE),
    };

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.webAclName,
      description: `Protects ${props.webAclName.replace(/-web-acl$/, '')}'s load balancer (${props.mode} mode)`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      rules: [...managed, rateLimit],
      visibilityConfig: visibility('all'),
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.loadBalancer.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF delivers to the log group through CloudWatch Logs' resource policy, which it adds
    // itself (the deploying role may); the group is the environment's, with its retention.
    this.logGroup = managedLogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    const logGroupArn = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: props.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the group's ARN without the `:*` that the log group's own attribute carries.
      logDestinationConfigs: [logGroupArn],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
    logging.node.addDependency(this.logGroup);
  }
}
