import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  paginateListHostedZones,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { STSClient } from '@aws-sdk/client-sts';
import { callerIdentity, verifyAccount, type AwsTarget } from '../aws';
import { environmentNames, loadEnvironment } from '../../../lib/config/load';
import { resolveEnvironment } from '../environment';
import { toOpsError, OperationError, UsageError } from '../errors';
import type { Output } from '../output';

export interface DelegateSubdomainOptions {
  env: string;
  hostedZoneId: string;
  /** Profile of the environment's account (where the environment's zone is). */
  profile?: string;
  region?: string;
  /** Profile of the management account (where the parent zone is). */
  managementProfile?: string;
  /** Role in the management account, assumed with the management profile or the default credentials. */
  managementRoleArn?: string;
  /** The parent zone's id; found by name when omitted. */
  parentZoneId?: string;
  /** TTL of the NS record in the parent zone. */
  ttl?: number;
  dryRun?: boolean;
  /**
   * Replace an existing NS record that lists other name servers. Without it such a record is
   * left alone and the command stops (exit 2): it may delegate the subdomain to a zone that
   * serves it today (another environment's, or the original deployment's).
   */
  force?: boolean;
  /** Seconds to wait for the change to be INSYNC; 0 does not wait. */
  waitSeconds?: number;
}

export interface DelegateSubdomainDeps {
  clients: { sts(target: AwsTarget): STSClient; route53(target: AwsTarget): Route53Client };
  out: Output;
  sleep(ms: number): Promise<void>;
}

export type DelegationOutcome = 'already-delegated' | 'dry-run' | 'delegated';

export interface DelegationResult {
  outcome: DelegationOutcome;
  zoneName: string;
  parentZoneId: string;
  nameServers: string[];
  previous?: string[];
}

export const DEFAULT_NS_TTL = 3600;
const POLL_MS = 5000;

