import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsTarget } from '../../../../scripts/ops/aws';
import {
  delegateSubdomain,
  normalizeZoneId,
  type DelegateSubdomainOptions,
} from '../../../../scripts/ops/commands/delegate-subdomain';
import { ExitCode } from '../../../../scripts/ops/errors';
import {
  ACCOUNT,
  OTHER_ACCOUNT,
  REGION,
  awsError,
  captureOutput,
  factory,
  mockedSts,
} from '../../../helpers/ops';

const ZONE_ID = 'Z0ENVZONE1234567890';
const PARENT_ID = 'Z0PARENT9876543210';
const MGMT_ACCOUNT = '999988887777';
const NS = ['ns-1024.awsdns-00.org', 'ns-512.awsdns-00.net', 'ns-0.awsdns-00.com', 'ns-1536.awsdns-00.co.uk'];
const NS_FQDN_SORTED = NS.map((n) => `${n}.`).sort();

function setup() {
  const envSts = mockedSts(ACCOUNT);
  const mgmtSts = mockedSts(MGMT_ACCOUNT);
  const envRoute53 = new Route53Client({ region: REGION });
  const mgmtRoute53 = new Route53Client({ region: REGION });
  const env = mockClient(envRoute53);
  const mgmt = mockClient(mgmtRoute53);
  env.on(GetHostedZoneCommand).resolves({
    HostedZone: { Id: `/hostedzone/${ZONE_ID}`, Name: 'prod.getorcha.com.', CallerReference: 'x' },
    DelegationSet: { NameServers: NS },
  });
  mgmt.on(ListHostedZonesByNameCommand).resolves({
    HostedZones: [
      {
        Id: '/hostedzone/ZPRIVATE',
        Name: 'getorcha.com.',
        CallerReference: 'p',
        Config: { PrivateZone: true },
      },
      {
        Id: `/hostedzone/${PARENT_ID}`,
        Name: 'getorcha.com.',
        CallerReference: 'a',
        Config: { PrivateZone: false },
      },
      { Id: '/hostedzone/ZOTHER', Name: 'getorcha.de.', CallerReference: 'b' },
    ],
  });
  mgmt.on(ListResourceRecordSetsCommand).resolves({
    ResourceRecordSets: [
      { Name: 'www.getorcha.com.', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '1.2.3.4' }] },
    ],
  });
  mgmt.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: { Id: '/change/C123', Status: 'PENDING', SubmittedAt: new Date() },
  });
  mgmt
    .on(GetChangeCommand)
    .resolves({ ChangeInfo: { Id: '/change/C123', Status: 'INSYNC', SubmittedAt: new Date() } });

  // The management side is whatever target carries a management profile or role.
  const isMgmt = (t: AwsTarget) => t.profile === 'orcha-management' || t.roleArn !== undefined;
  const clients = factory({
    sts: (t) => (isMgmt(t) ? mgmtSts.client : envSts.client),
    route53: (t) => (isMgmt(t) ? mgmtRoute53 : envRoute53),
  });
  const out = captureOutput();
  const slept: number[] = [];
  const deps = { clients, out, sleep: async (ms: number) => void slept.push(ms) };
  const run = (extra: Partial<DelegateSubdomainOptions> = {}) =>
    delegateSubdomain(
      {
        env: 'prod',
        hostedZoneId: ZONE_ID,
        profile: 'orcha-prod',
        managementProfile: 'orcha-management',
        ...extra,
      },
      deps,
    );
  return { env, mgmt, envSts, mgmtSts, clients, out, slept, run };
}

function changes(mgmt: ReturnType<typeof mockClient>) {
  return mgmt.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);
}

