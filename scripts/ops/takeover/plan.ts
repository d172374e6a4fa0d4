import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../../lib/config/schema';
import type { Output } from '../output';
import type { TakeoverClients } from './clients';
import {
  findResource,
  indexAccount,
  isNewStackEntry,
  retentionOf,
  type AccountIndex,
  type AccountStack,
  type Finding,
  type RetentionEntry,
  type StackResourceEntry,
} from './inventory';
import { STATEFUL_TYPES, namedResources, type NamedResource, type SynthesizedStack } from './templates';

/**
 * What happens to one named resource:
 * - IMPORT: exists (in an original stack or in none); imported into the new stack, kept in place.
 * - IMPORTED: already in the new stack under its logical id (an earlier run imported it).
 * - REPLACE: a stateless resource of an original stack; deleted with that stack, created by the pipeline.
 * - CREATE: does not exist; the pipeline creates it.
 * - KEEP: a stateless resource already in the new stack.
 * - BLOCKED: cannot go ahead as is (the reason says why and what to do).
 */
export type Action = 'IMPORT' | 'IMPORTED' | 'REPLACE' | 'CREATE' | 'KEEP' | 'BLOCKED';

export interface PlanRow {
  readonly resource: NamedResource;
  readonly finding: Finding;
  readonly action: Action;
  /** The original stack entry that manages it now, if any. */
  readonly original?: StackResourceEntry;
  readonly downtime: string;
  readonly dataAtRisk: string;
  readonly reason?: string;
}

export interface TakeoverPlan {
  readonly config: EnvironmentConfig;
  readonly stacks: readonly SynthesizedStack[];
  readonly rows: readonly PlanRow[];
  /** Stacks of the original app, in the order they are deleted (newest first). */
  readonly originals: readonly AccountStack[];
  /** The stateful resources of the original stacks and their DeletionPolicy. */
  readonly retention: readonly RetentionEntry[];
  readonly index: AccountIndex;
}

const WINDOW =
  'within the window (from the deletion of the original stacks until the pipeline has deployed this stack)';

/** What a replaced resource loses that is not customer data. */
const REPLACE_LOSES: Record<string, string> = {
  'AWS::SNS::Topic': 'subscriptions: the alert e-mail must be confirmed again',
  'AWS::CodePipeline::Pipeline': 'execution history',
  'AWS::CodeBuild::Project': 'build history',
  'AWS::CodeBuild::ReportGroup': 'test reports',
  'AWS::CloudWatch::Alarm': 'alarm history',
  'AWS::CodeDeploy::Application': 'deployment history',
  'AWS::CodeDeploy::DeploymentGroup': 'deployment history',
  'AWS::CodeConnections::Connection':
    'the GitHub authorization: complete the new connection once (first-deploy.md, step 3)',
  'AWS::Route53::RecordSet': 'none (the pipeline writes the record again, pointing at the new load balancer)',
};

function downtimeOf(row: { resource: NamedResource; action: Action }): string {
  const { resource, action } = row;
  if (action === 'IMPORT' || action === 'IMPORTED') {
    return resource.type === 'AWS::RDS::DBInstance'
      ? 'none from the import (the application is stopped for the window)'
      : 'none (stays in place)';
  }
  if (action === 'REPLACE') {
    return resource.stack.role === 'Ops' ? 'none for the application (alarms and app deploys pause)' : WINDOW;
  }
  return 'none';
}

function dataAtRiskOf(resource: NamedResource, action: Action): string {
  if (action === 'REPLACE') return REPLACE_LOSES[resource.type] ?? 'none (holds no data)';
  return 'none';
}

