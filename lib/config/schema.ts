import { z } from 'zod';

/**
 * The configuration schema. Environments are data: every value a stack needs comes from an
 * object that passed this schema, and the TypeScript types are derived from it.
 */

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/;

/** `a.b.c.d/n` with every octet 0-255, a prefix of /16 to /28, and no host bits set. */
export function isIpv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix < 16 || prefix > 28) return false;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  return address % hostBits === 0;
}

/** Whether `tz` is a time zone this Node.js (ICU) knows, e.g. Europe/Berlin. */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return /^[A-Za-z_]+(\/[A-Za-z_+-]+)+$|^UTC$/.test(tz);
  } catch {
    return false;
  }
}

/** Minutes after midnight of `HH:MM`. */
export function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

const accountId = z.string().regex(ACCOUNT_ID, 'must be a 12-digit AWS account id');
const region = z.string().regex(REGION, 'must be an AWS region such as eu-central-1');
const email = z.email('must be an e-mail address');
const dnsName = z
  .string()
  .min(1, 'must not be empty')
  .regex(DNS_NAME, 'must be a lower-case DNS name such as prod.getorcha.com');
const connectionArn = z
  .string()
  .regex(
    CONNECTION_ARN,
    'must be a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<uuid>)',
  );
const positiveInt = z.number().int().positive();

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** A GitHub repository reached through a CodeConnections connection. */
export const gitHubSourceSchema = z.strictObject({
  /** `owner/name` of the repository. */
  repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name'),
  /** Branch whose pushes trigger the pipeline. */
  branch: z.string().min(1, 'must not be empty'),
  /**
   * ARN of an existing CodeConnections connection. When omitted, the stack creates a
   * connection (status PENDING) that an administrator completes once in the console.
   */
  connectionArn: connectionArn.optional(),
});

/**
 * A tenant's name becomes part of queue, alarm, construct and compose service names
 * (`v1-orcha-staging-tenant-<name>-ingest-dlq` must stay within SQS's 80 characters).
 */
export const TENANT_NAME = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;

/** A large tenant with its own ingest queue and workers. */
export const tenantSchema = z.strictObject({
  name: z
    .string()
    .regex(
      TENANT_NAME,
      'must be 2-24 lower-case letters, digits or hyphens, start with a letter and end with a letter or digit (it is part of queue, alarm and compose service names)',
    ),
  /** Worker containers polling the tenant's queue on each instance. */
  workers: z.number().int().min(1).max(10),
  /**
   * Visibility timeout of the tenant's queue.
   * @default queues.ingestVisibilityTimeoutSeconds
   */
  visibilityTimeoutSeconds: positiveInt.max(43200).optional(),
  /**
   * Visible messages above which the tenant's backlog alarm fires (15 minutes sustained).
   * @default 500, the shared ingest queue's threshold
   */
  backlogAlarmThreshold: positiveInt.optional(),
});

export type TenantConfig = z.infer<typeof tenantSchema>;

