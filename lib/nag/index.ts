/**
 * cdk-nag for the project, one file per job:
 * - ./registration.ts: which packs run on the App, enforced or report-only (`registerNag`);
 * - ./acknowledgement-rules.ts: what an acceptable acknowledgement id and reason are;
 * - ./acknowledge.ts: `acknowledge()` on one resource, the registry, the template Metadata;
 * - ./findings.ts: the open findings under a scope, for tests;
 * - ./plugin.ts and ./evaluation.ts: the policy-validation plugin around a pack and the
 *   evaluation files it writes for the compliance report.
 */
export {
  acknowledge,
  acknowledgeInlinePolicy,
  acknowledgeProviderFunction,
  listAcknowledgements,
  type AcknowledgementRecord,
} from './acknowledge';
export {
  awsSolutionsRuleIds,
  MIN_REASON_LENGTH,
  NIST_PACK_NAME,
  nistRuleIds,
  validateAcknowledgementId,
  validateAcknowledgementReason,
} from './acknowledgement-rules';
export { EVALUATION_DIR, type AcknowledgedFinding, type PackEvaluation, type PackMode } from './evaluation';
export { nagFindings, nagViolations, unusedAcknowledgements } from './findings';
export { NagPackPlugin } from './plugin';
export {
  COMPLIANCE_PACKS_CONTEXT,
  ENFORCED_PACKS,
  EXTRA_PACKS,
  extraPacksFromContext,
  registerNag,
  type ExtraPack,
  type RegisterNagOptions,
} from './registration';
