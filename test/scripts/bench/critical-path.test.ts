import {
  NPM_CI,
  WAKE_ASLEEP_MINUTES,
  criticalPath,
  renderCriticalPath,
} from '../../../scripts/bench/critical-path';

/** A pipeline template of the given stages; `npm` marks actions whose project runs npm ci. */
function template(
  stages: {
    name: string;
    actions: { name: string; runOrder?: number; npm?: boolean; approval?: boolean }[];
  }[],
  cached = false,
): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  const pipelineStages = stages.map((s) => ({
    Name: s.name,
    Actions: s.actions.map((a) => {
      const id = `Project${a.name.replace(/\W/g, '')}`;
      resources[id] = {
        Type: 'AWS::CodeBuild::Project',
        Properties: {
          Source: { BuildSpec: a.npm ? 'npm ci --no-audit --no-fund' : 'true' },
          ...(cached ? { Cache: { Type: 'LOCAL', Modes: ['LOCAL_CUSTOM_CACHE'] } } : {}),
        },
      };
      return {
        Name: a.name,
        RunOrder: a.runOrder ?? 1,
        ActionTypeId: a.approval
          ? { Category: 'Approval', Provider: 'Manual' }
          : { Category: 'Build', Provider: 'CodeBuild' },
        Configuration: a.approval ? {} : { ProjectName: { Ref: id } },
      };
    }),
  }));
  resources.Pipeline = { Type: 'AWS::CodePipeline::Pipeline', Properties: { Stages: pipelineStages } };
  return { Resources: resources };
}

const sequential = [
  { name: 'Build', actions: [{ name: 'Synth', npm: true }] },
  {
    name: 'Staging',
    actions: [
      { name: 'v1-orcha-staging-foundation.Deploy', runOrder: 1 },
      { name: 'Staging-SmokeTest', runOrder: 2 },
    ],
  },
  {
    name: 'Prod',
    actions: [
      { name: 'Prod-MigrationTest', runOrder: 1, npm: true },
      { name: 'Prod-Review', runOrder: 2 },
      { name: 'Prod-Approve', runOrder: 3, approval: true },
    ],
  },
];

test('groups run one after the other; the path ends at the approval; npm ci costs less with a cache', () => {
  const steps = criticalPath(template(sequential));
  expect(steps.map((s) => [s.action, s.minutes])).toEqual([
    ['Synth', 14 + NPM_CI.uncached],
    ['v1-orcha-staging-foundation.Deploy', 3],
    ['Staging-SmokeTest', 2],
    ['Prod-MigrationTest', 35 + NPM_CI.uncached],
    ['Prod-Review', 6],
    ['Prod-Approve', 0],
  ]);
  expect(steps.at(-1)!.cumulative).toBe(16 + 3 + 2 + 37 + 6);
  expect(criticalPath(template(sequential, true)).at(-1)!.cumulative).toBe(15 + 3 + 2 + 36 + 6);
  expect(renderCriticalPath(steps).at(-1)).toBe('  push → prod approval prompt: about 64 minutes');
});

test('parallel actions cost their longest; a test started earlier costs only what remains of it', () => {
  const parallel = [
    sequential[0],
    {
      name: 'Staging',
      actions: [
        { name: 'Prod-MigrationTestStart', runOrder: 1 },
        { name: 'v1-orcha-staging-foundation.Deploy', runOrder: 2 },
        { name: 'Staging-SmokeTest', runOrder: 3 },
      ],
    },
    {
      name: 'Prod',
      actions: [
        { name: 'Prod-MigrationTest', runOrder: 1 },
        { name: 'Prod-Review', runOrder: 1 },
        { name: 'Prod-Approve', runOrder: 2, approval: true },
      ],
    },
  ];
  const steps = criticalPath(template(parallel));
  // Started at 17, staging takes 5 more: 35 - 5 = 30 minutes remain, longer than the check.
  const prod = steps.find((s) => s.stage === 'Prod' && s.runOrder === 1)!;
  expect(prod).toMatchObject({ action: 'Prod-MigrationTest', minutes: 30 });
  expect(prod.parallel).toEqual(['Prod-MigrationTest', 'Prod-Review']);
  expect(steps.at(-1)!.cumulative).toBe(16 + 1 + 3 + 2 + 30);
});

test('an action without an estimate is an error that names it', () => {
  expect(() =>
    criticalPath(
      template([{ name: 'X', actions: [{ name: 'Mystery' }, { name: 'A-Approve', approval: true }] }]),
    ),
  ).toThrow('no estimate for pipeline action Mystery');
});

test('a wake step: awake it costs its minute next to the start of the test; asleep the test running meanwhile absorbs what it has to spare', () => {
  const withWake = [
    sequential[0],
    {
      name: 'Staging',
      actions: [
        { name: 'Prod-MigrationTestStart', runOrder: 1 },
        { name: 'Staging-Wake', runOrder: 1 },
        { name: 'v1-orcha-staging-compute.Deploy', runOrder: 2 },
        { name: 'Staging-SmokeTest', runOrder: 3 },
      ],
    },
    sequential[2],
  ];
  const awake = criticalPath(template(withWake));
  expect(awake.find((s) => s.stage === 'Staging' && s.runOrder === 1)!.minutes).toBe(1);
  const asleep = criticalPath(template(withWake), undefined, { asleep: true });
  expect(asleep.find((s) => s.stage === 'Staging' && s.runOrder === 1)).toMatchObject({
    action: 'Staging-Wake',
    minutes: WAKE_ASLEEP_MINUTES,
  });
  // Staging takes 15 + 8 + 2 = 25 min of the test's 35 instead of 1 + 8 + 2: 14 more minutes of
  // staging, 14 fewer of waiting for the test (both still under 35): no change at all.
  expect(asleep.at(-1)!.cumulative).toBe(awake.at(-1)!.cumulative);
});
