import type { Finding, ComplianceModel, PackSummary, RuleSummary, StackResult } from './model';
import { ruleOf, TOP_LEVEL } from './model';

/**
 * Pure renderers of the compliance model. The report is first laid out as a small document
 * (headings, paragraphs, tables, lists), then written as Markdown and as one self-contained HTML
 * page, so that both say the same thing in the same order. Nothing is cut: descriptions are
 * whole sentences.
 */

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A Markdown table cell: no line breaks, pipes escaped, no raw HTML. */
export function mdCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\s*\r?\n\s*/g, ' ');
}

/** The anchor GitHub gives a Markdown heading (lower case, punctuation dropped, spaces → `-`). */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** A piece of inline text: plain, code, emphasised, or a link to an anchor of the report. */
interface Span {
  readonly text: string;
  readonly code?: boolean;
  readonly strong?: boolean;
  /** A link within the report: HTML points at the rule's row, Markdown at the pack's rule table. */
  readonly link?: { readonly html: string; readonly md: string };
}
type Inline = string | Span;
interface Cell {
  readonly parts: readonly Inline[];
  readonly cls?: string;
  readonly num?: boolean;
  /** HTML id of the cell (rule rows), the target of rule links. */
  readonly id?: string;
}

type Block =
  | { readonly kind: 'heading'; readonly level: 1 | 2 | 3 | 4; readonly text: string; readonly id: string }
  | { readonly kind: 'paragraph'; readonly parts: readonly Inline[]; readonly cls?: string }
  | { readonly kind: 'list'; readonly items: readonly (readonly Inline[])[]; readonly cls?: string }
  | {
      readonly kind: 'toc';
      readonly entries: readonly { readonly text: string; readonly id: string; readonly depth: number }[];
    }
  | {
      readonly kind: 'table';
      readonly headers: readonly string[];
      readonly rows: readonly (readonly Cell[])[];
      readonly cls?: string;
    };

const code = (text: string): Span => ({ text, code: true });
const strong = (text: string): Span => ({ text, strong: true });
const cell = (...parts: Inline[]): Cell => ({ parts });
const num = (value: number | undefined, fallback = 'n/a'): Cell => ({
  parts: [value === undefined ? fallback : String(value)],
  num: true,
});

function modeLabel(mode: string): string {
  return mode === 'enforce' ? 'enforced' : 'report only';
}

/** What a rule maps to: the framework's control ids, or the pack for AwsSolutions. */
function controlText(rule: RuleSummary | undefined, pack: PackSummary | undefined): string {
  if (rule && rule.controls.length > 0) return rule.controls.join(', ');
  if (pack?.pack === 'AwsSolutions') return 'AwsSolutions pack (AWS best practice; no control id)';
  return pack ? `${pack.framework}: no control id given` : 'no control id given';
}

function ruleAnchor(ruleId: string): string {
  return `rule-${slug(ruleId)}`;
}

function rulesSectionTitle(pack: string): string {
  return `Rules of ${pack}`;
}

function ruleLink(findingId: string, pack: string): Span {
  return {
    text: findingId,
    link: { html: ruleAnchor(ruleOf(findingId)), md: slug(rulesSectionTitle(pack)) },
  };
}

function stackTitle(s: StackResult): string {
  return `Stack ${s.stackPath}`;
}

function environmentTitle(name: string): string {
  return name === TOP_LEVEL ? 'Top-level stacks (the pipeline)' : `Environment ${name}`;
}

