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

/** A cost allocation tag: the budget counts only the costs of resources carrying it. */
export interface CostAllocationTag {
  /** Tag key, e.g. `Environment`. It must be activated as a cost allocation tag in Billing. */
  readonly key: string;
  /** Tag value, e.g. `prod`. */
  readonly value: string;
}

export interface MonthlyCostBudgetProps {
  /** Name of the budget, unique in the account, e.g. `v1-orcha-monthly`. */
  readonly budgetName: string;
  /** Monthly cost limit in USD. */
  readonly limitUsd: number;
  /**
   * Receives every notification; its subscriptions (e.g. the alerts e-mail) are the only path,
   * so each alert arrives once. Its resource policy must let `budgets.amazonaws.com` publish,
   * and an encrypted topic's key must let Budgets use it.
   */
  readonly topic: sns.ITopic;
  /**
   * Count only the costs of resources with this user-defined cost allocation tag, so that
   * environments sharing an account each watch their own spend (Budgets filter
   * `TagKeyValue: user:<key>$<value>`).
   * @default - the whole account's cost
   */
  readonly costAllocationTag?: CostAllocationTag;
  /** @default DEFAULT_BUDGET_THRESHOLDS */
  readonly thresholds?: readonly BudgetThreshold[];
}

/** The Budgets cost filter of a user-defined cost allocation tag: `{ TagKeyValue: ['user:Environment$prod'] }`. */
export function tagCostFilter(tag: CostAllocationTag): Record<string, string[]> {
  return { TagKeyValue: [`user:${tag.key}$${tag.value}`] };
}

/**
 * An AWS Budget on the monthly cost (there is no L2 construct), notifying one SNS topic. With
 * `costAllocationTag` it counts only the costs of resources carrying that tag: the tag must be
 * activated as a cost allocation tag in the account's Billing console first (until then the
 * budget sees no cost), and costs AWS does not attribute to tagged resources are not counted.
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
        costFilters: props.costAllocationTag ? tagCostFilter(props.costAllocationTag) : undefined,
      },
      notificationsWithSubscribers: thresholds.map((threshold) => ({
        notification: {
          notificationType: threshold.type,
          comparisonOperator: 'GREATER_THAN',
          threshold: threshold.percent,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [{ subscriptionType: 'SNS', address: props.topic.topicArn }],
      })),
    });
    // Budgets checks that it may publish when the budget is created: the topic policy first.
    this.budget.node.addDependency(props.topic);
  }
}
