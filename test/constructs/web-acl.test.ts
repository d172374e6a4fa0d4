/**
 * Option `compute.waf`: a regional web ACL on the ALB with the three AWS managed rule groups
 * and a rate limit per IP, logged to `aws-waf-logs-…` with the environment's retention; `count`
 * mode counts, `block` mode blocks. (Off: test/stages/orcha-stage.options.test.ts.)
 */
import { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from '../helpers';
import { buildVariant, type Variant } from '../helpers/app';

const waf =
  (mode: 'count' | 'block'): Variant =>
  (i) => ({
    ...i,
    compute: { ...i.compute, waf: { enabled: true, mode, rateLimitPerFiveMinutes: 1500 } },
  });
const block = Template.fromStack(buildVariant('prod', waf('block')).compute);
const count = Template.fromStack(buildVariant('staging', waf('count')).compute);

interface Rule {
  Name: string;
  Priority: number;
  Statement: Record<string, Record<string, unknown>>;
  Action?: Record<string, unknown>;
  OverrideAction?: Record<string, unknown>;
}

function webAcl(template: Template) {
  const acls = resourcesOf(template, 'AWS::WAFv2::WebACL');
  expect(acls).toHaveLength(1);
  return acls[0]!;
}

test('regional web ACL v1-orcha-web-acl: allow by default, the managed rule groups and the rate limit', () => {
  const [, acl] = webAcl(block);
  expect(acl).toMatchObject({ Name: 'v1-orcha-web-acl', Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
  const rules = acl.Rules as Rule[];
  expect(rules.map((r) => r.Name)).toEqual([
    'AWSManagedRulesCommonRuleSet',
    'AWSManagedRulesKnownBadInputsRuleSet',
    'AWSManagedRulesAmazonIpReputationList',
    'RateLimitPerIp',
  ]);
  expect(new Set(rules.map((r) => r.Priority)).size).toBe(4);
  for (const rule of rules.slice(0, 3)) {
    expect(rule.Statement.ManagedRuleGroupStatement).toEqual({ VendorName: 'AWS', Name: rule.Name });
  }
  expect(rules[3]!.Statement.RateBasedStatement).toMatchObject({ Limit: 1500, AggregateKeyType: 'IP' });
  for (const rule of rules) {
    expect((rule as unknown as { VisibilityConfig: unknown }).VisibilityConfig).toMatchObject({
      CloudWatchMetricsEnabled: true,
      SampledRequestsEnabled: true,
    });
  }
});

test.each([
  ['block mode blocks', block, { None: {} }, { Block: {} }],
  ['count mode only counts', count, { Count: {} }, { Count: {} }],
])('%s', (_, template, override, action) => {
  const rules = webAcl(template)[1].Rules as Rule[];
  expect(rules.slice(0, 3).map((r) => r.OverrideAction)).toEqual([override, override, override]);
  expect(rules[3]!.Action).toEqual(action);
});

test('associated with the application load balancer', () => {
  const [aclId] = webAcl(block);
  const [albId] = resourcesOf(block, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
  block.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
    ResourceArn: { Ref: albId },
    WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
  });
});

test('every request logged to aws-waf-logs-v1-orcha (retention 30 days), credentials redacted', () => {
  const [aclId] = webAcl(block);
  block.hasResourceProperties('AWS::Logs::LogGroup', {
    LogGroupName: 'aws-waf-logs-v1-orcha',
    RetentionInDays: 30,
  });
  const [, logging] = resourcesOf(block, 'AWS::WAFv2::LoggingConfiguration')[0]!;
  expect(logging.ResourceArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
  // The group's ARN without `:*` (WAF refuses it with the suffix).
  expect(JSON.stringify(logging.LogDestinationConfigs)).toMatch(/log-group:aws-waf-logs-v1-orcha"/);
  expect(logging.RedactedFields).toEqual([
    { SingleHeader: { Name: 'authorization' } },
    { SingleHeader: { Name: 'cookie' } },
  ]);
});

test("staging's web ACL and log group carry staging's names", () => {
  expect(webAcl(count)[1].Name).toBe('v1-orcha-staging-web-acl');
  count.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-v1-orcha-staging' });
});
