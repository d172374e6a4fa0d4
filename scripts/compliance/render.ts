import type { ComplianceModel, StackPackResult, StackResult } from './model';

/** Pure renderers of the compliance model: Markdown and a self-contained HTML page. */

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

/** The first sentence of a rule description (verbose descriptions run to a paragraph). */
export function summary(description: string, max = 220): string {
  const first = /^(.+?[.!?])(\s|$)/.exec(description)?.[1] ?? description;
  return first.length > max ? `${first.substring(0, max - 1)}…` : first;
}

function modeLabel(mode: string): string {
  return mode === 'enforce' ? 'enforced' : 'report only';
}

function rulesLabel(p: StackPackResult): string {
  if (p.rulesChecked === undefined) return 'unknown (no evaluation recorded)';
  if (p.rulesChecked.length === 0) return 'none applied';
  const prefix = `${p.pack}-`;
  const short = p.rulesChecked.map((r) => (r.startsWith(prefix) ? r.substring(prefix.length) : r));
  return `${p.rulesChecked.length}: ${short.join(', ')}`;
}

function stackHeading(s: StackResult): string {
  const env = s.awsEnvironment ? ` (${s.awsEnvironment})` : '';
  return `${s.stackPath}${env}`;
}

export function renderMarkdown(model: ComplianceModel): string {
  const t = model.totals;
  const out: string[] = [];
  out.push(`# Compliance report: ${model.status}`, '');
  out.push(`Generated ${mdCell(model.generatedAt)} from \`${model.source}\`.`, '');
  out.push(
    `**${model.status}**: ${t.openEnforced} open finding(s) in enforced packs, ${t.openAdvisory} in report-only packs, ` +
      `${t.acknowledged} acknowledged, ${t.unusedAcknowledgements} unused acknowledgement(s); ` +
      `${t.environments} environment(s), ${t.stacks} stack(s), ${t.resources} resource(s).`,
    '',
  );
  if (model.problems.length > 0) {
    out.push('## Problems', '');
    for (const p of model.problems) out.push(`- ${mdCell(p)}`);
    out.push('');
  }
  out.push(
    '## Packs',
    '',
    '| Pack | Mode | Rules checked | Open | Acknowledged |',
    '| --- | --- | ---: | ---: | ---: |',
  );
  for (const p of model.packs) {
    out.push(
      `| ${mdCell(p.pack)} | ${modeLabel(p.mode)} | ${p.rulesChecked ?? 'unknown'} | ${p.open} | ${p.acknowledged} |`,
    );
  }
  out.push('');
  for (const env of model.environments) {
    out.push(`## Environment ${mdCell(env.name)}`, '');
    for (const s of env.stacks) {
      out.push(`### Stack ${mdCell(stackHeading(s))}`, '');
      if (s.templateFile) out.push(`Template \`${s.templateFile}\`, ${s.resources} resource(s).`, '');
      out.push('Rules checked:', '');
      for (const p of s.packs)
        out.push(`- ${mdCell(p.pack)} (${modeLabel(p.mode)}): ${mdCell(rulesLabel(p))}`);
      out.push('');
      const open = s.packs.flatMap((p) => p.open.map((f) => ({ ...f, mode: p.mode })));
      out.push(`Open findings: ${open.length}`, '');
      if (open.length > 0) {
        out.push('| Pack | Rule | Severity | Resource | Description |', '| --- | --- | --- | --- | --- |');
        for (const f of open) {
          out.push(
            `| ${mdCell(f.pack)} (${modeLabel(f.mode)}) | ${mdCell(f.ruleId)} | ${mdCell(f.severity)} | ${mdCell(f.resourcePath)} | ${mdCell(summary(f.description))} |`,
          );
        }
        out.push('');
      }
      const acked = s.packs.flatMap((p) => p.acknowledged);
      out.push(`Acknowledged findings: ${acked.length}`, '');
      if (acked.length > 0) {
        out.push('| Rule | Resource | Reason | Acknowledged at |', '| --- | --- | --- | --- |');
        for (const a of acked) {
          out.push(
            `| ${mdCell(a.ruleId)} | ${mdCell(a.resourcePath)} | ${mdCell(a.reason)} | ${mdCell(a.acknowledgedAt)} |`,
          );
        }
        out.push('');
      }
      const unused = s.declaredAcknowledgements.filter((d) => d.unused);
      if (unused.length > 0) {
        out.push('Unused acknowledgements (no finding matched them; remove them):', '');
        for (const d of unused) out.push(`- ${mdCell(d.id)}: ${mdCell(d.reason)}`);
        out.push('');
      }
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}h3{margin-top:1.5rem}
.status{display:inline-block;padding:.2rem .8rem;border-radius:4px;color:#fff;font-weight:700}
.PASS{background:#1a7f37}.FAIL{background:#cf222e}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f6f8fa}td.num{text-align:right}code{font-size:.85rem;word-break:break-all}
.enforce{color:#cf222e;font-weight:600}.report-only{color:#9a6700}
.muted{color:#57606a}.problems li{color:#cf222e}
`;

function td(text: string, cls?: string): string {
  return cls ? `<td class="${cls}">${escapeHtml(text)}</td>` : `<td>${escapeHtml(text)}</td>`;
}

function table(headers: string[], rows: string[][]): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  return `<table>${head}${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</table>`;
}

export function renderHtml(model: ComplianceModel): string {
  const t = model.totals;
  const body: string[] = [];
  body.push(
    `<h1>Compliance report <span class="status ${model.status}">${model.status}</span></h1>`,
    `<p class="muted">Generated ${escapeHtml(model.generatedAt)} from <code>${escapeHtml(model.source)}</code>.</p>`,
    `<p><strong>${model.status}</strong>: ${t.openEnforced} open finding(s) in enforced packs, ${t.openAdvisory} in report-only packs, ` +
      `${t.acknowledged} acknowledged, ${t.unusedAcknowledgements} unused acknowledgement(s); ` +
      `${t.environments} environment(s), ${t.stacks} stack(s), ${t.resources} resource(s).</p>`,
  );
  if (model.problems.length > 0) {
    body.push(
      '<h2>Problems</h2>',
      `<ul class="problems">${model.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`,
    );
  }
  body.push(
    '<h2>Packs</h2>',
    table(
      ['Pack', 'Mode', 'Rules checked', 'Open', 'Acknowledged'],
      model.packs.map((p) => [
        td(p.pack),
        td(modeLabel(p.mode), p.mode),
        td(String(p.rulesChecked ?? 'unknown'), 'num'),
        td(String(p.open), 'num'),
        td(String(p.acknowledged), 'num'),
      ]),
    ),
  );
  for (const env of model.environments) {
    body.push(`<h2>Environment ${escapeHtml(env.name)}</h2>`);
    for (const s of env.stacks) {
      body.push(`<h3>Stack ${escapeHtml(stackHeading(s))}</h3>`);
      if (s.templateFile) {
        body.push(
          `<p class="muted">Template <code>${escapeHtml(s.templateFile)}</code>, ${s.resources} resource(s).</p>`,
        );
      }
      body.push(
        '<p>Rules checked:</p>',
        `<ul>${s.packs
          .map((p) => `<li>${escapeHtml(p.pack)} (${modeLabel(p.mode)}): ${escapeHtml(rulesLabel(p))}</li>`)
          .join('')}</ul>`,
      );
      const open = s.packs.flatMap((p) => p.open.map((f) => ({ ...f, mode: p.mode })));
      body.push(`<p>Open findings: ${open.length}</p>`);
      if (open.length > 0) {
        body.push(
          table(
            ['Pack', 'Rule', 'Severity', 'Resource', 'Description'],
            open.map((f) => [
              td(`${f.pack} (${modeLabel(f.mode)})`, f.mode),
              td(f.ruleId),
              td(f.severity),
              `<td><code>${escapeHtml(f.resourcePath)}</code></td>`,
              td(summary(f.description)),
            ]),
          ),
        );
      }
      const acked = s.packs.flatMap((p) => p.acknowledged);
      body.push(`<p>Acknowledged findings: ${acked.length}</p>`);
      if (acked.length > 0) {
        body.push(
          table(
            ['Rule', 'Resource', 'Reason', 'Acknowledged at'],
            acked.map((a) => [
              td(a.ruleId),
              `<td><code>${escapeHtml(a.resourcePath)}</code></td>`,
              td(a.reason),
              `<td><code>${escapeHtml(a.acknowledgedAt)}</code></td>`,
            ]),
          ),
        );
      }
      const unused = s.declaredAcknowledgements.filter((d) => d.unused);
      if (unused.length > 0) {
        body.push(
          '<p>Unused acknowledgements (no finding matched them; remove them):</p>',
          `<ul>${unused.map((d) => `<li>${escapeHtml(d.id)}: ${escapeHtml(d.reason)}</li>`).join('')}</ul>`,
        );
      }
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>Compliance report: ${model.status}</title>`,
    `<style>${CSS.trim()}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
