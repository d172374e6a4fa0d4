import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { cdkAppContext, PROJECT_ROOT, projectPath, readProjectJson } from '../../lib/config/project';

describe('project root', () => {
  it('is the directory of package.json and cdk.json', () => {
    expect(readProjectJson<{ name: string }>('package.json').name).toBe('orcha-infrastructure');
    expect(existsSync(projectPath('cdk.json'))).toBe(true);
    expect(projectPath('lib', 'app.ts')).toBe(path.join(PROJECT_ROOT, 'lib', 'app.ts'));
  });

  it("merges cdk.json's context with the cached lookups of cdk.context.json (the lookups win)", () => {
    const context = cdkAppContext();
    const cdkJson = readProjectJson<{ context: Record<string, unknown> }>('cdk.json').context;
    const cached = readProjectJson<Record<string, unknown>>('cdk.context.json');
    expect(context).toEqual({ ...cdkJson, ...cached });
    expect(Object.keys(cached).some((k) => k.startsWith('availability-zones:'))).toBe(true);
    for (const key of Object.keys(cached)) expect(context[key]).toEqual(cached[key]);
  });
});
