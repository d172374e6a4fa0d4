/**
 * Entry point of the migration test (CodeBuild runs the esbuild bundle of this file as
 * `node runner.js`; by hand: `npx tsx codebuild/migration-test/main.ts`). Settings come from
 * environment variables (settings.ts); exit status 0 pass / no snapshot / no image (a warning), 1 the migrations
 * failed or lost data, 2 the test could not run.
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { dockerMigration, ecrImageExists } from './command';
import { EXIT, runMigrationTest } from './orchestrator';
import { pgInspector } from './pg-inspector';
import { loadSettings } from './settings';
import { installSignalHandlers } from './signals';

async function main(): Promise<number> {
  const log = (line: string): void => console.log(line);
  const controller = new AbortController();
  const uninstall = installSignalHandlers(controller, log);
  try {
    const settings = loadSettings();
    if (settings.sslMode === 'require') {
      log(
        'Warning: DB_SSL_CA_FILE is not set; the TLS connection to the temporary instance is not verified.',
      );
    }
    const image = {
      image: settings.image,
      imageTag: settings.imageTag,
      command: settings.command,
      region: settings.region,
    };
    const { exitCode } = await runMigrationTest({
      rds: new RDSClient({ region: settings.region, maxAttempts: 5 }),
      settings,
      imageExists: ecrImageExists(image),
      migrate: dockerMigration(image),
      inspect: pgInspector({
        ...(settings.sslCa ? { ca: settings.sslCa } : {}),
        ...(settings.migrationsTable ? { migrationsTable: settings.migrationsTable } : {}),
        log,
      }),
      log,
      signal: controller.signal,
    });
    return exitCode;
  } finally {
    uninstall();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Only settings errors and bugs get here; no password exists yet at this point.
    console.error(`Migration test error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(EXIT.ERROR);
  },
);