describe('delegate-subdomain', () => {
  test('UPSERTs the NS record of prod.getorcha.com in the parent zone and waits for INSYNC', async () => {
    const { env, mgmt, clients, out, slept, run } = setup();
    const result = await run();

    expect(result.outcome).toBe('delegated');
    expect(env.commandCalls(GetHostedZoneCommand)[0]?.args[0].input).toEqual({ Id: ZONE_ID });
    expect(mgmt.commandCalls(ListHostedZonesByNameCommand)[0]?.args[0].input).toMatchObject({
      DNSName: 'getorcha.com.',
    });
    expect(mgmt.commandCalls(ListResourceRecordSetsCommand)[0]?.args[0].input).toEqual({
      HostedZoneId: PARENT_ID,
      StartRecordName: 'prod.getorcha.com.',
      StartRecordType: 'NS',
      MaxItems: 1,
    });
    expect(changes(mgmt)).toEqual([
      {
        HostedZoneId: PARENT_ID,
        ChangeBatch: {
          Comment: `Delegate prod.getorcha.com. to hosted zone ${ZONE_ID} (environment prod)`,
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'prod.getorcha.com.',
                Type: 'NS',
                TTL: 3600,
                ResourceRecords: NS_FQDN_SORTED.map((Value) => ({ Value })),
              },
            },
          ],
        },
      },
    ]);
    expect(mgmt.commandCalls(GetChangeCommand)[0]?.args[0].input).toEqual({ Id: '/change/C123' });
    expect(slept).toEqual([5000]);
    expect(out.stdout()).toContain('(change INSYNC)');
    // The environment's zone was read with the environment profile, the parent with the management one.
    expect(clients.targets).toEqual([
      { kind: 'sts', target: { region: REGION, profile: 'orcha-prod' } },
      { kind: 'route53', target: { region: REGION, profile: 'orcha-prod' } },
      { kind: 'sts', target: { region: REGION, profile: 'orcha-management', roleArn: undefined } },
      { kind: 'route53', target: { region: REGION, profile: 'orcha-management', roleArn: undefined } },
    ]);
    expect(env.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  test('assumes --management-role-arn on the parent side', async () => {
    const { clients, run } = setup();
    const roleArn = 'arn:aws:iam::999988887777:role/dns-delegation';
    await run({ managementProfile: undefined, managementRoleArn: roleArn });
    expect(clients.targets.filter((t) => t.target.roleArn === roleArn).map((t) => t.kind)).toEqual([
      'sts',
      'route53',
    ]);
  });

  test('without management options, the parent zone is read with the environment credentials', async () => {
    const { clients, mgmt, env, out, run } = setup();
    env.on(ListHostedZonesByNameCommand).resolves({
      HostedZones: [{ Id: `/hostedzone/${PARENT_ID}`, Name: 'getorcha.com.', CallerReference: 'a' }],
    });
    env.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [] });
    env
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C9', Status: 'INSYNC', SubmittedAt: new Date() } });
    await run({ managementProfile: undefined });
    expect(new Set(clients.targets.map((t) => t.target.profile))).toEqual(new Set(['orcha-prod']));
    expect(mgmt.calls()).toHaveLength(0);
    expect(changes(env)).toHaveLength(1);
    expect(out.stdout()).toContain('single-account setup');
  });

  test('staging delegates staging.getorcha.com', async () => {
    const { env, mgmt, run } = setup();
    env.on(GetHostedZoneCommand).resolves({
      HostedZone: { Id: ZONE_ID, Name: 'staging.getorcha.com.', CallerReference: 'x' },
      DelegationSet: { NameServers: NS },
    });
    await run({ env: 'staging' });
    expect(changes(mgmt)[0]?.ChangeBatch?.Changes?.[0]?.ResourceRecordSet?.Name).toBe(
      'staging.getorcha.com.',
    );
  });

  test('dry run prints the change and changes nothing', async () => {
    const { mgmt, out, run } = setup();
    const result = await run({ dryRun: true });
    expect(result.outcome).toBe('dry-run');
    expect(changes(mgmt)).toHaveLength(0);
    expect(out.stdout()).toContain(`Would UPSERT in getorcha.com. (${PARENT_ID}):`);
    expect(out.stdout()).toContain('prod.getorcha.com. NS TTL 3600');
    for (const ns of NS_FQDN_SORTED) expect(out.stdout()).toContain(ns);
    expect(out.stdout()).toContain('Dry run: nothing was changed.');
  });

  test('is idempotent: the same NS values (any order, case, trailing dot) mean "already delegated"', async () => {
    const { mgmt, out, run } = setup();
    mgmt.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: 'prod.getorcha.com.',
          Type: 'NS',
          TTL: 172800,
          ResourceRecords: [...NS].reverse().map((n) => ({ Value: n.toUpperCase() })),
        },
      ],
    });
    const result = await run();
    expect(result.outcome).toBe('already-delegated');
    expect(changes(mgmt)).toHaveLength(0);
    expect(out.stdout()).toContain('Already delegated');
  });

  describe('an NS record that lists other name servers is not replaced without --force', () => {
    const OTHER_NS = ['ns-7.awsdns-07.com', 'ns-700.awsdns-07.net'];
    const STAGING_ZONE = 'Z0STAGINGZONE123456';
    const ORIGINAL_ZONE = 'Z0ORIGINALZONE12345';
    /** The parent's record lists OTHER_NS; the environment's account holds these zones. */
    const withRecord = (zones: { id: string; name: string; ns: string[] }[]) => {
      const ctx = setup();
      ctx.mgmt.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [
          {
            Name: 'prod.getorcha.com.',
            Type: 'NS',
            TTL: 3600,
            ResourceRecords: OTHER_NS.map((Value) => ({ Value })),
          },
        ],
      });
      ctx.env.on(ListHostedZonesCommand).resolves({
        HostedZones: [
          { Id: `/hostedzone/${ZONE_ID}`, Name: 'prod.getorcha.com.', CallerReference: 'x' },
          ...zones.map((z) => ({ Id: `/hostedzone/${z.id}`, Name: z.name, CallerReference: z.id })),
        ],
        IsTruncated: false,
        MaxItems: 100,
        Marker: '',
      });
      for (const z of zones) {
        ctx.env.on(GetHostedZoneCommand, { Id: z.id }).resolves({
          HostedZone: { Id: `/hostedzone/${z.id}`, Name: z.name, CallerReference: z.id },
          DelegationSet: { NameServers: z.ns },
        });
      }
      return ctx;
    };
    const refusal = {
      exitCode: ExitCode.Usage,
      message: expect.stringContaining(
        'Refusing to replace the NS record of prod.getorcha.com. in getorcha.com. (Z0PARENT9876543210): it lists ns-7.awsdns-07.com. ns-700.awsdns-07.net.',
      ),
    };

    test("the record points at another environment's zone: refused, names the zone, nothing changed", async () => {
      const { mgmt, run } = withRecord([
        { id: STAGING_ZONE, name: 'staging.getorcha.com.', ns: OTHER_NS },
        { id: 'Z0UNRELATED', name: 'example.org.', ns: OTHER_NS },
      ]);
      const error = (await run().catch((e: unknown) => e)) as Error;
      expect(error).toMatchObject(refusal);
      expect(error.message).toContain(
        `the name servers of hosted zone ${STAGING_ZONE} in account ${ACCOUNT}, environment "staging"'s zone staging.getorcha.com.`,
      );
      expect(error.message).toContain('rerun with --force. Nothing was changed.');
      expect(changes(mgmt)).toHaveLength(0);
    });

    test('the record points at another zone of the same name (the one serving it today): refused', async () => {
      const { mgmt, run } = withRecord([{ id: ORIGINAL_ZONE, name: 'prod.getorcha.com.', ns: OTHER_NS }]);
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining(
          `another hosted zone named prod.getorcha.com. (${ORIGINAL_ZONE}) in account ${ACCOUNT}, which serves the subdomain today`,
        ),
      });
      expect(changes(mgmt)).toHaveLength(0);
    });

    test('a dry run stops the same way', async () => {
      const { mgmt, run } = withRecord([]);
      await expect(run({ dryRun: true })).rejects.toMatchObject(refusal);
      expect(changes(mgmt)).toHaveLength(0);
    });

    test('name servers of no zone in the account: refused, and says so; listing errors do not hide the refusal', async () => {
      const { env, mgmt, run } = withRecord([]);
      await expect(run()).rejects.toMatchObject({
        message: expect.stringContaining(
          `no hosted zone of an environment in account ${ACCOUNT} (a deleted zone, or a zone in another account)`,
        ),
      });
      env.on(ListHostedZonesCommand).rejects(awsError('AccessDenied', 'not authorized'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('a zone this command could not identify'),
      });
      expect(changes(mgmt)).toHaveLength(0);
    });

    test('--force replaces it and prints the old values', async () => {
      const { mgmt, out, run } = withRecord([
        { id: STAGING_ZONE, name: 'staging.getorcha.com.', ns: OTHER_NS },
      ]);
      const result = await run({ ttl: 300, force: true });
      expect(result.outcome).toBe('delegated');
      expect(result.previous).toEqual(OTHER_NS.map((n) => `${n}.`));
      expect(changes(mgmt)[0]?.ChangeBatch?.Changes?.[0]?.ResourceRecordSet).toMatchObject({
        Name: 'prod.getorcha.com.',
        TTL: 300,
        ResourceRecords: NS_FQDN_SORTED.map((Value) => ({ Value })),
      });
      expect(out.stdout()).toContain(
        'replacing the current NS values (--force): ns-7.awsdns-07.com. ns-700.awsdns-07.net.',
      );
    });
  });

  test('--parent-zone-id skips the lookup by name but checks the zone is the parent', async () => {
    const { mgmt, run } = setup();
    mgmt.on(GetHostedZoneCommand).resolves({
      HostedZone: { Id: `/hostedzone/${PARENT_ID}`, Name: 'getorcha.com.', CallerReference: 'a' },
    });
    await run({ parentZoneId: `/hostedzone/${PARENT_ID}` });
    expect(mgmt.commandCalls(ListHostedZonesByNameCommand)).toHaveLength(0);
    expect(changes(mgmt)[0]?.HostedZoneId).toBe(PARENT_ID);

    mgmt.on(GetHostedZoneCommand).resolves({
      HostedZone: { Id: PARENT_ID, Name: 'example.org.', CallerReference: 'a' },
    });
    await expect(run({ parentZoneId: PARENT_ID })).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringContaining('not a parent of prod.getorcha.com.'),
    });
  });

  describe('bad input (exit 2)', () => {
    test('a malformed zone id, before any AWS call', async () => {
      const { envSts, clients, run } = setup();
      await expect(run({ hostedZoneId: 'prod.getorcha.com' })).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('is not a Route 53 hosted zone id'),
      });
      expect(envSts.mock.calls()).toHaveLength(0);
      expect(clients.targets).toHaveLength(0);
    });

    test('an unknown environment', async () => {
      const { clients, run } = setup();
      await expect(run({ env: 'qa' })).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('unknown environment'),
      });
      expect(clients.targets).toHaveLength(0);
    });

    test("a zone id whose name is not the environment's zone name", async () => {
      const { env, mgmt, run } = setup();
      env.on(GetHostedZoneCommand).resolves({
        HostedZone: { Id: ZONE_ID, Name: 'staging.getorcha.com.', CallerReference: 'x' },
        DelegationSet: { NameServers: NS },
      });
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: `Hosted zone ${ZONE_ID} is staging.getorcha.com., but environment "prod" uses prod.getorcha.com. (config dns.zoneName); check the zone id`,
      });
      expect(mgmt.calls()).toHaveLength(0);
    });

    test('a zone id that does not exist', async () => {
      const { env, run } = setup();
      env.on(GetHostedZoneCommand).rejects(awsError('NoSuchHostedZone', 'No hosted zone found with ID: Z0'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('list-hosted-zones-by-name --dns-name prod.getorcha.com'),
      });
    });

    test('no public parent zone, or two of them', async () => {
      const { mgmt, run } = setup();
      mgmt.on(ListHostedZonesByNameCommand).resolves({ HostedZones: [] });
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('No public hosted zone getorcha.com.'),
      });
      mgmt.on(ListHostedZonesByNameCommand).resolves({
        HostedZones: [
          { Id: '/hostedzone/ZA1', Name: 'getorcha.com.', CallerReference: 'a' },
          { Id: '/hostedzone/ZB2', Name: 'getorcha.com.', CallerReference: 'b' },
        ],
      });
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('(ZA1, ZB2); choose one with --parent-zone-id'),
      });
      expect(changes(mgmt)).toHaveLength(0);
    });

    test('an out-of-range TTL', async () => {
      const { run } = setup();
      await expect(run({ ttl: 5 })).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    });
  });

  describe('credentials (exit 3)', () => {
    test('environment credentials for the wrong account', async () => {
      const { envSts, env, run } = setup();
      envSts.mock
        .on(GetCallerIdentityCommand)
        .resolves({ Account: OTHER_ACCOUNT, Arn: 'arn:aws:iam::1:user/x' });
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Credentials,
        message: expect.stringContaining(
          'Wrong account: profile "orcha-prod" belong to account 111122223333',
        ),
      });
      expect(env.calls()).toHaveLength(0);
    });

    test('management credentials missing', async () => {
      const { mgmtSts, mgmt, run } = setup();
      mgmtSts.mock
        .on(GetCallerIdentityCommand)
        .rejects(
          awsError(
            'CredentialsProviderError',
            'Could not resolve credentials using profile: [orcha-management]',
          ),
        );
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Credentials,
        message: expect.stringContaining('management account credentials'),
      });
      expect(mgmt.calls()).toHaveLength(0);
    });
  });

  describe('AWS errors mid-way (exit 1)', () => {
    test('the change is rejected: says the record was NOT changed', async () => {
      const { mgmt, run } = setup();
      mgmt
        .on(ChangeResourceRecordSetsCommand)
        .rejects(
          awsError('InvalidChangeBatch', 'RRSet of type CNAME with DNS name prod.getorcha.com. exists'),
        );
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: `The delegation record was NOT changed in parent zone ${PARENT_ID}: InvalidChangeBatch: RRSet of type CNAME with DNS name prod.getorcha.com. exists`,
      });
    });

    test('the change was submitted but its status cannot be read: says so and how to check', async () => {
      const { mgmt, run } = setup();
      mgmt.on(GetChangeCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: expect.stringMatching(
          /change \/change\/C123 was submitted.*rerun the command.*Rate exceeded/,
        ),
      });
      expect(changes(mgmt)).toHaveLength(1);
    });

    test('no permission to list the parent zone', async () => {
      const { mgmt, run } = setup();
      mgmt
        .on(ListHostedZonesByNameCommand)
        .rejects(awsError('AccessDenied', 'not authorized to perform route53:List'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: expect.stringContaining('(the credentials lack this permission)'),
      });
    });

    test('a change still PENDING after --wait is reported, not treated as a failure', async () => {
      const { mgmt, out, slept, run } = setup();
      mgmt
        .on(GetChangeCommand)
        .resolves({ ChangeInfo: { Id: '/change/C123', Status: 'PENDING', SubmittedAt: new Date() } });
      await expect(run({ waitSeconds: 15 })).resolves.toMatchObject({ outcome: 'delegated' });
      expect(slept).toEqual([5000, 5000, 5000]);
      expect(out.stdout()).toContain('Route 53 still reports PENDING');
    });
  });

  test('normalizeZoneId accepts both forms', () => {
    expect(normalizeZoneId('/hostedzone/Z123ABC')).toBe('Z123ABC');
    expect(normalizeZoneId(' Z123ABC ')).toBe('Z123ABC');
    expect(() => normalizeZoneId('z123')).toThrow('is not a Route 53 hosted zone id');
  });
});
