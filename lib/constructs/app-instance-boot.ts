import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Aws, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type { CfnAutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DATABASE_SSL_MODE, databaseEnvJq } from '../config/app-contract';
import { Naming } from '../config/naming';
import { registryOf } from './image-repository';
import { projectPath } from '../config/project';

/** Directory of the boot script and the files it writes on the instance. */
export const BOOT_ASSETS_DIR = projectPath('assets', 'boot');

/** The user data template; it embeds the other files with `{{FILE:<name>}}`. */
export const BOOT_SCRIPT = 'boot.sh';

/** EC2 refuses user data larger than this (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/** Delimiter of the heredocs that write the embedded files; no embedded file may contain it. */
const HEREDOC_DELIMITER = 'ORCHA_EOF';

/** The values substituted into the boot script. Any string may be a CloudFormation token. */
export interface BootScriptValues {
  /** Environment name (`prod`), passed to the containers as ORCHA_ENVIRONMENT. */
  readonly environment: string;
  readonly region: string;
  /** Stack of the Auto Scaling group, for cfn-signal. */
  readonly stackName: string;
  /** Logical id of the Auto Scaling group, for cfn-signal. */
  readonly signalResource: string;
  /** SSM parameters directly under this path become the containers' settings (`/v1-orcha`). */
  readonly parameterRoot: string;
  /** Name or ARN of the database credentials secret (`username`, `password`). */
  readonly dbSecretId: string;
  readonly dbHost: string;
  readonly dbPort: string;
  readonly dbName: string;
  readonly ingestQueueUrl: string;
  readonly emailAcquireQueueUrl: string;
  readonly documentsBucket: string;
  /** ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com`). */
  readonly registry: string;
  readonly appPort: number;
  /** The REPL port, published on 127.0.0.1 only (reached through SSM port forwarding). */
  readonly replPort: number;
  /** Path the refresh script polls after a deploy (the load balancer's health check path). */
  readonly healthCheckPath: string;
  /** Arguments of the worker container (its `command`). */
  readonly workerCommand: readonly string[];
  /** One compose service per large tenant, polling only that tenant's queue. */
  readonly tenantWorkers: readonly TenantWorker[];
  /** Receives the containers' logs and the refresh script's log. */
  readonly applicationLogGroup: string;
  /** Receives cloud-init's output and the boot script's own log. */
  readonly userDataLogGroup: string;
  /** `s3://<bucket>/<key>` of the pinned docker compose plugin (see {@link ComposePlugin}). */
  readonly composeS3Uri: string;
  /** Its SHA-256, checked on the instance before it is installed. */
  readonly composeSha256: string;
}

/** The workers of a large tenant on each instance. */
export interface TenantWorker {
  /** Tenant name (validated by the configuration schema: `[a-z][a-z0-9-]*`). */
  readonly tenant: string;
  /** Containers of the service (compose `deploy.replicas`). */
  readonly workers: number;
  /** The tenant's ingest queue: the containers' INGEST_QUEUE_URL. A literal, not a token. */
  readonly queueUrl: string;
}

/**
 * The compose services of the tenants' workers (YAML, indented under `services:`). Each runs the
 * worker command with INGEST_QUEUE_URL set to its tenant's queue (it overrides the shared queue of
 * orcha.env) and no e-mail queue, so it polls nothing but its tenant's queue.
 */
export function renderTenantWorkers(
  workers: readonly TenantWorker[],
  workerCommand: readonly string[],
): string {
  return workers
    .map((w) => {
      if (!/^[a-z][a-z0-9-]*$/.test(w.tenant)) throw new Error(`Boot script: bad tenant name ${w.tenant}`);
      if (Token.isUnresolved(w.queueUrl) || !/^https:\/\/[A-Za-z0-9./_-]+$/.test(w.queueUrl)) {
        throw new Error(`Boot script: tenant ${w.tenant} needs a literal https queue URL, got ${w.queueUrl}`);
      }
      const service = Naming.tenantWorkerService(w.tenant);
      return [
        `  ${service}:`,
        '    <<: *service',
        `    command: ${JSON.stringify(workerCommand)}`,
        '    deploy:',
        `      replicas: ${w.workers}`,
        '    environment:',
        `      ORCHA_TENANT: ${JSON.stringify(w.tenant)}`,
        `      INGEST_QUEUE_URL: ${JSON.stringify(w.queueUrl)}`,
        "      EMAIL_ACQUIRE_QUEUE_URL: ''",
        '    labels:',
        `      com.getorcha.service: ${JSON.stringify(service)}`,
      ].join('\n');
    })
    .join('\n');
}

