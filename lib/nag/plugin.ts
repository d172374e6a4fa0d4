import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CfnResource,
  Stack,
  Stage,
  Validations,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NagRuleCompliance,
  NIST80053R5Checks,
  PCIDSS321Checks,
  type IApplyRule,
  type NagPack,
  type NagPackProps,
  type NagRuleResult,
} from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { EVALUATION_DIR, type AcknowledgedFinding, type PackEvaluation, type PackMode } from './evaluation';

/** Where an acknowledgement of `ruleId` covering `node` was made, if any (same lookup as cdk-nag's). */
export function findAcknowledgement(
  node: IConstruct,
  ruleId: string,
): { reason: string; acknowledgedAt: string } | undefined {
  let current: IConstruct | undefined = node;
  while (current) {
    for (const entry of current.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [qualifiedId, reason] of Object.entries(entry.data as Record<string, string>)) {
        // aws-cdk-lib stores `Annotation::<id>` (older versions `annotation::<id>`); cdk-nag strips it.
        if (qualifiedId.replace(/^annotation::/i, '') === ruleId) {
          return { reason, acknowledgedAt: current.node.path };
        }
      }
    }
    current = current.node.scope;
  }
  return undefined;
}

interface StackRecord {
  resources: Set<string>;
  rules: Set<string>;
  acknowledged: AcknowledgedFinding[];
}

/**
 * Collects, while a pack walks the tree, which rules it applied to which stack and which
 * findings an acknowledgement removed. cdk-nag exposes neither.
 */
export class EvaluationRecorder {
  private stacks = new Map<string, StackRecord>();

  reset(): void {
    this.stacks = new Map();
  }

  /** Wraps one rule application so that its outcome is recorded; the pack's behaviour is unchanged. */
  wrap(packName: string, params: IApplyRule): IApplyRule {
    const suffix = params.ruleSuffixOverride ?? params.rule.name;
    const ruleId = `${packName}-${suffix}`;
    const node = params.node;
    const stack = this.stackRecord(node);
    stack.resources.add(node.node.path);
    const rule = params.rule;
    const noteIfAcknowledged = (findingId: string): void => {
      const ack = findAcknowledgement(node, findingId);
      if (ack) stack.acknowledged.push({ ruleId: findingId, resourcePath: node.node.path, ...ack });
    };
    return {
      info: params.info,
      explanation: params.explanation,
      level: params.level,
      node,
      // The suffix must be kept explicit: cdk-nag derives it from the rule function's name.
      ruleSuffixOverride: suffix,
      rule: (n: CfnResource): NagRuleResult => {
        let result: NagRuleResult;
        try {
          result = rule(n);
        } catch (error) {
          // cdk-nag reports a rule that throws as a finding of the rule itself.
          stack.rules.add(ruleId);
          noteIfAcknowledged(ruleId);
          throw error;
        }
        // Every rule runs on every resource; only those that apply to it count as checked.
        if (result !== NagRuleCompliance.NOT_APPLICABLE) stack.rules.add(ruleId);
        if (result === NagRuleCompliance.NON_COMPLIANT) noteIfAcknowledged(ruleId);
        else if (Array.isArray(result))
          for (const finding of result) noteIfAcknowledged(`${ruleId}[${finding}]`);
        return result;
      },
    };
  }

  toEvaluation(pack: string, mode: PackMode): PackEvaluation {
    const stacks = [...this.stacks.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([stackPath, r]) => ({
        stackPath,
        resourcesChecked: r.resources.size,
        rulesChecked: [...r.rules].sort(),
        acknowledged: r.acknowledged,
      }));
    return { version: 1, pack, mode, stacks };
  }

  private stackRecord(node: IConstruct): StackRecord {
    const stackPath = Stack.of(node).node.path;
    let record = this.stacks.get(stackPath);
    if (!record) {
      record = { resources: new Set(), rules: new Set(), acknowledged: [] };
      this.stacks.set(stackPath, record);
    }
    return record;
  }
}

/** The packs the project can run; `aws` is always on and enforced, the others are opt-in and report only. */
export const PACKS = {
  aws: class extends AwsSolutionsChecks {
    constructor(private readonly recorder: EvaluationRecorder) {
      super(undefined, { verbose: true });
    }
    protected override applyRule(params: IApplyRule): void {
      super.applyRule(this.recorder.wrap(this.readPackName, params));
    }
  },
  nist: class extends NIST80053R5Checks {
    constructor(private readonly recorder: EvaluationRecorder) {
      super(undefined, { verbose: true });
    }
    protected override applyRule(params: IApplyRule): void {
      super.applyRule(this.recorder.wrap(this.readPackName, params));
    }
  },
  hipaa: class extends HIPAASecurityChecks {
    constructor(private readonly recorder: EvaluationRecorder) {
      super(undefined, { verbose: true });
    }
    protected override applyRule(params: IApplyRule): void {
      super.applyRule(this.recorder.wrap(this.readPackName, params));
    }
  },
  pci: class extends PCIDSS321Checks {
    constructor(private readonly recorder: EvaluationRecorder) {
      super(undefined, { verbose: true });
    }
    protected override applyRule(params: IApplyRule): void {
      super.applyRule(this.recorder.wrap(this.readPackName, params));
    }
  },
} satisfies Record<string, new (recorder: EvaluationRecorder, props?: NagPackProps) => NagPack>;

export type PackKey = keyof typeof PACKS;

/**
 * A policy-validation plugin around one cdk-nag pack.
 *
 * - `enforce`: returns the pack's report unchanged, so an open finding fails `cdk synth`.
 * - `report-only`: the same findings, but `success: true` and severity `info` (the original
 *   severity is kept in `ruleMetadata.packSeverity`), so the synth does not fail, not even with
 *   `@aws-cdk/core:strictCfnValidateErrors`, which fails on warnings. cdk-nag 3 has no such mode.
 *
 * Either way it writes what the pack evaluated to `<outdir>/nag-evaluation/<pack>.json`.
 */
export class NagPackPlugin implements IPolicyValidationPlugin {
  readonly name: string;
  readonly version?: string;
  readonly pack: NagPack;
  private readonly recorder = new EvaluationRecorder();

  constructor(
    packKey: PackKey,
    readonly mode: PackMode,
  ) {
    this.pack = new PACKS[packKey](this.recorder);
    // The plugin name is the namespace the CDK prints in "Acknowledge with 'AwsSolutions::...'".
    this.name = this.pack.name;
    this.version = this.pack.version;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    this.recorder.reset();
    const report = this.pack.validate(context);
    const root = context.appConstruct;
    if (Stage.isStage(root)) {
      const dir = path.join(root.outdir, EVALUATION_DIR);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, `${this.name}.json`),
        JSON.stringify(this.recorder.toEvaluation(this.name, this.mode), undefined, 2),
      );
    }
    if (this.mode === 'enforce') return report;
    return {
      success: true,
      metadata: { mode: 'report-only' },
      violations: report.violations.map((v) => ({
        ...v,
        severity: 'info',
        ruleMetadata: { ...v.ruleMetadata, mode: 'report-only', packSeverity: v.severity ?? 'unknown' },
      })),
    };
  }
}