/** Reads the account (read-only calls) and decides, per named resource, what the takeover does. */
export async function buildPlan(
  clients: TakeoverClients,
  config: EnvironmentConfig,
  stacks: readonly SynthesizedStack[],
): Promise<TakeoverPlan> {
  const index = await indexAccount(clients.cloudformation);
  const resources = namedResources(stacks);
  const findings: Finding[] = [];
  for (const resource of resources) findings.push(await findResource(clients, index, resource));

  const originalOf = (finding: Finding) => finding.owners.find((o) => !isNewStackEntry(o, stacks));
  const originalNames = new Set<string>();
  for (const finding of findings) {
    const original = originalOf(finding);
    if (original) originalNames.add(original.stackName);
  }
  const originals = index.stacks
    .filter((s) => originalNames.has(s.name))
    .sort((a, b) => b.created.getTime() - a.created.getTime());
  const retention = await retentionOf(
    clients.cloudformation,
    originals.map((s) => s.name),
  );

  const rows = resources.map((resource, i): PlanRow => {
    const finding = findings[i] as Finding;
    const original = originalOf(finding);
    const inNewStack = finding.owners.some(
      (o) => o.stackName === resource.stack.stackName && o.logicalId === resource.logicalId,
    );
    const decide = (action: Action, reason?: string): PlanRow => ({
      resource,
      finding,
      action,
      original,
      reason,
      downtime: downtimeOf({ resource, action }),
      dataAtRisk: dataAtRiskOf(resource, action),
    });
    if (finding.blocker) return decide('BLOCKED', finding.blocker);
    if (resource.stateful) {
      if (finding.exists === 'no') return decide('CREATE', 'does not exist: the pipeline creates it (empty)');
      if (inNewStack && !original) return decide('IMPORTED', `already in ${resource.stack.stackName}`);
      if (original) {
        const policy = retention.find(
          (r) => r.stackName === original.stackName && r.logicalId === original.logicalId,
        );
        if (!policy?.retained) {
          return {
            ...decide(
              'BLOCKED',
              `${original.stackName} would DELETE it (DeletionPolicy ${policy?.deletionPolicy ?? 'unknown'}): ` +
                `deploy the original with DeletionPolicy Retain on ${original.logicalId} first`,
            ),
            dataAtRisk: `ALL of it: ${STATEFUL_TYPES[resource.type]?.data ?? 'its data'}`,
          };
        }
        return decide(
          'IMPORT',
          `retained by ${original.stackName} (${original.logicalId}), imported after its deletion`,
        );
      }
      return decide('IMPORT', 'in no stack');
    }
    if (original)
      return decide(
        'REPLACE',
        `deleted with ${original.stackName} (${original.logicalId}); the pipeline creates it`,
      );
    if (finding.owners.length > 0) return decide('KEEP', `in ${finding.owners[0]?.stackName ?? '?'}`);
    if (finding.exists === 'yes')
      return decide('CREATE', `a resource of that name is in no stack (${finding.note ?? ''})`);
    return decide(
      'CREATE',
      finding.exists === 'unknown'
        ? 'no stack manages this name: the pipeline creates it'
        : 'does not exist: the pipeline creates it',
    );
  });

  return { config, stacks, rows, originals, retention, index };
}

/** The identifier properties of one resource, as `cdk import --resource-mapping` and ResourcesToImport take them. */
export function importIdentifier(row: PlanRow): Record<string, string> {
  const key = STATEFUL_TYPES[row.resource.type]?.identifier;
  if (!key || !row.finding.identifier) {
    throw new Error(`${row.resource.logicalId} (${row.resource.type}) has no import identifier`);
  }
  return { [key]: row.finding.identifier };
}

/** Per new stack, in deploy order: logical id → identifier properties of the resources to import. */
export function resourceMappings(
  plan: TakeoverPlan,
): { stack: SynthesizedStack; fileName: string; mapping: Record<string, Record<string, string>> }[] {
  return plan.stacks.map((stack) => {
    const mapping: Record<string, Record<string, string>> = {};
    for (const row of plan.rows) {
      if (row.resource.stack === stack && row.action === 'IMPORT') {
        mapping[row.resource.logicalId] = importIdentifier(row);
      }
    }
    return { stack, fileName: `${stack.order}-${stack.stackName}.mapping.json`, mapping };
  });
}

/** Writes one resource-mapping file per stack into `dir`; returns their paths. */
export function writeMappingFiles(plan: TakeoverPlan, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return resourceMappings(plan).map(({ fileName, mapping }) => {
    const path = join(dir, fileName);
    writeFileSync(path, `${JSON.stringify(mapping, null, 2)}\n`);
    return path;
  });
}

