import * as budgets from 'aws-cdk-lib/aws-budgets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** When the budget notifies: a share of the limit, actual or forecast spend. */
export interface BudgetThreshold {
  /** Percent of the monthly limit. */
  readonly percent: number;
  /** `ACTUAL` (spent so far this month) or `FORECASTED` (projected for the month). */
  readonly type: 'ACTUAL' | 'FORECASTED';
}

/** 80% of the limit actually spent, 100% forecast for the month. */
export const DEFAULT_BUDGET_THRESHOLDS: readonly BudgetThreshold[] = [
  { percent: 80, type: 'ACTUAL' },
  { percent: 100, type: 'FORECASTED' },
];

export interface MonthlyCostBudgetProps {
  /** Name of the budget, unique in the account, e.g. `v1-orcha-monthly`. */
  readonly budgetName: string;
  /** Monthly cost limit in USD. */
  readonly limitUsd: number;
  /** Receives every notification directly by e-mail. */
  readonly email: string;
  /**
   * Receives every notification too. Its resource policy must let `budgets.amazonaws.com`
   * publish, and an encrypted topic's key must let Budgets use it.
   */
  readonly topic: sns.ITopic;
  /** @default DEFAULT_BUDGET_THRESHOLDS */
  readonly thresholds?: readonly BudgetThreshold[];
}

/**
 * An AWS Budget on the account's monthly cost (there is no L2 construct). Budgets covers the
 * whole account: environments sharing an account each see the account's total.
 */
export class MonthlyCostBudget extends Construct {
  public readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: MonthlyCostBudgetProps) {
    super(scope, id);
    const thresholds = props.thresholds ?? DEFAULT_BUDGET_THRESHOLDS;

    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.limitUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: thresholds.map((threshold) => ({
        notification: {
          notificationType: threshold.type,
          comparisonOperator: 'GREATER_THAN',
          threshold: threshold.percent,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [
          { subscriptionType: 'EMAIL', address: props.email },
          { subscriptionType: 'SNS', address: props.topic.topicArn },
        ],
      })),
    });
    // Budgets checks that it may publish when the budget is created: the topic policy first.
    this.budget.node.addDependency(props.topic);
  }
}
