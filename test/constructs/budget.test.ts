import { Match } from 'aws-cdk-lib/assertions';
import { prodAndStagingOps, resourcesOf } from '../helpers';

// prod and staging built by buildApp as `cdk synth` builds them (one App), each synthesized once.
const { prodTemplate, stagingTemplate, topic } = prodAndStagingOps();

describe('OpsStack: budget', () => {
  test('v1-orcha-monthly: monthly cost of prod only (Environment tag), 300 USD, 80% actual and 100% forecast', () => {
    // One notification path: the alerts topic, whose e-mail subscription delivers each alert once.
    const subscribers = [{ SubscriptionType: 'SNS', Address: topic() }];
    prodTemplate.resourceCountIs('AWS::Budgets::Budget', 1);
    prodTemplate.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'v1-orcha-monthly',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 300, Unit: 'USD' },
        CostFilters: { TagKeyValue: ['user:Environment$prod'] },
      },
      NotificationsWithSubscribers: [
        {
          Notification: {
            NotificationType: 'ACTUAL',
            ComparisonOperator: 'GREATER_THAN',
            Threshold: 80,
            ThresholdType: 'PERCENTAGE',
          },
          Subscribers: subscribers,
        },
        {
          Notification: {
            NotificationType: 'FORECASTED',
            ComparisonOperator: 'GREATER_THAN',
            Threshold: 100,
            ThresholdType: 'PERCENTAGE',
          },
          Subscribers: subscribers,
        },
      ],
    });
  });

  test("staging's budget counts staging's costs only, not the account's", () => {
    stagingTemplate.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetName: 'v1-orcha-staging-monthly',
        BudgetLimit: { Amount: 150, Unit: 'USD' },
        CostFilters: { TagKeyValue: ['user:Environment$staging'] },
      }),
    });
  });

  test('the filter is the tag every resource of the environment carries', () => {
    // The tag the stage puts on every resource (checked on every resource in orcha-stage.test.ts).
    const tags = prodTemplate.findResources('AWS::SNS::Topic');
    expect(JSON.stringify(tags)).toContain('{"Key":"Environment","Value":"prod"}');
  });

  test('no direct e-mail subscriber: every alert arrives once, through the topic', () => {
    for (const template of [prodTemplate, stagingTemplate]) {
      const [[, budget]] = resourcesOf(template, 'AWS::Budgets::Budget');
      const subscribers = (
        budget.NotificationsWithSubscribers as { Subscribers: { SubscriptionType: string }[] }[]
      ).flatMap((n) => n.Subscribers.map((sub) => sub.SubscriptionType));
      expect(subscribers).toEqual(['SNS', 'SNS']);
    }
  });

  test('created after the topic policy that lets Budgets publish', () => {
    const [[, budget]] = Object.entries(prodTemplate.findResources('AWS::Budgets::Budget'));
    const [policyId] = Object.keys(prodTemplate.findResources('AWS::SNS::TopicPolicy'));
    expect((budget as { DependsOn: string[] }).DependsOn).toContain(policyId);
  });
});