/** `/hostedzone/Z123` or `Z123` → `Z123`; anything else is a usage error. */
export function normalizeZoneId(id: string, what = 'hosted zone id'): string {
  const bare = id.trim().replace(/^\/?hostedzone\//, '');
  if (!/^Z[A-Z0-9]{1,32}$/.test(bare)) {
    throw new UsageError(
      `${JSON.stringify(id)} is not a Route 53 ${what} (expected something like Z0123456789ABCDEFGHIJ)`,
    );
  }
  return bare;
}

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();
const normalizeNs = (values: string[]) => [...new Set(values.map(fqdn))].sort();

/**
 * Delegates the environment's hosted zone (e.g. prod.getorcha.com, in the environment's
 * account) from the parent zone (getorcha.com, in the management account) by UPSERTing the
 * NS record there. Running it again is harmless: an identical record is left alone.
 */
export async function delegateSubdomain(
  options: DelegateSubdomainOptions,
  deps: DelegateSubdomainDeps,
): Promise<DelegationResult> {
  const { config } = resolveEnvironment(options.env);
  const zoneId = normalizeZoneId(options.hostedZoneId);
  const parentZoneIdOption =
    options.parentZoneId !== undefined ? normalizeZoneId(options.parentZoneId, 'parent zone id') : undefined;
  const ttl = options.ttl ?? DEFAULT_NS_TTL;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 172800) {
    throw new UsageError(`--ttl ${ttl} must be a whole number of seconds from 60 to 172800`);
  }
  const zoneName = fqdn(config.dns.zoneName);
  const parentName = zoneName.slice(zoneName.indexOf('.') + 1);
  const { out } = deps;
  const region = options.region ?? config.region;

  // Environment side: the environment's own hosted zone.
  const envTarget: AwsTarget = { region, profile: options.profile };
  const envIdentity = await verifyAccount(deps.clients.sts(envTarget), {
    account: config.account,
    envName: config.name,
    profile: options.profile,
  });
  const envRoute53 = deps.clients.route53(envTarget);
  let zone;
  try {
    zone = await envRoute53.send(new GetHostedZoneCommand({ Id: zoneId }));
  } catch (err) {
    if ((err as Error).name === 'NoSuchHostedZone') {
      throw new UsageError(
        `Hosted zone ${zoneId} does not exist in account ${envIdentity.account}; ` +
          `find the id of ${config.dns.zoneName} with: aws route53 list-hosted-zones-by-name --dns-name ${config.dns.zoneName}`,
      );
    }
    throw toOpsError(err, `Cannot read hosted zone ${zoneId} in account ${envIdentity.account}`);
  }
  const actualName = fqdn(zone.HostedZone?.Name ?? '');
  if (actualName !== zoneName) {
    throw new UsageError(
      `Hosted zone ${zoneId} is ${actualName}, but environment "${config.name}" uses ${zoneName} ` +
        `(config dns.zoneName); check the zone id`,
    );
  }
  if (zone.HostedZone?.Config?.PrivateZone) {
    throw new UsageError(
      `Hosted zone ${zoneId} (${zoneName}) is a private zone; only a public zone can be delegated`,
    );
  }
  const nameServers = normalizeNs(zone.DelegationSet?.NameServers ?? []);
  if (nameServers.length === 0) {
    throw new OperationError(`Hosted zone ${zoneId} (${zoneName}) has no delegation set (no name servers)`);
  }
  out.info(`Zone ${zoneName} (${zoneId}) in account ${envIdentity.account}; name servers:`);
  for (const ns of nameServers) out.info(`  ${ns}`);

  // Management side: the parent zone.
  const separateManagement = Boolean(options.managementProfile || options.managementRoleArn);
  const mgmtTarget: AwsTarget = separateManagement
    ? { region, profile: options.managementProfile, roleArn: options.managementRoleArn }
    : envTarget;
  if (!separateManagement) {
    out.info(
      'No --management-profile or --management-role-arn: using the same credentials for the parent zone (single-account setup).',
    );
  }
  const mgmtIdentity = await callerIdentity(deps.clients.sts(mgmtTarget), 'management account credentials');
  const mgmtRoute53 = deps.clients.route53(mgmtTarget);
  const parentZoneId = await findParentZone(mgmtRoute53, parentName, zoneName, parentZoneIdOption);
  if (parentZoneId === zoneId) {
    throw new UsageError(`The parent zone and the environment's zone are the same zone (${zoneId})`);
  }
  out.info(`Parent zone ${parentName} (${parentZoneId}) in account ${mgmtIdentity.account}`);

  let existing: { values: string[]; ttl?: number } | undefined;
  try {
    const records = await mgmtRoute53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: parentZoneId,
        StartRecordName: zoneName,
        StartRecordType: 'NS',
        MaxItems: 1,
      }),
    );
    const first = records.ResourceRecordSets?.[0];
    if (first && fqdn(first.Name ?? '') === zoneName && first.Type === 'NS') {
      existing = {
        values: normalizeNs((first.ResourceRecords ?? []).map((r) => r.Value ?? '')),
        ttl: first.TTL,
      };
    }
  } catch (err) {
    throw toOpsError(err, `Cannot read the NS records of parent zone ${parentZoneId}`);
  }

  const result = { zoneName, parentZoneId, nameServers, previous: existing?.values };
  if (existing && existing.values.join(' ') === nameServers.join(' ')) {
    out.info(
      `Already delegated: ${zoneName} NS in ${parentName} already lists these name servers ` +
        `(TTL ${existing.ttl ?? '?'}). Nothing to do.`,
    );
    return { ...result, outcome: 'already-delegated' };
  }

  if (existing && !options.force) {
    const target = await whoseNameServers(envRoute53, existing.values, zoneId, zoneName, envIdentity.account);
    throw new UsageError(
      `Refusing to replace the NS record of ${zoneName} in ${parentName} (${parentZoneId}): it lists ` +
        `${existing.values.join(' ')}, the name servers of ${target}, not those of ${zoneId}. ` +
        `Replacing it moves the subdomain to ${zoneId}; if that is intended (the old zone is gone, or ` +
        `its records are in ${zoneId} too), rerun with --force. Nothing was changed.`,
    );
  }

  out.info(`${options.dryRun ? 'Would UPSERT' : 'UPSERT'} in ${parentName} (${parentZoneId}):`);
  out.info(`  ${zoneName} NS TTL ${ttl}`);
  for (const ns of nameServers) out.info(`    ${ns}`);
  if (existing) {
    out.info(`  replacing the current NS values (--force): ${existing.values.join(' ')}`);
  }
  if (options.dryRun) {
    out.info('Dry run: nothing was changed.');
    return { ...result, outcome: 'dry-run' };
  }

  let changeId: string | undefined;
  let status: string | undefined;
  try {
    const change = await mgmtRoute53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: parentZoneId,
        ChangeBatch: {
          Comment: `Delegate ${zoneName} to hosted zone ${zoneId} (environment ${config.name})`,
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: zoneName,
                Type: 'NS',
                TTL: ttl,
                ResourceRecords: nameServers.map((Value) => ({ Value })),
              },
            },
          ],
        },
      }),
    );
    changeId = change.ChangeInfo?.Id;
    status = change.ChangeInfo?.Status;
  } catch (err) {
    throw toOpsError(err, `The delegation record was NOT changed in parent zone ${parentZoneId}`);
  }
  out.info(`Submitted change ${changeId ?? '(no id)'}: ${status ?? 'PENDING'}`);

  const waitMs = (options.waitSeconds ?? 120) * 1000;
  for (let waited = 0; changeId && status !== 'INSYNC' && waited < waitMs; waited += POLL_MS) {
    await deps.sleep(POLL_MS);
    try {
      status = (await mgmtRoute53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status;
    } catch (err) {
      throw toOpsError(
        err,
        `The delegation change ${changeId} was submitted, but its status cannot be read; ` +
          `rerun the command to check (it reports "already delegated" once the record is in place)`,
      );
    }
  }
  if (status === 'INSYNC') {
    out.info(`Delegated: ${zoneName} → ${nameServers.join(' ')} (change INSYNC).`);
  } else {
    out.info(
      `Delegation submitted; Route 53 still reports ${status ?? 'PENDING'} (usually INSYNC within a minute).`,
    );
  }
  out.info(`Check with: dig +short NS ${zoneName}`);
  return { ...result, outcome: 'delegated' };
}