/** The compose file with more services appended to its `services:` map (its last top-level key). */
function withServices(compose: string, services: string): string {
  if (services === '') return compose;
  const topLevel = compose.split('\n').filter((line) => /^[A-Za-z_][\w-]*:/.test(line));
  if (topLevel[topLevel.length - 1] !== 'services:') {
    throw new Error(
      'docker-compose.yml: services: must be the last top-level key (tenant workers are appended)',
    );
  }
  return `${compose.replace(/\n*$/, '\n')}${services}\n`;
}

/** orcha-prepare's jq expressions for the fields of the database contract. */
const DATABASE_ENV_JQ = databaseEnvJq({
  host: '$host',
  port: '$port',
  name: '$dbname',
  user: '$user',
  password: '$password',
  sslMode: JSON.stringify(DATABASE_SSL_MODE),
});

function readAsset(name: string): string {
  return fs.readFileSync(path.join(BOOT_ASSETS_DIR, name), 'utf8');
}

/**
 * A file as it goes into the user data: without comment lines (a `#` first on the line, the
 * shebang kept) and blank lines, JSON minified. EC2 refuses user data over 16 KB; the comments
 * stay in assets/boot/, where they are read. None of the files has a meaningful blank line or a
 * line starting with `#` inside a string.
 */
export function compactFile(name: string, content: string): string {
  if (name.endsWith('.json')) return `${JSON.stringify(JSON.parse(content))}\n`;
  const lines = content.split('\n').filter((line, i) => {
    if (i === 0 && line.startsWith('#!')) return true;
    return line.trim() !== '' && !/^\s*#/.test(line);
  });
  return `${lines.join('\n')}\n`;
}

/** Shell libraries shared by the boot scripts (sourced in tests, inlined into user data). */
export const SHELL_LIBRARY_DIR = projectPath('assets', 'shared');

/** Where a library's inlined part starts. */
const INLINE_MARKER = '# --- inlined from here ---';

/**
 * User data is one file: puts the body of each shared library a boot script sources
 * (`# shellcheck source=SCRIPTDIR/../shared/<lib>.sh` and `source "…/../shared/<lib>.sh"`) in
 * place of those two lines, so that one copy of the library ships with every script. Throws on a
 * library without the marker or a `source` line of another shape.
 */
export function inlineShellLibraries(script: string, where: string): string {
  const result = script.replace(
    /^# shellcheck source=SCRIPTDIR\/\.\.\/shared\/([a-z-]+\.sh)\nsource "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/\.\.\/shared\/\1"\n/gm,
    (_m, name: string) => {
      const library = fs.readFileSync(path.join(SHELL_LIBRARY_DIR, name), 'utf8');
      const start = library.indexOf(`${INLINE_MARKER}\n`);
      if (start < 0) throw new Error(`${name}: no line '${INLINE_MARKER}'`);
      return library.slice(start + INLINE_MARKER.length + 1);
    },
  );
  if (/^\s*(source|\.)\s.*shared\//m.test(result))
    throw new Error(`${where}: a shared library is sourced in a form that is not inlined`);
  return result;
}

/**
 * Replaces every `{{KEY}}` of `template`. Throws on a placeholder without a value and on a
 * value without a placeholder, so that the template and the code cannot drift apart.
 */
export function substitute(
  template: string,
  values: Readonly<Record<string, string>>,
  where: string,
): string {
  const used = new Set<string>();
  const result = template.replace(/\{\{([A-Z_]+)\}\}/g, (_match, key: string) => {
    if (!Object.prototype.hasOwnProperty.call(values, key)) {
      throw new Error(`${where}: no value for placeholder {{${key}}}`);
    }
    used.add(key);
    return values[key];
  });
  const unused = Object.keys(values).filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`${where}: values without a placeholder: ${unused.join(', ')}`);
  const leftover = /\{\{[^}]*\}\}/.exec(result);
  if (leftover) throw new Error(`${where}: unknown placeholder ${leftover[0]}`);
  return result;
}

