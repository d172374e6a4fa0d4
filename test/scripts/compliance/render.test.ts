import { JSDOM } from 'jsdom';
import * as path from 'node:path';
import { ruleCatalog } from '../../../scripts/compliance/catalog';
import { loadComplianceInput } from '../../../scripts/compliance/load';
import {
  baselineFromModel,
  buildComplianceModel,
  type ComplianceInput,
} from '../../../scripts/compliance/model';
import { escapeHtml, mdCell, renderHtml, renderMarkdown, slug } from '../../../scripts/compliance/render';

// The fixture has an open (failing) AwsSolutions finding, acknowledged ones, and three
// report-only packs with open findings (see model.test.ts).
const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'compliance', 'cloud-assembly');
const S1_REASON_DEV = 'Server access logs replaced by CloudTrail S3 data events for this account <script>.';

function input(): ComplianceInput {
  return {
    ...loadComplianceInput(FIXTURE, '2026-11-27T00:00:00.000Z'),
    audit: {
      commit: 'a3c3b19',
      uncommittedChanges: true,
      tools: { 'cdk-nag': '3.0.2', 'aws-cdk-lib': '2.276.0' },
    },
    environmentOrder: ['Prod', 'Staging', 'Dev'],
    catalog: ruleCatalog(),
  };
}

/** The fixture without its AwsSolutions findings: PASS, with report-only findings open. */
function passingInput(): ComplianceInput {
  const i = input();
  const report = JSON.parse(JSON.stringify(i.validationReport)) as {
    pluginReports: { pluginName: string }[];
  };
  report.pluginReports = report.pluginReports.filter((r) => r.pluginName !== 'AwsSolutions');
  return { ...i, validationReport: report };
}

const failing = buildComplianceModel(input());
// The failing report as the baseline of the passing one: the two AwsSolutions findings are fixed.
const passing = buildComplianceModel({ ...passingInput(), baseline: baselineFromModel(failing) });

/** The page as a browser engine parses it (jsdom: HTML5 parser, DOM, CSS selectors). */
function dom(html: string): Document {
  return new JSDOM(html).window.document;
}

const texts = (nodes: Iterable<Element>): string[] => [...nodes].map((n) => (n.textContent ?? '').trim());