async function findParentZone(
  route53: Route53Client,
  parentName: string,
  zoneName: string,
  explicitId: string | undefined,
): Promise<string> {
  if (explicitId) {
    let name: string;
    try {
      const zone = await route53.send(new GetHostedZoneCommand({ Id: explicitId }));
      name = fqdn(zone.HostedZone?.Name ?? '');
    } catch (err) {
      throw toOpsError(err, `Cannot read parent zone ${explicitId} in the management account`);
    }
    if (!zoneName.endsWith(`.${name}`)) {
      throw new UsageError(`Parent zone ${explicitId} is ${name}, which is not a parent of ${zoneName}`);
    }
    return explicitId;
  }
  let zones;
  try {
    zones = await route53.send(new ListHostedZonesByNameCommand({ DNSName: parentName, MaxItems: 100 }));
  } catch (err) {
    throw toOpsError(err, `Cannot list the hosted zones named ${parentName} in the management account`);
  }
  const matches = (zones.HostedZones ?? []).filter(
    (z) => fqdn(z.Name ?? '') === parentName && !z.Config?.PrivateZone && z.Id,
  );
  if (matches.length === 0) {
    throw new UsageError(
      `No public hosted zone ${parentName} in the management account; check --management-profile / --management-role-arn or pass --parent-zone-id`,
    );
  }
  if (matches.length > 1) {
    throw new UsageError(
      `${matches.length} public hosted zones are named ${parentName} (${matches.map((z) => normalizeZoneId(z.Id ?? '')).join(', ')}); choose one with --parent-zone-id`,
    );
  }
  return normalizeZoneId(matches[0]?.Id ?? '');
}

/**
 * Says whose name servers `values` are, looking at the public hosted zones of the environment's
 * account that carry an environment's zone name: another environment's zone, another zone of
 * this environment's name (e.g. the original deployment's), or none that this account can see.
 */
async function whoseNameServers(
  route53: Route53Client,
  values: string[],
  ownZoneId: string,
  ownZoneName: string,
  account: string,
): Promise<string> {
  const zoneOwners = new Map<string, string>();
  for (const name of environmentNames()) {
    try {
      zoneOwners.set(fqdn(loadEnvironment(name).dns.zoneName), name);
    } catch {
      // an invalid environment has no zone to compare with
    }
  }
  const wanted = values.join(' ');
  try {
    for await (const page of paginateListHostedZones({ client: route53 }, {})) {
      for (const zone of page.HostedZones ?? []) {
        const id = normalizeZoneId(zone.Id ?? '');
        const name = fqdn(zone.Name ?? '');
        if (id === ownZoneId || zone.Config?.PrivateZone || !zoneOwners.has(name)) continue;
        const detail = await route53.send(new GetHostedZoneCommand({ Id: id }));
        if (normalizeNs(detail.DelegationSet?.NameServers ?? []).join(' ') !== wanted) continue;
        return name === ownZoneName
          ? `another hosted zone named ${name} (${id}) in account ${account}, which serves the subdomain today (e.g. the original deployment's)`
          : `hosted zone ${id} in account ${account}, environment "${zoneOwners.get(name)}"'s zone ${name}`;
      }
    }
  } catch (err) {
    return `a zone this command could not identify (listing the zones of account ${account} failed: ${(err as Error).message})`;
  }
  return `no hosted zone of an environment in account ${account} (a deleted zone, or a zone in another account)`;
}
