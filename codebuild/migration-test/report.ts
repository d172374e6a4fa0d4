import type { Comparison } from './diff';
import type { SnapshotChoice } from './snapshots';

/**
 * The outcome of one run and its renderings: Markdown (for people), JUnit XML (for the
 * CodeBuild report group) and a one-line summary (exported to the pipeline). Pure.
 */

export type Outcome = 'pass' | 'fail' | 'no-snapshot' | 'no-image' | 'error';

export interface RunReport {
  readonly outcome: Outcome;
  readonly sourceInstanceId: string;
  readonly buildId: string;
  readonly tempInstanceId?: string;
  readonly snapshot?: SnapshotChoice;
  readonly skippedSnapshots?: readonly string[];
  /** `image:tag` and arguments. */
  readonly image?: string;
  readonly command?: readonly string[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly restoreMs?: number;
  readonly migrationMs?: number;
  readonly migrationExitCode?: number;
  readonly comparison?: Comparison;
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  /** Why the test itself could not run (outcome `error`). */
  readonly error?: string;
  /** What happened to the temporary instance. */
  readonly cleanup?: string;
  /** Last lines of the migration command's output (already redacted). */
  readonly migrationOutputTail?: readonly string[];
}

export const REPORT_MARKDOWN = 'migration-report.md';
export const REPORT_JUNIT = 'migration-report.xml';
export const REPORT_SUMMARY = 'summary.txt';

const HEADLINE: Record<Outcome, string> = {
  pass: '✅ PASS: the migrations ran and no data was lost',
  fail: '❌ FAIL: the migrations failed or lost data',
  'no-snapshot': '⏭️ SKIPPED: no snapshot of the database yet (first deploy)',
  'no-image': '⚠️ SKIPPED: the migration image is not in the repository yet (nothing was tested)',
  error: '⚠️ ERROR: the migration test could not run',
};

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A table cell: no pipes or line breaks. */
function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function section(title: string, lines: readonly string[], empty: string): string[] {
  return ['', `### ${title}`, '', ...(lines.length > 0 ? lines : [empty])];
}

export function summaryLine(report: RunReport): string {
  switch (report.outcome) {
    case 'pass': {
      const n = report.comparison?.migrationsApplied.length ?? 0;
      return `PASS: ${n} migration(s) applied, no data lost (${report.snapshot?.identifier ?? '?'})`;
    }
    case 'fail':
      return `FAIL: ${report.reasons.join('; ')}`;
    case 'no-snapshot':
      return `SKIPPED: no snapshot of ${report.sourceInstanceId} yet (first deploy)`;
    case 'no-image':
      return `SKIPPED with a warning: no image ${report.image} yet (the application pipeline has not pushed one); the migrations were NOT tested`;
    case 'error':
      return `ERROR: ${report.error ?? 'the test could not run'}`;
  }
}

export function renderMarkdown(report: RunReport): string {
  const out: string[] = ['# Migration test report', '', `**${HEADLINE[report.outcome]}**`, ''];
  const facts: [string, string][] = [
    ['Source instance', code(report.sourceInstanceId)],
    [
      'Snapshot',
      report.snapshot
        ? `${code(report.snapshot.identifier)} (${report.snapshot.type}, ${report.snapshot.createdAt.toISOString()})`
        : 'none',
    ],
    ['Temporary instance', report.tempInstanceId ? code(report.tempInstanceId) : 'none'],
    ['Build', code(report.buildId)],
  ];
  if (report.image) facts.push(['Image', code(report.image)]);
  if (report.command) facts.push(['Command', code(JSON.stringify(report.command))]);
  facts.push(['Started', report.startedAt.toISOString()]);
  facts.push(['Duration', formatDuration(report.finishedAt.getTime() - report.startedAt.getTime())]);
  if (report.restoreMs !== undefined) facts.push(['Restore', formatDuration(report.restoreMs)]);
  if (report.migrationMs !== undefined) {
    facts.push([
      'Migrations',
      `${formatDuration(report.migrationMs)}, exit status ${report.migrationExitCode ?? '?'}`,
    ]);
  }
  if (report.cleanup) facts.push(['Clean-up', report.cleanup]);
  out.push(...table(['', ''], facts));

  if (report.error) out.push('', '## Error', '', '```text', report.error, '```');
  if (report.reasons.length > 0) out.push('', '## Why it failed', '', ...report.reasons.map((r) => `- ${r}`));
  if (report.warnings.length > 0) out.push('', '## Warnings', '', ...report.warnings.map((w) => `- ${w}`));
  if (report.skippedSnapshots && report.skippedSnapshots.length > 0) {
    out.push(
      '',
      `Skipped snapshots (name does not start with \`${report.sourceInstanceId}-\`): ${report.skippedSnapshots.join(', ')}`,
    );
  }

  const c = report.comparison;
  if (c) {
    out.push('', '## Details');
    out.push(
      ...section(
        `Migrations applied${c.migrationsTable ? ` (${code(c.migrationsTable)})` : ''}`,
        c.migrationsApplied.map((m) => `- ${code(m.label)}${m.failed ? ' — **recorded as failed**' : ''}`),
        c.migrationsTable ? 'None: the database was already up to date.' : 'No migrations table found.',
      ),
    );
    out.push(
      ...section(
        'Tables dropped',
        c.tablesDropped.length
          ? table(
              ['table', 'rows before', 'allowed by'],
              c.tablesDropped.map((t) => [
                code(t.table),
                String(t.rowCount),
                t.allowedBy ? code(t.allowedBy) : '**no**',
              ]),
            )
          : [],
        'None.',
      ),
    );
    out.push(
      ...section(
        'Columns dropped',
        c.columnsDropped.length
          ? table(
              ['column', 'allowed by'],
              c.columnsDropped.map((d) => [
                code(`${d.table}.${d.column}`),
                d.allowedBy ? code(d.allowedBy) : '**no**',
              ]),
            )
          : [],
        'None.',
      ),
    );
    out.push(
      ...section(
        'Tables whose row count fell',
        c.rowCountsFell.length
          ? table(
              ['table', 'before', 'after', 'allowed by'],
              c.rowCountsFell.map((r) => [
                code(r.table),
                String(r.before),
                String(r.after),
                r.allowedBy ? code(r.allowedBy) : '**no**',
              ]),
            )
          : [],
        'None.',
      ),
    );
    out.push(
      ...section(
        'Invalid indexes',
        c.invalidIndexes.length
          ? table(
              ['index', 'table', 'definition', 'already invalid before'],
              c.invalidIndexes.map((i) => [
                code(i.name),
                code(i.table),
                code(i.definition),
                i.preexisting ? 'yes' : '**no**',
              ]),
            )
          : [],
        'None.',
      ),
    );
    out.push(
      ...section(
        'NOT VALID constraints',
        c.notValidConstraints.length
          ? table(
              ['constraint', 'table', 'definition', 'already before'],
              c.notValidConstraints.map((k) => [
                code(k.name),
                code(k.table),
                code(k.definition),
                k.preexisting ? 'yes' : 'no',
              ]),
            )
          : [],
        'None.',
      ),
    );
    out.push(
      ...section(
        'Allowed data loss used',
        c.allowancesUsed.map((a) => `- ${code(a.entry)}: ${a.allowed.join('; ')}`),
        'None.',
      ),
    );
    const added = [
      ...c.tablesAdded.map((t) => `table ${code(t)}`),
      ...c.columnsAdded.map((col) => `column ${code(col)}`),
    ];
    out.push(
      ...section(
        'Added',
        added.map((a) => `- ${a}`),
        'Nothing.',
      ),
    );
  }

  if (report.migrationOutputTail && report.migrationOutputTail.length > 0) {
    out.push('', '## Migration output (last lines)', '', '```text', ...report.migrationOutputTail, '```');
  }
  out.push('');
  return out.join('\n');
}

/** Characters XML 1.0 cannot carry are dropped; the five special ones escaped. */
export function xmlEscape(value: string): string {
  return value
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  readonly name: string;
  readonly failure?: string;
  readonly error?: string;
  readonly skipped?: string;
  readonly output?: string;
}

function cases(report: RunReport): Case[] {
  if (report.outcome === 'no-snapshot' || report.outcome === 'no-image') {
    return [{ name: 'migrations against the newest snapshot', skipped: summaryLine(report) }];
  }
  if (report.outcome === 'error') {
    return [{ name: 'migration test ran', error: report.error ?? 'the test could not run' }];
  }
  const c = report.comparison;
  const list = <T>(items: readonly T[] | undefined, fmt: (t: T) => string): string | undefined =>
    items && items.length > 0 ? items.map(fmt).join('\n') : undefined;
  const failedRows = c?.migrationsApplied.filter((m) => m.failed);
  const migrationFailure =
    report.migrationExitCode !== 0
      ? `exit status ${report.migrationExitCode ?? '?'}`
      : list(failedRows, (m) => `recorded as failed: ${m.label}`);
  const invalid = list(
    c?.invalidIndexes.filter((i) => !i.preexisting),
    (i) => `${i.table} ${i.name}: ${i.definition}`,
  );
  const applied = list(c?.migrationsApplied, (m) => m.label) ?? 'no new migrations';
  return [
    { name: 'migrations ran', ...(migrationFailure ? { failure: migrationFailure } : {}), output: applied },
    {
      name: 'no table dropped',
      ...opt(
        'failure',
        list(
          c?.tablesDropped.filter((t) => !t.allowedBy),
          (t) => `${t.table} (${t.rowCount} rows)`,
        ),
      ),
    },
    {
      name: 'no column dropped',
      ...opt(
        'failure',
        list(
          c?.columnsDropped.filter((d) => !d.allowedBy),
          (d) => `${d.table}.${d.column}`,
        ),
      ),
    },
    {
      name: 'no rows lost',
      ...opt(
        'failure',
        list(
          c?.rowCountsFell.filter((r) => !r.allowedBy),
          (r) => `${r.table}: ${r.before} → ${r.after}`,
        ),
      ),
    },
    { name: 'indexes valid', ...opt('failure', invalid) },
    {
      name: 'constraints validated',
      ...opt(
        'output',
        list(c?.notValidConstraints, (k) => `NOT VALID: ${k.table} ${k.name}`),
      ),
    },
  ];
}

function opt<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

export function renderJUnit(report: RunReport, markdown: string = renderMarkdown(report)): string {
  const list = cases(report);
  const seconds = ((report.finishedAt.getTime() - report.startedAt.getTime()) / 1000).toFixed(3);
  const count = (k: keyof Case) => list.filter((c) => c[k] !== undefined).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="migration-test" tests="${list.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds}">`,
    `  <testsuite name="${xmlEscape(`migration-test ${report.sourceInstanceId}`)}" tests="${list.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="${seconds}" timestamp="${report.startedAt.toISOString()}">`,
  ];
  for (const c of list) {
    lines.push(`    <testcase classname="migration-test" name="${xmlEscape(c.name)}">`);
    if (c.failure !== undefined) {
      lines.push(
        `      <failure message="${xmlEscape(c.failure.split('\n')[0] ?? '')}">${xmlEscape(c.failure)}</failure>`,
      );
    }
    if (c.error !== undefined) {
      lines.push(
        `      <error message="${xmlEscape(c.error.split('\n')[0] ?? '')}">${xmlEscape(c.error)}</error>`,
      );
    }
    if (c.skipped !== undefined) lines.push(`      <skipped message="${xmlEscape(c.skipped)}"/>`);
    if (c.output !== undefined) lines.push(`      <system-out>${xmlEscape(c.output)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push(`    <system-out>${xmlEscape(markdown)}</system-out>`, '  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