export const environmentSchema = z
  .strictObject({
    /** AWS account the environment is deployed to. */
    account: accountId,
    /** AWS region the environment is deployed to. */
    region,
    /** Availability zones of the VPC (two, as in the original design). */
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'must be an availability zone name'))
      .min(2, 'must list at least two availability zones'),

    network: z.strictObject({
      /** IPv4 CIDR of the VPC. */
      vpcCidr: z.string().refine(isIpv4Cidr, 'must be an IPv4 CIDR block from /16 to /28 with no host bits'),
      /**
       * Roadmap "S3 gateway endpoint" (free): every subnet's S3 traffic stays in AWS, and the
       * endpoint policy admits only the environment's buckets and the AWS-owned buckets the
       * instances and the migration test read (lib/constructs/s3-endpoint-policy.ts).
       * @default false (the original design)
       */
      s3GatewayEndpoint: z.boolean().default(false),
      /**
       * Roadmap "VPC interface endpoints" (~$122/month): the AWS APIs the instances and the
       * migration test call, with private DNS, behind one security group admitting 443 from the
       * application and CodeBuild groups (lib/constructs/interface-endpoints.ts).
       * @default false (the original design)
       */
      interfaceEndpoints: z.boolean().default(false),
      /**
       * Roadmap "NAT gateway" (~$38/month): `none` keeps the original design (instances in the
       * public subnets, a t4g.nano NAT instance for the migration test only); `single` or `perAz`
       * moves the instances into private `app` subnets behind the ALB, with one NAT gateway (in
       * the first AZ) or one per AZ (an AZ outage leaves the other AZ its egress), and the NAT
       * instance goes away.
       * @default 'none' (the original design)
       */
      natGateway: z.enum(['none', 'single', 'perAz'], 'must be none, single or perAz').default('none'),
    }),

    dns: z.strictObject({
      /** The environment's hosted zone, delegated from the management account's parent zone. */
      zoneName: dnsName,
      /** Label of the application's record inside the zone (`app` → app.prod.getorcha.com). */
      appRecordName: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label'),
      /** Path the smoke test and the ALB health check call. */
      healthCheckPath: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'must be an absolute URL path'),
    }),

    /** Receives every alarm, budget and approval notification. */
    alertEmail: email,

    storage: z.strictObject({
      /** Keep noncurrent versions of documents this many days before they expire. */
      noncurrentVersionExpirationDays: positiveInt,
    }),

    queues: z.strictObject({
      ingestVisibilityTimeoutSeconds: positiveInt.max(43200),
      emailAcquireVisibilityTimeoutSeconds: positiveInt.max(43200),
      /** Retention of messages in the dead-letter queues. */
      dlqRetentionDays: positiveInt.max(14),
      /** Deliveries before a message moves to its DLQ. */
      maxReceiveCount: positiveInt,
      /**
       * Large tenants with a dedicated ingest queue (`v1-orcha-tenant-<name>-ingest`), its DLQ,
       * alarms and worker containers (docs/runbooks/tenants.md). Names are unique.
       */
      tenants: z.array(tenantSchema),
    }),

    ecr: z.strictObject({
      /**
       * Images kept besides the deployed ones (the newest builds, `latest` included, which
       * the migration test runs): counts every push, e.g. builds waiting for approval. Roadmap
       * "ECR retention 10" sets 10.
       * @default 5 (the original design)
       */
      maxImageCount: positiveInt.default(5),
      /**
       * Deployed images kept: the app pipeline tags every image it deployed successfully
       * `deployed-<env>-<commit>`, and a rule of higher priority keeps the newest this many of
       * them whatever else is pushed. The running image plus `deployedImageCount - 1` earlier
       * ones stay available, so that many rollbacks are guaranteed.
       */
      deployedImageCount: z
        .number()
        .int()
        .min(2, 'must be at least 2 (the running image and one to roll back to)'),
    }),

    database: z.strictObject({
      /** RDS instance class, e.g. db.t4g.medium. */
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an RDS class such as db.t4g.medium'),
      /**
       * PostgreSQL major version, e.g. 18. RDS applies minor versions itself in the maintenance
       * window (docs/runbooks/database-engine.md); a major upgrade is a deliberate change here.
       */
      engineVersion: z
        .string()
        .regex(
          /^\d+$/,
          'must be a PostgreSQL major version such as 18 (RDS applies minor versions in the maintenance window; see docs/runbooks/database-engine.md)',
        ),
      allocatedStorageGiB: z.number().int().min(20, 'must be at least 20 GiB for gp3').max(65536),
      maxAllocatedStorageGiB: z.number().int().max(65536),
      multiAz: z.boolean(),
      backupRetentionDays: z.number().int().min(1).max(35),
      deletionProtection: z.boolean(),
      /**
       * Automatic rotation of the database credentials secret by Secrets Manager's hosted
       * PostgreSQL single-user rotation, followed by a rolling replacement of the application
       * instances (docs/runbooks/credential-rotation.md).
       */
      credentialRotation: z.strictObject({
        enabled: z.boolean(),
        /** Days between rotations (Secrets Manager accepts 1 to 1000). */
        everyDays: z.number().int().min(1).max(1000),
      }),
    }),

    compute: z.strictObject({
      /** EC2 instance type (ARM64: a Graviton type such as t4g.medium). */
      instanceType: z
        .string()
        .regex(/^[a-z][a-z0-9-]*g[a-z]*\.[a-z0-9]+$/, 'must be a Graviton (ARM64) type such as t4g.medium'),
      /**
       * Amazon Linux 2023 ARM64 release of the instances (and of the NAT instance), pinned by its
       * name and resolved to the region's image id at deploy time (lib/constructs/pinned-ami.ts):
       * a new release of AWS's image changes nothing until this moves (docs/runbooks/update-ami.md).
       */
      amiName: z
        .string()
        .regex(
          /^al2023-ami-2023\.\d+\.\d{8}\.\d+-kernel-\d+\.\d+-arm64$/,
          'must be the name of an Amazon Linux 2023 arm64 release, such as al2023-ami-2023.6.20241111.0-kernel-6.1-arm64',
        ),
      minCapacity: z.number().int().min(0),
      /** At least minCapacity + 1: a rolling update starts the new instance before the old one leaves. */
      maxCapacity: z.number().int().min(1),
      healthCheckGraceSeconds: positiveInt,
      /**
       * Root volume of the instances (gp3, GiB): the system, Docker images (pruned after 7 days)
       * and container logs. At least the image's own 8 GiB.
       * @default 30
       */
      rootVolumeGiB: z
        .number()
        .int()
        .min(8, 'must be at least 8 GiB (the Amazon Linux 2023 image)')
        .max(16384)
        .default(30),
      /** Port the application container listens on. */
      appPort: z.number().int().min(1).max(65535),
      /** Port of the application's REPL, reached through SSM port forwarding. */
      replPort: z.number().int().min(1).max(65535),
      /**
       * Roadmap "WAF" (~$15/month): a regional web ACL on the ALB (lib/constructs/web-acl.ts).
       * @default off (the original design)
       */
      waf: z
        .strictObject({
          enabled: z.boolean(),
          /** `count` only counts and logs what the rules match (start here); `block` blocks it. */
          mode: z.enum(['count', 'block'], 'must be count or block'),
          /** Requests one client IP may send in any 5 minutes before the rate rule applies. */
          rateLimitPerFiveMinutes: z.number().int().min(10).max(2_000_000_000),
        })
        .default({ enabled: false, mode: 'count', rateLimitPerFiveMinutes: 2000 }),
      /**
       * This environment owns the account-wide singletons of its account and region: the Session
       * Manager preferences (`SSM-SessionManagerRunShell`) and the log group every environment's
       * sessions are streamed to (`/v1-orcha/ssm-sessions`). Exactly one environment per account
       * and region sets this (checked across environments when the app starts).
       */
      sessionManagerPreferences: z.boolean(),
    }),

    monitoring: z.strictObject({
      /** CloudWatch Logs retention; one of the values CloudWatch accepts (1, 3, 5, 7, 14, 30, 60, 90, …). */
      logRetentionDays: z
        .number()
        .refine((d) => LOG_RETENTION_DAYS.includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`),
      /** Monthly cost budget in USD. */
      monthlyBudgetUsd: z.number().positive(),
      /**
       * Critical alarms page: they notify the alerts topic when they fire and when they clear.
       * Off, they keep their state in CloudWatch but notify nobody (their actions are disabled),
       * for an environment that runs no application yet, whose critical alarms (no healthy
       * host, no instance, no database connection) would fire for ever. Operational alarms
       * notify the topic either way.
       */
      pageOnCriticalAlarms: z.boolean(),
    }),

    /**
     * Office hours (non-prod): outside a weekly schedule the instances scale to zero and the
     * database stops; `npm run ops -- wake --env <env>` wakes the environment on demand and the
     * infrastructure pipeline wakes it before deploying (its smoke test needs the application).
     * @default off (the original design: every environment runs around the clock)
     */
    officeHours: z
      .strictObject({
        enabled: z.boolean(),
        /** IANA time zone of the schedule, e.g. Europe/Berlin (daylight saving included). */
        timeZone: z
          .string()
          .refine((tz) => isTimeZone(tz), 'must be an IANA time zone such as Europe/Berlin'),
        /** Days the environment wakes: a range or list of MON…SUN, e.g. MON-FRI. */
        days: z
          .string()
          .regex(
            /^(MON|TUE|WED|THU|FRI|SAT|SUN)(-(MON|TUE|WED|THU|FRI|SAT|SUN)|(,(MON|TUE|WED|THU|FRI|SAT|SUN))*)$/,
            'must be days such as MON-FRI or MON,WED,FRI',
          ),
        /** Wake time, HH:MM (the instances start; the database starts 20 minutes earlier). */
        start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM'),
        /** Sleep time, HH:MM, every day (also after an on-demand wake at the weekend). */
        stop: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM'),
      })
      .default({ enabled: false, timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', stop: '20:00' }),

    /** The application's own pipeline (v1-orcha-deploy): app repository → build → approve → deploy. */
    appPipeline: z.strictObject({
      source: gitHubSourceSchema,
      /** Manual approval before CodeDeploy. */
      requireApproval: z.boolean(),
      /**
       * The migration test of the image just built, after the build and before the approval:
       * `block` stops the pipeline when the migrations fail or lose data, `report-only` reports
       * and goes on, `off` skips it. Needs `migrationTest.enabled` (the environment's project);
       * an environment whose database has deletion protection must block.
       */
      migrationTest: z.enum(['block', 'report-only', 'off']),
    }),

    /** The migration test run before this environment is deployed by the infrastructure pipeline. */
    migrationTest: z.strictObject({
      /** Run the migration test before deploying this environment. */
      enabled: z.boolean(),
      /**
       * Class of the temporary instance restored from the snapshot. It must support the
       * database's engine version; omitted, it is `database.instanceClass`, which does by
       * definition (the snapshot comes from an instance of that class).
       */
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an RDS class such as db.t4g.medium')
        .optional(),
      /** Arguments given to the application image to run its migrations. */
      command: z.array(z.string()).min(1, 'must name the migration command'),
      /** Bound on the whole test, restore included. */
      timeoutMinutes: z.number().int().min(15).max(480),
      /** Hours after which the janitor deletes a temporary instance. */
      instanceTtlHours: z.number().int().min(1).max(48),
      /** Tables and columns whose loss is intended (`table` or `table.column`). */
      allowDataLoss: z.array(
        z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*){0,2}$/, 'must be table or table.column'),
      ),
    }),
  })
  .superRefine((env, ctx) => {
    if (env.appPipeline.migrationTest !== 'off' && !env.migrationTest.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['appPipeline', 'migrationTest'],
        message: 'needs migrationTest.enabled (the environment\'s migration test project); use "off" here',
        input: env.appPipeline.migrationTest,
      });
    } else if (env.database.deletionProtection && env.appPipeline.migrationTest !== 'block') {
      ctx.addIssue({
        code: 'custom',
        path: ['appPipeline', 'migrationTest'],
        message:
          'must be "block" where database.deletionProtection is on: migrations that lose data must not reach it',
        input: env.appPipeline.migrationTest,
      });
    }
    if (env.database.maxAllocatedStorageGiB < env.database.allocatedStorageGiB) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'maxAllocatedStorageGiB'],
        message: `must be at least database.allocatedStorageGiB (${env.database.allocatedStorageGiB})`,
        input: env.database.maxAllocatedStorageGiB,
      });
    }
    if (env.compute.minCapacity > env.compute.maxCapacity) {
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'minCapacity'],
        message: `must not exceed compute.maxCapacity (${env.compute.maxCapacity})`,
        input: env.compute.minCapacity,
      });
    } else if (env.compute.maxCapacity < env.compute.minCapacity + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'maxCapacity'],
        message: `must be at least compute.minCapacity + 1 (${env.compute.minCapacity + 1}): rolling updates start the new instance before the old one leaves`,
        input: env.compute.maxCapacity,
      });
    }
    for (const [i, az] of env.availabilityZones.entries()) {
      if (!az.startsWith(env.region)) {
        ctx.addIssue({
          code: 'custom',
          path: ['availabilityZones', i],
          message: `must be in region ${env.region}`,
          input: az,
        });
      }
    }
    // Unique, also without their hyphens: the construct ids drop them (`big-co` → `BigCo`).
    const seen = new Map<string, number>();
    for (const [i, tenant] of env.queues.tenants.entries()) {
      const key = tenant.name.replace(/-/g, '');
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['queues', 'tenants', i, 'name'],
          message: `must be unique (hyphens aside): queues.tenants.${first}.name is ${JSON.stringify(env.queues.tenants[first]?.name)}`,
          input: tenant.name,
        });
      } else {
        seen.set(key, i);
      }
    }
    if (env.officeHours.enabled && minutes(env.officeHours.stop) - minutes(env.officeHours.start) < 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['officeHours', 'stop'],
        message: `must be at least an hour after officeHours.start (${env.officeHours.start}) on the same day`,
        input: env.officeHours.stop,
      });
    }
    // The database starts 20 minutes before the instances, on the same day.
    if (env.officeHours.enabled && minutes(env.officeHours.start) < 20) {
      ctx.addIssue({
        code: 'custom',
        path: ['officeHours', 'start'],
        message: 'must be 00:20 or later (the database starts 20 minutes earlier, on the same day)',
        input: env.officeHours.start,
      });
    }
    if (env.compute.appPort === env.compute.replPort) {
      ctx.addIssue({
        code: 'custom',
        path: ['compute', 'replPort'],
        message: 'must differ from compute.appPort',
        input: env.compute.replPort,
      });
    }
  });

export const pipelineSchema = z.strictObject({
  /** Account that hosts the infrastructure pipeline (the "toolchain" account). */
  account: accountId,
  region,
  /** This repository on GitHub, through CodeConnections. */
  source: gitHubSourceSchema,
  /** Receives pipeline started/succeeded/failed/approval notifications. */
  notificationEmail: email,
  /** Environments deployed by the pipeline, in order; the last one is gated by the migration test and approval. */
  stages: z.array(z.string()).min(1, 'must list at least one environment'),
  /**
   * Pull-request checks (CodeBuild, commit status on the pull request) for this repository and the
   * application repository. Deploying them creates the repositories' webhooks through the GitHub
   * connection, which must be AVAILABLE by then: turn this on after the connection is completed
   * (docs/runbooks/pull-requests.md).
   */
  pullRequestChecks: z.boolean(),
});

export type EnvironmentInput = z.input<typeof environmentSchema>;
export type PipelineInput = z.input<typeof pipelineSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;

/** A validated environment, with its name. */
export type EnvironmentConfig = z.infer<typeof environmentSchema> & { readonly name: string };
