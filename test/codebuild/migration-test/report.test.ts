import { renderJUnit, xmlEscape, type RunReport } from '../../../codebuild/migration-test/report';

test('JUnit XML escapes everything it carries', () => {
  expect(xmlEscape('a<b & "c" \u0001')).toBe('a&lt;b &amp; &quot;c&quot; ');
  const report: RunReport = {
    outcome: 'error',
    sourceInstanceId: 'v1-orcha-db',
    buildId: 'b',
    startedAt: new Date(0),
    finishedAt: new Date(1500),
    reasons: [],
    warnings: [],
    error: 'AccessDenied: <rds:RestoreDBInstanceFromDBSnapshot>',
  };
  const xml = renderJUnit(report, '# md');
  expect(xml).toContain('errors="1"');
  expect(xml).toContain('time="1.500"');
  expect(xml).toContain('&lt;rds:RestoreDBInstanceFromDBSnapshot&gt;');
  expect(xml).not.toMatch(/<rds:/);
});
