import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ciSteps, jestSummary } from '../../scripts/ci';

describe('npm run ci', () => {
  test('prints the jest line CI reads', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orcha-ci-test-'));
    try {
      const file = path.join(dir, 'jest.json');
      writeFileSync(file, JSON.stringify({ numPassedTests: 450, numFailedTests: 1, numPendingTests: 2 }));
      expect(jestSummary(file)).toBe('450 passed, 1 failed, 2 skipped');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('runs lint, type-check, tests, both synths with cfn-lint required, then the compliance report', () => {
    expect(ciSteps('reports').map((s) => s.command.join(' '))).toEqual([
      'npm run lint',
      'npm run build',
      'npx jest --ci --json --outputFile=reports/jest.json',
      'npx tsx scripts/synth/main.ts --cfn-lint require',
      'npx tsx scripts/synth/main.ts -c env=dev -o cdk.out.dev --cfn-lint require',
      'npx tsx scripts/compliance/report.ts --cdk-out cdk.out --out reports',
    ]);
  });
});
