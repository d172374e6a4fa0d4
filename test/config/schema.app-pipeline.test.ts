/** `appPipeline.migrationTest` (lib/config/schema.ts): one clear message naming the field and the value. */
import { ConfigError, loadEnvironment } from '../../lib/config/load';
import { environments } from '../../lib/config/environments';
import type { EnvironmentInput } from '../../lib/config/schema';

const load = (name: string, change: (e: EnvironmentInput) => EnvironmentInput) =>
  loadEnvironment(name, { ...environments, [name]: change(environments[name]) });

test('as configured: prod blocks, staging and dev do not run it (they have no migration test project)', () => {
  expect(loadEnvironment('prod').appPipeline.migrationTest).toBe('block');
  expect(loadEnvironment('staging').appPipeline.migrationTest).toBe('off');
  expect(loadEnvironment('dev').appPipeline.migrationTest).toBe('off');
});

test("report-only or block needs the environment's migration test project", () => {
  expect(() =>
    load('staging', (e) => ({ ...e, appPipeline: { ...e.appPipeline, migrationTest: 'report-only' } })),
  ).toThrow(
    new ConfigError(
      'Invalid configuration for environment "staging": appPipeline.migrationTest = "report-only": needs migrationTest.enabled (the environment\'s migration test project); use "off" here',
    ),
  );
  expect(
    load('staging', (e) => ({
      ...e,
      appPipeline: { ...e.appPipeline, migrationTest: 'report-only' },
      migrationTest: { ...e.migrationTest, enabled: true },
    })).appPipeline.migrationTest,
  ).toBe('report-only');
});

test('an environment with deletion protection must block', () => {
  expect(() =>
    load('prod', (e) => ({ ...e, appPipeline: { ...e.appPipeline, migrationTest: 'report-only' } })),
  ).toThrow(
    /appPipeline\.migrationTest = "report-only": must be "block" where database\.deletionProtection is on/,
  );
});

test('an unknown mode is refused with the accepted ones', () => {
  expect(() =>
    load('prod', (e) => ({ ...e, appPipeline: { ...e.appPipeline, migrationTest: 'warn' as never } })),
  ).toThrow(/appPipeline\.migrationTest = "warn"/);
});
