import { Client, type ClientConfig } from 'pg';
import type { ConnectionInfo } from './command';
import { inspectDatabase } from './inspect';
import type { Inspector } from './phases';
import { realSleep, type Sleep } from './run-context';

/**
 * TLS to the temporary instance. With the RDS CA bundle (`DB_SSL_CA_FILE`, downloaded by the
 * buildspec from https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem) the
 * certificate and the host name are verified (`verify-full`). Without it (`require`) the
 * connection is encrypted but not verified — acceptable only because the instance is a
 * throw-away copy reachable only inside the VPC, with a password that dies with it.
 */
export function sslConfig(info: ConnectionInfo, ca?: string): ClientConfig['ssl'] {
  if (info.sslMode === 'disable') return false;
  if (info.sslMode === 'verify-full') return { ca, rejectUnauthorized: true, servername: info.host };
  return { rejectUnauthorized: false };
}

export interface PgInspectorOptions {
  readonly ca?: string;
  readonly migrationsTable?: string;
  /** Connection attempts (a fresh password can take a moment to reach the engine); default 10. */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  readonly sleep?: Sleep;
  readonly log?: (line: string) => void;
}

/** SQLSTATEs and socket errors worth another attempt. */
const RETRYABLE = new Set([
  '28P01', // invalid_password: the new password is not applied yet
  '28000', // invalid_authorization_specification
  '57P03', // cannot_connect_now: starting up
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Connects with `pg` (retrying while the instance settles) and inspects the database. */
export function pgInspector(options: PgInspectorOptions = {}): Inspector {
  const attempts = options.attempts ?? 10;
  const sleep = options.sleep ?? realSleep;
  return async (info, signal) => {
    for (let attempt = 1; ; attempt++) {
      const client = new Client({
        host: info.host,
        port: info.port,
        user: info.user,
        password: info.password,
        database: info.database,
        ssl: sslConfig(info, options.ca),
        connectionTimeoutMillis: 30_000,
        statement_timeout: 0,
        application_name: 'migration-test',
      });
      const onAbort = (): void => void client.end().catch(() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await client.connect();
      } catch (error) {
        signal.removeEventListener('abort', onAbort);
        await client.end().catch(() => undefined);
        const code = (error as { code?: string }).code ?? '';
        if (signal.aborted) throw signal.reason as Error;
        if (!RETRYABLE.has(code) || attempt >= attempts) throw error;
        options.log?.(`Cannot connect yet (${code}), attempt ${attempt}/${attempts}; retrying`);
        await sleep(options.retryDelayMs ?? 15_000, signal);
        continue;
      }
      try {
        return await inspectDatabase(
          client,
          options.migrationsTable ? { migrationsTable: options.migrationsTable } : {},
        );
      } catch (error) {
        if (signal.aborted) throw signal.reason as Error;
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        await client.end().catch(() => undefined);
      }
    }
  };
}