/** Lays the model out as a document. */
export function layout(model: ComplianceModel): Block[] {
  const t = model.totals;
  const packByName = new Map(model.packs.map((p) => [p.pack, p]));
  const ruleById = new Map(model.rules.map((r) => [r.id, r]));
  const blocks: Block[] = [];
  const heading = (level: 1 | 2 | 3 | 4, text: string, id = slug(text)) =>
    blocks.push({ kind: 'heading', level, text, id });

  heading(1, 'Orcha compliance report');
  blocks.push({
    kind: 'paragraph',
    cls: `headline ${model.status}${model.status === 'PASS' && t.openAdvisory > 0 ? ' advisory' : ''}`,
    parts: [strong(`Status: ${model.status}`), ` — ${model.headline}`],
  });

  // What was audited.
  const tools = Object.entries(model.audit.tools)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const nagVersion = model.audit.tools['cdk-nag'];
  blocks.push({
    kind: 'table',
    cls: 'audit',
    headers: ['Audited', ''],
    rows: [
      [
        cell('Code'),
        cell(
          'git commit ',
          code(model.audit.commit),
          model.audit.uncommittedChanges ? ' with uncommitted changes' : '',
        ),
      ],
      [cell('Date'), cell(model.generatedAt)],
      [cell('Cloud assembly'), cell(code(model.source))],
      [cell('Tools'), cell(tools || 'unknown')],
      [
        cell('Packs'),
        cell(
          model.packs
            .map(
              (p) =>
                `${p.pack} (${nagVersion ? `cdk-nag ${nagVersion}` : 'version unknown'}, ${modeLabel(p.mode)})`,
            )
            .join('; ') || 'none',
        ),
      ],
      [
        cell('Scope'),
        cell(`${t.environments} environment(s), ${t.stacks} stack(s), ${t.resources} resource(s)`),
      ],
    ],
  });

  const toc: { text: string; id: string; depth: number }[] = [];
  blocks.push({ kind: 'heading', level: 2, text: 'Contents', id: 'contents' }, { kind: 'toc', entries: toc });
  const section = (level: 2 | 3, text: string, id = slug(text)) => {
    toc.push({ text, id, depth: level - 2 });
    heading(level, text, id);
  };

  if (model.problems.length > 0) {
    section(2, 'Problems');
    blocks.push({ kind: 'list', cls: 'problems', items: model.problems.map((p) => [p]) });
  }

  section(2, 'Summary per pack');
  blocks.push({
    kind: 'table',
    cls: 'packs',
    headers: [
      'Pack',
      'Framework',
      'Mode',
      'Rules in pack',
      'Rules checked',
      'Open',
      'Acknowledged',
      'Fixed since previous report',
      'New since previous report',
    ],
    rows: model.packs.map((p) => [
      cell(p.pack),
      cell(p.framework),
      { parts: [modeLabel(p.mode)], cls: p.mode },
      num(p.rulesInPack, 'unknown'),
      num(p.rulesChecked, 'unknown'),
      num(p.open),
      num(p.acknowledged),
      num(p.fixed, model.baseline ? 'not in baseline' : 'no baseline'),
      num(p.added, model.baseline ? 'not in baseline' : 'no baseline'),
    ]),
  });
  blocks.push({
    kind: 'paragraph',
    parts: [
      'Enforced packs fail the build on an open finding. Report-only packs never do: their open findings are listed under "Open findings, report only (not enforced)". ' +
        'Acknowledged findings were accepted one finding and one resource at a time, with the reason shown.',
    ],
  });

  section(2, 'Changes since the previous report');
  if (!model.baseline) {
    blocks.push({
      kind: 'paragraph',
      parts: ['No baseline: run with ', code('--update-baseline'), ' to record this report as the baseline.'],
    });
  } else {
    const b = model.baseline;
    blocks.push({
      kind: 'paragraph',
      parts: [
        'Compared with the baseline of commit ',
        code(b.commit),
        ` (${b.generatedAt}). A finding is fixed when it is neither open nor acknowledged any more.`,
        b.notRun.length > 0 ? ` Not run this time, so not compared: ${b.notRun.join(', ')}.` : '',
      ],
    });
    for (const p of b.packs) {
      if (p.fixed.length === 0 && p.added.length === 0) continue;
      const items: Inline[][] = [
        ...p.fixed.map((k) => [strong('fixed'), ' ', code(k)]),
        ...p.added.map((k) => [strong('new'), ' ', code(k)]),
      ];
      blocks.push({ kind: 'paragraph', parts: [strong(p.pack)] }, { kind: 'list', items });
    }
    if (b.packs.every((p) => p.fixed.length === 0 && p.added.length === 0)) {
      blocks.push({ kind: 'paragraph', parts: ['No finding was fixed or added.'] });
    }
  }

  /** One row per finding id: the rule explained once, then every resource it was found on. */
  const findingRows = (findings: readonly Finding[]): Cell[][] => {
    const groups = new Map<string, Finding[]>();
    for (const f of findings) {
      const key = `${f.pack}\u0000${f.ruleId}`;
      groups.set(key, [...(groups.get(key) ?? []), f]);
    }
    return [...groups.values()].map((group) => {
      const f = group[0];
      const rule = ruleById.get(ruleOf(f.ruleId));
      const resources = group.flatMap((g, i): Inline[] =>
        i === 0 ? [code(g.resourcePath)] : [', ', code(g.resourcePath)],
      );
      return [
        cell(f.pack),
        cell(ruleLink(f.ruleId, f.pack)),
        cell(rule?.meaning ?? f.description),
        cell(controlText(rule, packByName.get(f.pack))),
        cell(f.severity),
        { parts: [`${group.length}: `, ...resources] },
      ];
    });
  };

  for (const env of model.environments) {
    section(2, environmentTitle(env.name));
    for (const s of env.stacks) {
      section(3, stackTitle(s));
      blocks.push({
        kind: 'paragraph',
        cls: 'muted',
        parts: [
          s.awsEnvironment ? `${s.awsEnvironment}, ` : '',
          ...(s.templateFile ? ['template ', code(s.templateFile), ', '] : []),
          `${s.resources} resource(s). Rules checked: `,
          s.packs
            .map((p) => `${p.pack} ${p.rulesChecked === undefined ? 'unknown' : p.rulesChecked.length}`)
            .join(', '),
          '.',
        ],
      });
      const enforced = s.packs.filter((p) => p.mode === 'enforce').flatMap((p) => p.open);
      const reportOnly = s.packs.filter((p) => p.mode === 'report-only').flatMap((p) => p.open);
      const acked = s.packs.flatMap((p) => p.acknowledged);
      const findingHeaders = ['Pack', 'Rule', 'Meaning', 'Control', 'Severity', 'Resources'];
      heading(4, `Open findings, enforced: ${enforced.length}`, `${slug(stackTitle(s))}-enforced`);
      if (enforced.length > 0) {
        blocks.push({
          kind: 'table',
          cls: 'findings enforce',
          headers: findingHeaders,
          rows: findingRows(enforced),
        });
      }
      heading(
        4,
        `Open findings, report only (not enforced): ${reportOnly.length}`,
        `${slug(stackTitle(s))}-report-only`,
      );
      if (reportOnly.length > 0) {
        blocks.push({
          kind: 'table',
          cls: 'findings report-only',
          headers: findingHeaders,
          rows: findingRows(reportOnly),
        });
      }
      heading(4, `Acknowledged findings: ${acked.length}`, `${slug(stackTitle(s))}-acknowledged`);
      if (acked.length > 0) {
        blocks.push({
          kind: 'table',
          cls: 'acknowledged',
          headers: ['Rule', 'Meaning', 'Resource', 'Reason', 'Acknowledged at'],
          rows: acked.map((a) => [
            cell(ruleLink(a.ruleId, a.pack)),
            cell(ruleById.get(ruleOf(a.ruleId))?.meaning ?? ''),
            cell(code(a.resourcePath)),
            cell(a.reason),
            cell(code(a.acknowledgedAt)),
          ]),
        });
      }
      const unused = s.declaredAcknowledgements.filter((d) => d.unused);
      if (unused.length > 0) {
        blocks.push(
          {
            kind: 'paragraph',
            parts: [strong('Unused acknowledgements'), ' (no finding matched them; remove them):'],
          },
          { kind: 'list', items: unused.map((d) => [code(d.id), `: ${d.reason}`]) },
        );
      }
    }
  }

  section(2, 'Rules');
  blocks.push({
    kind: 'paragraph',
    parts: [
      'Every rule that applied to at least one resource or has a finding: its meaning (the pack’s own words, whole) and the control it maps to.',
    ],
  });
  for (const p of model.packs) {
    section(3, rulesSectionTitle(p.pack));
    const rules = model.rules.filter((r) => r.pack === p.pack);
    const notApplied = p.rulesInPack === undefined ? undefined : p.rulesInPack - rules.length;
    blocks.push({
      kind: 'paragraph',
      cls: 'muted',
      parts: [
        `${p.framework}; ${modeLabel(p.mode)}. ${rules.length} rule(s) listed`,
        notApplied !== undefined && notApplied > 0
          ? `; the other ${notApplied} rule(s) of the pack apply to no resource type of this app.`
          : '.',
      ],
    });
    if (rules.length > 0) {
      blocks.push({
        kind: 'table',
        cls: 'rules',
        headers: ['Rule', 'Meaning', 'Control', 'Why it matters', 'Open', 'Acknowledged'],
        rows: rules.map((r) => [
          { parts: [code(r.id)], id: ruleAnchor(r.id) },
          cell(r.meaning),
          cell(controlText(r, p)),
          cell(r.explanation),
          num(r.open),
          num(r.acknowledged),
        ]),
      });
    }
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Markdown

function mdInline(parts: readonly Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === 'string') return mdCell(p);
      const text = p.code ? `\`${p.text.replace(/`/g, "'").replace(/\|/g, '\\|')}\`` : mdCell(p.text);
      const linked = p.link ? `[${text}](#${p.link.md})` : text;
      return p.strong ? `**${linked}**` : linked;
    })
    .join('');
}

