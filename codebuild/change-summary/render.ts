/**
 * The approver's view of a stage's change: per stack, what CloudFormation will add, modify,
 * replace and remove, read from `DescribeChangeSet` output. Replacements (and removals) of
 * stateful resources — the database, buckets, queues, the image repository, the secret, the
 * hosted zone — are called out at the top. Pure: no AWS calls, no clock.
 */
import type { Change, DescribeChangeSetOutput, ResourceChange } from '@aws-sdk/client-cloudformation';
import { STATEFUL_TYPES } from '../../scripts/ops/takeover/templates';

/** What the runner learned about one stack of the stage. */
export type StackChangeSet =
  | {
      /** CloudFormation stack name (`v1-orcha-data`). */
      readonly stackName: string;
      /** A change set was created and described: `pages` are its DescribeChangeSet pages. */
      readonly outcome: 'changes';
      readonly pages: readonly DescribeChangeSetOutput[];
    }
  | { readonly stackName: string; readonly outcome: 'no-changes' }
  /**
   * Not deployed yet: every resource of the template is added. (No change set: a CREATE change
   * set would leave an empty stack in REVIEW_IN_PROGRESS behind.)
   */
  | {
      readonly stackName: string;
      readonly outcome: 'new-stack';
      readonly resources: readonly { readonly logicalId: string; readonly type: string }[];
    }
  /** The change set could not be created (e.g. it imports an output a stack before it adds). */
  | { readonly stackName: string; readonly outcome: 'unknown'; readonly reason: string };

/** One resource line of the summary. */
export interface ResourceLine {
  readonly kind: 'added' | 'modified' | 'replaced' | 'may be replaced' | 'removed' | 'imported' | 'dynamic';
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  /** Properties that change; those that force a replacement are marked `(replacement)`. */
  readonly properties: readonly string[];
  /** What CloudFormation does with the old resource's data (its `PolicyAction`), when it says. */
  readonly policyAction?: string;
  /** Set for a stateful resource that is replaced, possibly replaced or removed: what is at risk. */
  readonly dataAtRisk?: string;
}

export interface StackSummary {
  readonly stackName: string;
  readonly outcome: StackChangeSet['outcome'];
  readonly reason?: string;
  readonly newStack: boolean;
  readonly lines: readonly ResourceLine[];
  readonly counts: Readonly<Record<'added' | 'modified' | 'replaced' | 'removed', number>>;
}

export interface ChangeSummary {
  readonly stacks: readonly StackSummary[];
  /** Stateful resources that are replaced, may be replaced or removed, with their stack. */
  readonly alarms: readonly (ResourceLine & { readonly stackName: string })[];
  /** One line for the approval comment and the notification (at most 200 characters). */
  readonly headline: string;
  /** The whole summary, Markdown. */
  readonly markdown: string;
}

const REPLACEMENT_POLICIES = new Set(['ReplaceAndDelete', 'ReplaceAndRetain', 'ReplaceAndSnapshot']);

function kindOf(change: ResourceChange): ResourceLine['kind'] {
  switch (change.Action) {
    case 'Add':
      return 'added';
    case 'Remove':
      return 'removed';
    case 'Import':
      return 'imported';
    case 'Dynamic':
      return 'dynamic';
    case 'Modify':
      if (change.Replacement === 'True') return 'replaced';
      if (change.Replacement === 'Conditional') return 'may be replaced';
      if (change.PolicyAction && REPLACEMENT_POLICIES.has(change.PolicyAction)) return 'replaced';
      return 'modified';
    default:
      return 'dynamic';
  }
}

/** `Engine (replacement)`, `Tags`, … — one entry per property, the strongest cause first. */
function propertiesOf(change: ResourceChange): string[] {
  const byName = new Map<string, string>();
  for (const detail of change.Details ?? []) {
    const target = detail.Target;
    if (!target) continue;
    const name = target.Name ?? target.Path ?? target.Attribute ?? '?';
    const mark =
      target.RequiresRecreation === 'Always'
        ? ' (replacement)'
        : target.RequiresRecreation === 'Conditionally'
          ? ' (may replace)'
          : '';
    const previous = byName.get(name);
    if (previous === undefined || mark.length > previous.length) byName.set(name, mark);
  }
  const rank = (mark: string) => (mark === ' (replacement)' ? 0 : mark ? 1 : 2);
  return [...byName.entries()]
    .sort(([a, ma], [b, mb]) => rank(ma) - rank(mb) || a.localeCompare(b))
    .map(([name, mark]) => `${name}${mark}`);
}

function lineOf(change: ResourceChange): ResourceLine {
  const kind = kindOf(change);
  const type = change.ResourceType ?? '?';
  const stateful = STATEFUL_TYPES[type];
  const retained = change.PolicyAction === 'Retain' || change.PolicyAction === 'Snapshot';
  const atRisk =
    stateful && (kind === 'replaced' || kind === 'may be replaced' || (kind === 'removed' && !retained));
  return {
    kind,
    logicalId: change.LogicalResourceId ?? '?',
    type,
    ...(change.PhysicalResourceId ? { physicalId: change.PhysicalResourceId } : {}),
    properties: kind === 'added' || kind === 'removed' ? [] : propertiesOf(change),
    ...(change.PolicyAction ? { policyAction: change.PolicyAction } : {}),
    ...(atRisk ? { dataAtRisk: stateful.data } : {}),
  };
}

const ORDER: readonly ResourceLine['kind'][] = [
  'replaced',
  'may be replaced',
  'removed',
  'modified',
  'added',
  'imported',
  'dynamic',
];