export function blockers(plan: TakeoverPlan): PlanRow[] {
  return plan.rows.filter((r) => r.action === 'BLOCKED');
}

/** Stateful resources of the original stacks that deleting the stack would delete. */
export function notRetained(plan: Pick<TakeoverPlan, 'retention'>): RetentionEntry[] {
  return plan.retention.filter((r) => !r.retained);
}

function count(plan: TakeoverPlan, action: Action): number {
  return plan.rows.filter((r) => r.action === action).length;
}

/** Prints the plan: original stacks, retain check, then every named resource stack by stack. */
export function renderPlan(plan: TakeoverPlan, out: Output, source: string): void {
  const { config } = plan;
  out.info(
    `Takeover plan for ${config.name} (account ${config.account}, ${config.region}); templates: ${source}`,
  );
  out.info('');
  if (plan.originals.length === 0) {
    out.info('Original stacks: none manage any of these names.');
  } else {
    out.info('Original stacks (deleted in this order by "takeover detach", stateful resources retained):');
    plan.originals.forEach((s, i) => {
      out.info(`  ${i + 1}. ${s.name} (${s.status}, created ${s.created.toISOString()})`);
    });
  }
  const missing = notRetained(plan);
  if (plan.retention.length > 0) {
    out.info(
      missing.length === 0
        ? `Retain check: all ${plan.retention.length} stateful resources of the original stacks have DeletionPolicy Retain.`
        : `Retain check: ${missing.length} of ${plan.retention.length} stateful resources of the original stacks are NOT retained:`,
    );
    for (const r of missing) {
      out.info(`  ${r.stackName} ${r.logicalId} (${r.type}): DeletionPolicy ${r.deletionPolicy}`);
    }
  }
  for (const stack of plan.stacks) {
    out.info('');
    out.info(`${stack.order}. ${stack.stackName}`);
    for (const row of plan.rows.filter((r) => r.resource.stack === stack)) {
      const { resource } = row;
      const owner = row.original
        ? `owned by ${row.original.stackName} (${row.original.logicalId})`
        : row.finding.owners[0]
          ? `in ${row.finding.owners[0].stackName}`
          : 'in no stack';
      const exists = { yes: 'exists', no: 'does not exist', unknown: 'not in any stack' }[row.finding.exists];
      out.info(`  ${row.action.padEnd(8)} ${resource.type} ${resource.physicalName}`);
      out.info(
        `           ${exists}${row.finding.exists === 'yes' ? `, ${owner}` : ''}${row.finding.note ? `; ${row.finding.note}` : ''}`,
      );
      if (row.action === 'IMPORT' || row.action === 'IMPORTED') {
        out.info(
          `           -> ${row.action === 'IMPORT' ? 'import into' : 'already in'} ${stack.stackName} as ${resource.logicalId} ` +
            `(${Object.entries(importIdentifier(row))
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')})`,
        );
      } else if (row.reason) {
        out.info(`           -> ${row.reason}`);
      }
      out.info(`           downtime: ${row.downtime}; data at risk: ${row.dataAtRisk}`);
    }
  }
  out.info('');
  const atRisk = plan.rows.filter((r) => r.dataAtRisk.startsWith('ALL'));
  out.info(
    `Summary: ${count(plan, 'IMPORT')} to import, ${count(plan, 'IMPORTED')} already imported, ` +
      `${count(plan, 'REPLACE')} replaced, ${count(plan, 'CREATE')} created, ${count(plan, 'KEEP')} kept, ` +
      `${count(plan, 'BLOCKED')} blocked. Customer data at risk: ${atRisk.length === 0 ? 'none' : atRisk.map((r) => r.resource.physicalName).join(', ')}.`,
  );
  if (plan.originals.length > 0) {
    out.info(
      'Expected downtime: the application is down from its stop before the snapshot (runbook step 5) until the ' +
        'pipeline has deployed the Compute stack and the application pipeline has deployed the app: about 60-90 minutes ' +
        '(docs/runbooks/takeover.md, "Maintenance window").',
    );
  }
}
