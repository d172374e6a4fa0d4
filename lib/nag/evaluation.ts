import { z } from 'zod';

/**
 * What a cdk-nag pack evaluated during one synth. cdk-nag 3 reports only open findings
 * (`cdk.out/validation-report.json`); acknowledged findings are dropped before the CDK sees
 * them, and a pack with no open finding is left out of the report entirely. The project's
 * plugin wrapper (see ./plugin.ts) records the rest here, one file per pack, in
 * `cdk.out/nag-evaluation/<pack>.json`, so the compliance report can show the rules
 * checked and the acknowledged findings with their reasons.
 */
export const EVALUATION_DIR = 'nag-evaluation';

export const acknowledgedFindingSchema = z.object({
  /** The finding, e.g. `AwsSolutions-IAM5[Action::s3:*]`. */
  ruleId: z.string(),
  /** Path of the CfnResource the finding is about. */
  resourcePath: z.string(),
  /** The reason given to acknowledge(). */
  reason: z.string(),
  /** Path of the construct the acknowledgement was made on (the resource or an ancestor). */
  acknowledgedAt: z.string(),
});

export const stackEvaluationSchema = z.object({
  /** The stack's construct path, e.g. `Dev/Data` (same as the manifest's displayName). */
  stackPath: z.string(),
  /** CfnResources of the stack the pack looked at. */
  resourcesChecked: z.number().int().nonnegative(),
  /** Rules (without finding suffix) that applied to at least one resource of the stack (not N/A). */
  rulesChecked: z.array(z.string()),
  acknowledged: z.array(acknowledgedFindingSchema),
});

export const packEvaluationSchema = z.object({
  version: z.literal(1),
  /** The pack's name, as in the validation report's pluginName, e.g. `AwsSolutions`. */
  pack: z.string(),
  /** `enforce` fails the synth on an open finding, `report-only` never does. */
  mode: z.enum(['enforce', 'report-only']),
  stacks: z.array(stackEvaluationSchema),
});

export type AcknowledgedFinding = z.infer<typeof acknowledgedFindingSchema>;
export type StackEvaluation = z.infer<typeof stackEvaluationSchema>;
export type PackEvaluation = z.infer<typeof packEvaluationSchema>;
export type PackMode = PackEvaluation['mode'];