export function summarizeStack(input: StackChangeSet): StackSummary {
  const changes: ResourceChange[] =
    input.outcome === 'changes'
      ? input.pages
          .flatMap((p): Change[] => p.Changes ?? [])
          .map((c) => c.ResourceChange)
          .filter((rc): rc is ResourceChange => rc !== undefined)
      : input.outcome === 'new-stack'
        ? input.resources.map((r) => ({
            Action: 'Add',
            LogicalResourceId: r.logicalId,
            ResourceType: r.type,
          }))
        : [];
  const lines = changes
    .map(lineOf)
    .sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || a.logicalId.localeCompare(b.logicalId));
  const count = (...kinds: ResourceLine['kind'][]) => lines.filter((l) => kinds.includes(l.kind)).length;
  return {
    stackName: input.stackName,
    outcome: input.outcome,
    ...(input.outcome === 'unknown' ? { reason: input.reason } : {}),
    newStack: input.outcome === 'new-stack',
    lines,
    counts: {
      added: count('added', 'imported'),
      modified: count('modified', 'dynamic'),
      replaced: count('replaced', 'may be replaced'),
      removed: count('removed'),
    },
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function countsText(s: StackSummary): string {
  if (s.outcome === 'no-changes') return 'no changes';
  if (s.outcome === 'unknown') return 'change not computed';
  const parts = (['added', 'modified', 'replaced', 'removed'] as const)
    .filter((k) => s.counts[k] > 0)
    .map((k) => `${s.counts[k]} ${k}`);
  return `${s.newStack ? 'new stack, ' : ''}${parts.join(', ') || 'no resource changes'}`;
}

function alarmText(a: ResourceLine & { stackName: string }): string {
  const verb =
    a.kind === 'removed' ? 'REMOVED' : a.kind === 'may be replaced' ? 'MAY BE REPLACED' : 'REPLACED';
  const cause = a.properties.filter((p) => p.endsWith('(replacement)') || p.endsWith('(may replace)'));
  return (
    `${a.stackName} ${a.logicalId} (${a.type}${a.physicalId ? ` ${a.physicalId}` : ''}) ${verb}` +
    `${cause.length > 0 ? ` by ${cause.join(', ')}` : ''}: ${a.dataAtRisk ?? ''} is at risk`
  );
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * Summarizes the change sets of a stage's stacks (in deployment order). `title` heads the
 * Markdown (e.g. `Prod change summary — execution 1234`).
 */
export function renderChangeSummary(title: string, stackSets: readonly StackChangeSet[]): ChangeSummary {
  const stacks = stackSets.map(summarizeStack);
  const alarms = stacks.flatMap((s) =>
    s.lines.filter((l) => l.dataAtRisk !== undefined).map((l) => ({ ...l, stackName: s.stackName })),
  );
  const unknown = stacks.filter((s) => s.outcome === 'unknown');
  const changed = stacks.filter((s) => s.lines.length > 0);

  const headlineParts: string[] = [];
  if (alarms.length > 0) {
    headlineParts.push(
      `STATEFUL RESOURCE AT RISK: ${alarms.map((a) => `${a.logicalId} (${a.type.replace(/^AWS::/, '')}) ${a.kind}`).join(', ')}.`,
    );
  }
  headlineParts.push(
    changed.length === 0 && unknown.length === 0
      ? 'No changes.'
      : `${changed.map((s) => `${s.stackName}: ${countsText(s)}`).join('; ')}${changed.length > 0 ? '.' : ''}`,
  );
  if (unknown.length > 0) {
    headlineParts.push(`Not computed: ${unknown.map((s) => s.stackName).join(', ')} (see the summary).`);
  }
  let headline = headlineParts.join(' ').replace(/\s+/g, ' ').trim();
  // The approval comment quotes it: CodePipeline keeps an approval's custom message short.
  if (headline.length > 200) headline = `${headline.slice(0, 197)}...`;

  const md: string[] = [`# ${title}`, ''];
  if (alarms.length > 0) {
    md.push(
      `> **STOP AND READ: ${plural(alarms.length, 'stateful resource')} would be replaced or removed.**`,
      '> A replacement creates a new, empty resource and deletes the old one with its data.',
      '>',
      ...alarms.map((a) => `> - **${escapeCell(alarmText(a))}**`),
      '',
    );
  }
  md.push(
    '| stack | added | modified | replaced | removed | note |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const s of stacks) {
    const note =
      s.outcome === 'no-changes'
        ? 'no changes'
        : s.outcome === 'unknown'
          ? 'not computed'
          : s.newStack
            ? 'new stack'
            : '';
    md.push(
      `| ${s.stackName} | ${s.counts.added} | ${s.counts.modified} | ${s.counts.replaced} | ${s.counts.removed} | ${note} |`,
    );
  }
  for (const s of stacks) {
    md.push('', `## ${s.stackName}: ${countsText(s)}`, '');
    if (s.outcome === 'unknown') {
      md.push(
        `CloudFormation could not compute this stack's change set: ${escapeCell(s.reason ?? '')}`,
        '',
        'This happens when the stack uses an output that a stack before it adds in this same deployment; the deploy ' +
          "action computes it after that stack is deployed. Read this stack's cdk diff in the Review step's log.",
      );
      continue;
    }
    if (s.lines.length === 0) continue;
    md.push('| change | logical id | type | physical id | properties |', '| --- | --- | --- | --- | --- |');
    for (const l of s.lines) {
      const change = l.dataAtRisk ? `**${l.kind.toUpperCase()} (STATEFUL)**` : l.kind;
      const props = [...l.properties, ...(l.policyAction ? [`policy: ${l.policyAction}`] : [])].join(', ');
      md.push(
        `| ${change} | ${escapeCell(l.logicalId)} | ${l.type} | ${escapeCell(l.physicalId ?? '')} | ${escapeCell(props)} |`,
      );
    }
  }
  md.push('');
  return { stacks, alarms, headline, markdown: md.join('\n') };
}
