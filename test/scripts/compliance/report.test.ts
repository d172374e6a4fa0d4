import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseBaseline } from '../../../scripts/compliance/baseline';
import { auditInfo, environmentOrder, main } from '../../../scripts/compliance/report';

const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'compliance', 'cloud-assembly');

describe('npm run compliance', () => {
  let dir: string;
  let log: jest.SpyInstance;
  let error: jest.SpyInstance;
  const printed = (spy: jest.SpyInstance): string => spy.mock.calls.map((c) => String(c[0])).join('\n');

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'compliance-'));
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (...extra: string[]) =>
    main([
      '--cdk-out',
      FIXTURE,
      '--out',
      path.join(dir, 'out'),
      '--baseline',
      path.join(dir, 'baseline.json'),
      ...extra,
    ]);

  it('writes both reports, fails on the open enforced finding, and records a baseline only when asked', () => {
    expect(run()).toBe(1);
    expect(printed(log)).toMatch(/^FAIL: 2 open \(enforced\), 57 open \(report only\), 3 acknowledged/);
    const md = readFileSync(path.join(dir, 'out', 'compliance.md'), 'utf8');
    expect(md).toContain('No baseline: run with `--update-baseline`');
    expect(readFileSync(path.join(dir, 'out', 'compliance.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(() => readFileSync(path.join(dir, 'baseline.json'))).toThrow();

    expect(run('--update-baseline')).toBe(1);
    const baseline = parseBaseline(readFileSync(path.join(dir, 'baseline.json'), 'utf8'), 'baseline.json');
    expect(Object.keys(baseline.packs)).toEqual([
      'AwsSolutions',
      'HIPAA.Security',
      'NIST.800.53.R5',
      'PCI.DSS.321',
    ]);
    expect(baseline.packs.AwsSolutions.acknowledged).toHaveLength(3);

    expect(run()).toBe(1);
    expect(readFileSync(path.join(dir, 'out', 'compliance.md'), 'utf8')).toContain(
      'No finding was fixed or added.',
    );
  });

  it('rejects a baseline of the wrong shape in one line naming the field', () => {
    writeFileSync(
      path.join(dir, 'baseline.json'),
      JSON.stringify({
        version: 1,
        commit: 'x',
        generatedAt: 'y',
        packs: { A: { mode: 'sometimes', open: [], acknowledged: [] } },
      }),
    );
    expect(run()).toBe(2);
    expect(printed(error)).toBe(
      `${path.join(dir, 'baseline.json')}: packs.A.mode: Invalid option: expected one of "enforce"|"report-only"`,
    );
  });

  it('orders environments as deployed to production: prod, staging, then dev', () => {
    expect(environmentOrder()).toEqual(['Prod', 'Staging', 'Dev']);
  });

  it('names the audited commit, from git or from CodeBuild', () => {
    const info = auditInfo();
    expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(info.tools['cdk-nag']).toMatch(/^\d+\.\d+\.\d+$/);
    const noGit = () => undefined;
    expect(auditInfo({ CODEBUILD_RESOLVED_SOURCE_VERSION: 'f00d' }, noGit)).toMatchObject({
      commit: 'f00d',
      uncommittedChanges: false,
    });
    expect(auditInfo({}, noGit).commit).toBe(
      'unknown (no git checkout and no CODEBUILD_RESOLVED_SOURCE_VERSION)',
    );
    const dirty = (args: string[]) => (args[0] === 'rev-parse' ? 'abc' : ' M lib/app.ts');
    expect(auditInfo({}, dirty)).toMatchObject({ commit: 'abc', uncommittedChanges: true });
  });
});