/** Single-quoted shell and YAML values must not contain a single quote. */
function quotable(name: string, value: string): string {
  if (!Token.isUnresolved(value) && /['\n]/.test(value)) {
    throw new Error(`Boot script value ${name} must not contain a single quote or a newline: ${value}`);
  }
  return value;
}

/**
 * Renders the user data: `assets/boot/boot.sh` with the embedded files and every value
 * substituted. Pure and deterministic (the same values give the same script).
 */
export function renderBootScript(v: BootScriptValues): string {
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(v.healthCheckPath)) {
    throw new Error(`Boot script: healthCheckPath must be an absolute URL path, got ${v.healthCheckPath}`);
  }
  if (v.workerCommand.length === 0) throw new Error('Boot script: workerCommand must not be empty');
  if (!/^[0-9a-f]{64}$/.test(v.composeSha256)) {
    throw new Error(`Boot script: composeSha256 must be 64 hex digits, got ${v.composeSha256}`);
  }
  const q = (name: string, value: string) => quotable(name, value);

  const files: Record<string, string> = {
    'amazon-cloudwatch-agent.json': substitute(
      readAsset('amazon-cloudwatch-agent.json'),
      {
        APPLICATION_LOG_GROUP: q('applicationLogGroup', v.applicationLogGroup),
        USER_DATA_LOG_GROUP: q('userDataLogGroup', v.userDataLogGroup),
      },
      'amazon-cloudwatch-agent.json',
    ),
    'docker-compose.yml': withServices(
      substitute(
        readAsset('docker-compose.yml'),
        {
          APP_PORT: String(v.appPort),
          REPL_PORT: String(v.replPort),
          // A JSON array is a YAML flow sequence.
          WORKER_COMMAND: JSON.stringify(v.workerCommand),
        },
        'docker-compose.yml',
      ),
      renderTenantWorkers(v.tenantWorkers, v.workerCommand),
    ),
    'orcha-prepare.sh': substitute(readAsset('orcha-prepare.sh'), { DATABASE_ENV_JQ }, 'orcha-prepare.sh'),
    'orcha-refresh.sh': readAsset('orcha-refresh.sh'),
    'orcha.service': readAsset('orcha.service'),
    'orcha-placeholder.service': substitute(
      readAsset('orcha-placeholder.service'),
      { APP_PORT: String(v.appPort), HEALTH_CHECK_PATH: v.healthCheckPath },
      'orcha-placeholder.service',
    ),
    'placeholder.py': readAsset('placeholder.py'),
  };

  for (const name of Object.keys(files)) files[name] = compactFile(name, files[name] ?? '');

  // {{FILE:name}}: the file as it is (it may hold CloudFormation references); {{GZIP:name}}: the
  // file gzipped and base64-encoded, for the boot script to `base64 -d | gunzip` (no references:
  // they resolve at deploy time, after compression).
  const embedded = compactFile(
    BOOT_SCRIPT,
    inlineShellLibraries(readAsset(BOOT_SCRIPT), BOOT_SCRIPT),
  ).replace(/^\{\{(FILE|GZIP):([A-Za-z0-9._-]+)\}\}$/gm, (_m, how: string, name: string) => {
    const content = files[name];
    if (content === undefined) throw new Error(`${BOOT_SCRIPT}: unknown embedded file ${name}`);
    if (how === 'GZIP') {
      if (Token.isUnresolved(content))
        throw new Error(`${name} holds a deploy-time value: embed it with FILE`);
      const packed = zlib.gzipSync(content, { level: 9 }).toString('base64');
      return packed.replace(/(.{76})/g, '$1\n').replace(/\n$/, '');
    }
    if (new RegExp(`^${HEREDOC_DELIMITER}$`, 'm').test(content)) {
      throw new Error(`${name} contains the heredoc delimiter ${HEREDOC_DELIMITER}`);
    }
    return content.replace(/\n$/, '');
  });

  return substitute(
    embedded,
    {
      ENVIRONMENT: q('environment', v.environment),
      REGION: q('region', v.region),
      STACK_NAME: q('stackName', v.stackName),
      SIGNAL_RESOURCE: q('signalResource', v.signalResource),
      PARAMETER_ROOT: q('parameterRoot', v.parameterRoot),
      DB_SECRET_ID: q('dbSecretId', v.dbSecretId),
      DB_HOST: q('dbHost', v.dbHost),
      DB_PORT: q('dbPort', v.dbPort),
      DB_NAME: q('dbName', v.dbName),
      INGEST_QUEUE_URL: q('ingestQueueUrl', v.ingestQueueUrl),
      EMAIL_ACQUIRE_QUEUE_URL: q('emailAcquireQueueUrl', v.emailAcquireQueueUrl),
      DOCUMENTS_BUCKET: q('documentsBucket', v.documentsBucket),
      REGISTRY: q('registry', v.registry),
      APP_PORT: String(v.appPort),
      HEALTH_CHECK_PATH: v.healthCheckPath,
      COMPOSE_SOURCE_URI: q('composeS3Uri', v.composeS3Uri),
      COMPOSE_CHECKSUM: v.composeSha256,
    },
    BOOT_SCRIPT,
  );
}