export function renderMarkdown(model: ComplianceModel): string {
  const out: string[] = [];
  for (const b of layout(model)) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${mdCell(b.text)}`, '');
        break;
      case 'paragraph':
        out.push(mdInline(b.parts), '');
        break;
      case 'list':
        out.push(...b.items.map((i) => `- ${mdInline(i)}`), '');
        break;
      case 'toc':
        out.push(...b.entries.map((e) => `${'  '.repeat(e.depth)}- [${mdCell(e.text)}](#${e.id})`), '');
        break;
      case 'table':
        out.push(
          `| ${b.headers.map(mdCell).join(' | ')} |`,
          `| ${b.headers.map((_, i) => (b.rows[0]?.[i]?.num ? '---:' : '---')).join(' | ')} |`,
          ...b.rows.map((r) => `| ${r.map((c) => mdInline(c.parts)).join(' | ')} |`),
          '',
        );
        break;
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}h3{margin-top:1.5rem}h4{margin:1rem 0 .3rem}
.headline{padding:.6rem .8rem;border-radius:4px;color:#fff}
.headline.PASS{background:#1a7f37}.headline.FAIL{background:#cf222e}.headline.PASS.advisory{background:#9a6700}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f6f8fa}td.num{text-align:right}code{font-size:.85rem;word-break:break-all}
.enforce{color:#cf222e;font-weight:600}.report-only{color:#9a6700}
table.report-only{border-left:4px solid #d4a72c}
.muted{color:#57606a}.problems li{color:#cf222e}nav ul{margin:0}
`;

function htmlInline(parts: readonly Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === 'string') return escapeHtml(p);
      let html = p.code ? `<code>${escapeHtml(p.text)}</code>` : escapeHtml(p.text);
      if (p.link) html = `<a href="#${escapeHtml(p.link.html)}">${html}</a>`;
      return p.strong ? `<strong>${html}</strong>` : html;
    })
    .join('');
}

function htmlToc(entries: readonly { text: string; id: string; depth: number }[]): string {
  const out: string[] = ['<nav id="toc"><ul>'];
  let depth = 0;
  for (const [i, e] of entries.entries()) {
    if (e.depth > depth) out.push('<ul>');
    else if (i > 0) {
      out.push('</li>');
      for (; depth > e.depth; depth--) out.push('</ul></li>');
    }
    depth = e.depth;
    out.push(`<li><a href="#${escapeHtml(e.id)}">${escapeHtml(e.text)}</a>`);
  }
  if (entries.length > 0) out.push('</li>');
  for (; depth > 0; depth--) out.push('</ul></li>');
  out.push('</ul></nav>');
  return out.join('');
}

function htmlCell(c: Cell): string {
  const classes = [...(c.num ? ['num'] : []), ...(c.cls ? [c.cls] : [])];
  const attrs = `${c.id ? ` id="${escapeHtml(c.id)}"` : ''}${classes.length > 0 ? ` class="${classes.join(' ')}"` : ''}`;
  return `<td${attrs}>${htmlInline(c.parts)}</td>`;
}

export function renderHtml(model: ComplianceModel): string {
  const body: string[] = [];
  for (const b of layout(model)) {
    switch (b.kind) {
      case 'heading':
        body.push(`<h${b.level} id="${escapeHtml(b.id)}">${escapeHtml(b.text)}</h${b.level}>`);
        break;
      case 'paragraph':
        body.push(`<p${b.cls ? ` class="${b.cls}"` : ''}>${htmlInline(b.parts)}</p>`);
        break;
      case 'list':
        body.push(
          `<ul${b.cls ? ` class="${b.cls}"` : ''}>${b.items.map((i) => `<li>${htmlInline(i)}</li>`).join('')}</ul>`,
        );
        break;
      case 'toc':
        body.push(htmlToc(b.entries));
        break;
      case 'table':
        body.push(
          `<table${b.cls ? ` class="${b.cls}"` : ''}><thead><tr>${b.headers
            .map((h) => `<th>${escapeHtml(h)}</th>`)
            .join('')}</tr></thead><tbody>${b.rows
            .map((r) => `<tr>${r.map(htmlCell).join('')}</tr>`)
            .join('')}</tbody></table>`,
        );
        break;
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>Orcha compliance report: ${model.status}</title>`,
    `<style>${CSS.trim()}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