describe('HTML report, parsed by jsdom', () => {
  const doc = dom(renderHtml(failing));

  it('has a title, a headline naming the status and the report-only findings', () => {
    expect(doc.title).toBe('Orcha compliance report: FAIL');
    expect(texts(doc.querySelectorAll('h1'))).toEqual(['Orcha compliance report']);
    const headline = doc.querySelector('p.headline');
    expect(headline?.classList.contains('FAIL')).toBe(true);
    expect(headline?.textContent).toBe(
      'Status: FAIL — 2 open findings in the enforced packs (AwsSolutions); 57 open findings in the report-only packs ' +
        '(HIPAA.Security, NIST.800.53.R5, PCI.DSS.321), which do not fail the build and are listed as report only.',
    );
  });

  it('records what was audited: commit, date, tools, packs and their versions', () => {
    const rows = [...doc.querySelectorAll('table.audit tbody tr')].map((tr) =>
      texts(tr.querySelectorAll('td')),
    );
    expect(rows).toEqual([
      ['Code', 'git commit a3c3b19 with uncommitted changes'],
      ['Date', '2026-11-27T00:00:00.000Z'],
      ['Cloud assembly', FIXTURE],
      ['Tools', 'cdk-nag 3.0.2, aws-cdk-lib 2.276.0'],
      [
        'Packs',
        'AwsSolutions (cdk-nag 3.0.2, enforced); HIPAA.Security (cdk-nag 3.0.2, report only); ' +
          'NIST.800.53.R5 (cdk-nag 3.0.2, report only); PCI.DSS.321 (cdk-nag 3.0.2, report only)',
      ],
      ['Scope', '3 environment(s), 3 stack(s), 8 resource(s)'],
    ]);
  });

  it('has a table of contents whose every link, and every other in-page link, resolves', () => {
    const toc = doc.querySelectorAll('nav#toc a');
    expect(texts(toc)).toEqual([
      'Summary per pack',
      'Changes since the previous report',
      'Environment Prod',
      'Stack Prod/Data',
      'Environment Dev',
      'Stack Dev/Data',
      'Top-level stacks (the pipeline)',
      'Stack Pipeline',
      'Rules',
      'Rules of AwsSolutions',
      'Rules of HIPAA.Security',
      'Rules of NIST.800.53.R5',
      'Rules of PCI.DSS.321',
    ]);
    const links = [...doc.querySelectorAll('a')];
    expect(links.length).toBeGreaterThan(toc.length);
    for (const a of links) {
      const href = a.getAttribute('href') ?? '';
      expect(href).toMatch(/^#./);
      expect(doc.getElementById(decodeURIComponent(href.substring(1)))).not.toBeNull();
    }
    const ids = [...doc.querySelectorAll('[id]')].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows prod first, then dev, then the pipeline', () => {
    expect(texts(doc.querySelectorAll('h2')).filter((t) => /Environment|Top-level/.test(t))).toEqual([
      'Environment Prod',
      'Environment Dev',
      'Top-level stacks (the pipeline)',
    ]);
  });

  it('summarises each pack in a table', () => {
    const table = doc.querySelector('table.packs');
    expect(texts(table?.querySelectorAll('thead th') ?? [])).toEqual([
      'Pack',
      'Framework',
      'Mode',
      'Rules in pack',
      'Rules checked',
      'Open',
      'Acknowledged',
      'Fixed since previous report',
      'New since previous report',
    ]);
    const rows = [...(table?.querySelectorAll('tbody tr') ?? [])].map((tr) =>
      texts(tr.querySelectorAll('td')),
    );
    const catalog = ruleCatalog();
    expect(rows).toEqual([
      [
        'AwsSolutions',
        catalog.get('AwsSolutions')?.framework,
        'enforced',
        String(catalog.get('AwsSolutions')?.rules.size),
        '6',
        '2',
        '3',
        'no baseline',
        'no baseline',
      ],
      [
        'HIPAA.Security',
        'HIPAA Security Rule (45 CFR 164)',
        'report only',
        String(catalog.get('HIPAA.Security')?.rules.size),
        '12',
        '19',
        '0',
        'no baseline',
        'no baseline',
      ],
      [
        'NIST.800.53.R5',
        'NIST SP 800-53 Rev. 5',
        'report only',
        String(catalog.get('NIST.800.53.R5')?.rules.size),
        '12',
        '19',
        '0',
        'no baseline',
        'no baseline',
      ],
      [
        'PCI.DSS.321',
        'PCI DSS 3.2.1',
        'report only',
        String(catalog.get('PCI.DSS.321')?.rules.size),
        '12',
        '19',
        '0',
        'no baseline',
        'no baseline',
      ],
    ]);
  });

  it('lists the failing finding as enforced and the report-only ones apart, each with meaning and control', () => {
    const section = (id: string) => doc.getElementById(id)?.nextElementSibling;
    const enforced = section('stack-devdata-enforced');
    expect(doc.getElementById('stack-devdata-enforced')?.textContent).toBe('Open findings, enforced: 2');
    expect(enforced?.matches('table.findings.enforce')).toBe(true);
    const firstRow = texts(enforced?.querySelectorAll('tbody tr:first-child td') ?? []);
    expect(firstRow).toEqual([
      'AwsSolutions',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'The IAM user, role, or group uses AWS managed policies.',
      'AwsSolutions pack (AWS best practice; no control id)',
      'error',
      '1: Dev/Data/Role/Resource',
    ]);
    expect(doc.getElementById('stack-devdata-report-only')?.textContent).toMatch(
      /^Open findings, report only \(not enforced\): \d+$/,
    );
    const reportOnly = section('stack-devdata-report-only');
    expect(reportOnly?.matches('table.findings.report-only')).toBe(true);
    const versioning = [...(reportOnly?.querySelectorAll('tbody tr') ?? [])]
      .map((tr) => texts(tr.querySelectorAll('td')))
      .find((r) => r[1] === 'NIST.800.53.R5-S3BucketVersioningEnabled');
    expect(versioning?.[2]).toBe('The S3 Bucket does not have versioning enabled.');
    expect(versioning?.[3]).toMatch(/^AU-9\(2\), CP-1\(2\), .*CP-10/);
    // Prod's stack has no enforced finding: the section says 0 and has no table.
    expect(doc.getElementById('stack-proddata-enforced')?.textContent).toBe('Open findings, enforced: 0');
    expect(section('stack-proddata-enforced')?.tagName).toBe('H4');
  });

  it('shows acknowledged findings with their reason, escaped', () => {
    const table = doc.getElementById('stack-devdata-acknowledged')?.nextElementSibling;
    const rows = [...(table?.querySelectorAll('tbody tr') ?? [])].map((tr) =>
      texts(tr.querySelectorAll('td')),
    );
    expect(rows.map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      [
        'AwsSolutions-IAM5[Action::s3:*]',
        'Dev/Data/Role/DefaultPolicy/Resource',
        'Replication role copies every object class between the paired buckets; scoped by SCP.',
        'Dev/Data/Role',
      ],
      ['AwsSolutions-S1', 'Dev/Data/Bucket/Resource', S1_REASON_DEV, 'Dev/Data'],
    ]);
    expect(doc.querySelectorAll('script').length).toBe(0);
  });

  it('explains every rule in whole sentences, with the control it maps to', () => {
    const catalog = ruleCatalog();
    const rows = [...doc.querySelectorAll('table.rules tbody tr')];
    expect(rows.length).toBe(failing.rules.length);
    for (const tr of rows) {
      const [id, meaning, control, why] = texts(tr.querySelectorAll('td'));
      const pack = id.substring(0, id.indexOf('-'));
      const rule = catalog.get(pack)?.rules.get(id);
      expect(meaning).toBe(rule?.meaning);
      expect(why).toBe(rule?.explanation);
      expect(control).toBe(
        pack === 'AwsSolutions'
          ? 'AwsSolutions pack (AWS best practice; no control id)'
          : rule?.controls.join(', '),
      );
      expect(tr.querySelector('td')?.id).toBe(`rule-${slug(id)}`);
    }
    expect(doc.body.textContent).not.toContain('…');
  });

  it('is self-contained: no scripts, no external resources', () => {
    expect(doc.querySelectorAll('script, link, img, iframe, object, embed, [src]').length).toBe(0);
    expect(doc.querySelectorAll('style').length).toBe(1);
    expect(doc.querySelector('style')?.textContent).not.toMatch(/url\(|@import/);
  });
});

describe('a PASS with report-only findings open', () => {
  const doc = dom(renderHtml(passing));

  it('is not a plain green PASS: the headline says what is open', () => {
    const headline = doc.querySelector('p.headline');
    expect(headline?.classList.contains('PASS')).toBe(true);
    expect(headline?.classList.contains('advisory')).toBe(true);
    expect(headline?.textContent).toBe(
      'Status: PASS — no open finding in the enforced packs (AwsSolutions); 57 open findings in the report-only packs ' +
        '(HIPAA.Security, NIST.800.53.R5, PCI.DSS.321), which do not fail the build and are listed as report only.',
    );
  });

  it('counts the findings fixed since the previous report and lists them', () => {
    const aws = [...doc.querySelectorAll('table.packs tbody tr')]
      .map((tr) => texts(tr.querySelectorAll('td')))
      .find((r) => r[0] === 'AwsSolutions');
    expect(aws?.slice(5)).toEqual(['0', '3', '2', '0']);
    const changes = doc.getElementById('changes-since-the-previous-report');
    expect(changes?.nextElementSibling?.textContent).toMatch(/^Compared with the baseline of commit a3c3b19/);
    expect(texts(doc.querySelectorAll('#changes-since-the-previous-report ~ ul li')).slice(0, 2)).toEqual([
      'fixed AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore] @ Dev/Data/Role/Resource',
      'fixed AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
    ]);
  });
});

describe('Markdown report', () => {
  const md = renderMarkdown(failing);

  it('starts with the title and the status in words', () => {
    expect(md.split('\n').slice(0, 3)).toEqual([
      '# Orcha compliance report',
      '',
      `**Status: FAIL** — ${failing.headline}`,
    ]);
  });

  it('links the table of contents and the rules to headings that exist (GitHub anchors)', () => {
    const anchors = new Set([...md.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
    const links = [...md.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links).toContain('environment-prod');
    expect(links).toContain('rules-of-nist80053r5');
    for (const link of links) expect(anchors).toContain(link);
    expect(md.indexOf('## Environment Prod')).toBeLessThan(md.indexOf('## Environment Dev'));
  });

  it('escapes HTML and table syntax', () => {
    expect(md).toContain('&lt;script&gt;');
    expect(md).not.toContain('<script>');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(mdCell('a | b\nc <d>')).toBe('a \\| b c &lt;d&gt;');
  });
});