export interface AppInstanceBootProps {
  /** Environment name, passed to the containers as ORCHA_ENVIRONMENT. */
  readonly environment: string;
  /** SSM parameters directly under this path become the containers' settings (`/v1-orcha`). */
  readonly parameterRoot: string;
  /** The database; its endpoint address and port go to the containers. */
  readonly database: rds.IDatabaseInstance;
  /** Name of the database the application uses. */
  readonly databaseName: string;
  /** Credentials of the database (`username`, `password`). */
  readonly databaseSecret: secretsmanager.ISecret;
  readonly ingestQueue: sqs.IQueue;
  readonly emailAcquireQueue: sqs.IQueue;
  /**
   * Large tenants' workers: one compose service each.
   * @default - none
   */
  readonly tenantWorkers?: readonly TenantWorker[];
  readonly documentsBucket: s3.IBucket;
  /** Repository of the application image. */
  readonly repository: ecr.IRepository;
  /** Port of the app container, published on the host for the load balancer. */
  readonly appPort: number;
  /** Port of the application's REPL, published on 127.0.0.1 for SSM port forwarding. */
  readonly replPort: number;
  /** Health check path of the app (polled by `orcha-refresh` after a deploy). */
  readonly healthCheckPath: string;
  /**
   * Arguments that make the image run the SQS worker instead of the web app.
   * @default ['worker']
   */
  readonly workerCommand?: readonly string[];
  /** Receives the containers' logs. */
  readonly applicationLogGroup: logs.ILogGroup;
  /** Receives cloud-init's output and the boot script's log. */
  readonly userDataLogGroup: logs.ILogGroup;
  /** The pinned docker compose plugin in S3 (the instances' role must be able to read it). */
  readonly composePlugin: { readonly s3Uri: string; readonly sha256: string };
}

/**
 * The boot script of the application instances as EC2 user data, built from the files in
 * `assets/boot/`. Call {@link signalTo} with the Auto Scaling group whose creation policy
 * waits for the script's cfn-signal.
 */
export class AppInstanceBoot extends Construct {
  /** The user data to give to the launch template. */
  public readonly userData: ec2.UserData;
  private signalResource?: CfnAutoScalingGroup;

  constructor(scope: Construct, id: string, props: AppInstanceBootProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const script = renderBootScript({
      environment: props.environment,
      region: stack.region,
      stackName: Aws.STACK_NAME,
      signalResource: Lazy.string({
        produce: () => {
          if (!this.signalResource) {
            throw new Error(
              `${this.node.path}: call signalTo(autoScalingGroup) so cfn-signal names its group`,
            );
          }
          return stack.getLogicalId(this.signalResource);
        },
      }),
      parameterRoot: props.parameterRoot,
      dbSecretId: props.databaseSecret.secretArn,
      dbHost: props.database.dbInstanceEndpointAddress,
      dbPort: props.database.dbInstanceEndpointPort,
      dbName: props.databaseName,
      ingestQueueUrl: props.ingestQueue.queueUrl,
      emailAcquireQueueUrl: props.emailAcquireQueue.queueUrl,
      documentsBucket: props.documentsBucket.bucketName,
      registry: registryOf(props.repository),
      appPort: props.appPort,
      replPort: props.replPort,
      healthCheckPath: props.healthCheckPath,
      workerCommand: props.workerCommand ?? ['worker'],
      tenantWorkers: props.tenantWorkers ?? [],
      applicationLogGroup: props.applicationLogGroup.logGroupName,
      userDataLogGroup: props.userDataLogGroup.logGroupName,
      composeS3Uri: props.composePlugin.s3Uri,
      composeSha256: props.composePlugin.sha256,
    });
    this.userData = ec2.UserData.custom(script);
  }

  /** The Auto Scaling group the script signals (its creation policy must expect signals). */
  public signalTo(group: autoscaling.AutoScalingGroup): void {
    this.signalResource = group.node.defaultChild as CfnAutoScalingGroup;
  }
}
