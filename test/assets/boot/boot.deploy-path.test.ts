import * as fs from 'node:fs';
import * as path from 'node:path';
import { databaseEnv } from '../../../lib/config/app-contract';
import { renderBootScript } from '../../../lib/constructs/app-instance-boot';
import { connectionEnv } from '../../../codebuild/migration-test/command';
import { SAMPLE_VALUES } from '../../fixtures/boot-script-values';
import { InstanceSandbox } from '../../helpers/instance-sandbox';
import { projectPath } from '../../../lib/config/project';

/**
 * The application's life on an instance, end to end, by running the real scripts: the rendered
 * user data (boot.sh with orcha-prepare, orcha-refresh and the units embedded), then the
 * reference application repository's hooks (examples/app-repository) from bundles laid out as
 * the CodeDeploy agent lays them out, run from the agent's working directory.
 */

const EXAMPLE = projectPath('examples', 'app-repository');
const REGISTRY = SAMPLE_VALUES.registry;
const REPOSITORY = `${REGISTRY}/v1-orcha`;
const GROUP_ID = '5c8e0a4f-1b2d-4c3e-9f8a-7d6b5a4c3b2a';
const PASSWORD = "p@ss:w/rd?#&=+ !'()*%é";
const SECRET = { username: 'orcha_admin', password: PASSWORD };
const PARAMETERS = [
  { name: '/v1-orcha/API_KEY', value: 'k-123' },
  // A parameter may not override the database contract.
  { name: '/v1-orcha/DB_HOST', value: 'somewhere-else' },
  { name: '/v1-orcha/bad-name', value: 'x' },
];
const VALUES = { ...SAMPLE_VALUES, composeSha256: InstanceSandbox.COMPOSE_SHA256 };

/** Hook name → script location, from the reference appspec.yml. */
function appspecHooks(): Record<string, string> {
  const text = fs.readFileSync(path.join(EXAMPLE, 'appspec.yml'), 'utf8');
  const hooks: Record<string, string> = {};
  let current = '';
  for (const line of text.split('\n')) {
    const hook = /^ {2}([A-Za-z]+):\s*$/.exec(line);
    if (hook?.[1]) current = hook[1];
    const location = /^ {4}- location: (\S+)\s*$/.exec(line);
    if (location?.[1] && current) hooks[current] = location[1];
  }
  return hooks;
}

describe('an instance, from boot to rollback (real scripts, recording stubs)', () => {
  let box: InstanceSandbox;
  let userData: string;
  let boot: { status: number | null; output: string };
  let bootCalls: string[];
  let deploymentCount = 0;

  /** Lays out a revision as the agent does and runs one hook as its hook executor does. */
  function runHook(deploymentId: string, hook: string, imageEnv: string | undefined) {
    const archive = box.path(
      'opt/codedeploy-agent/deployment-root',
      GROUP_ID,
      deploymentId,
      'deployment-archive',
    );
    if (!fs.existsSync(archive)) {
      fs.mkdirSync(path.join(archive, 'scripts'), { recursive: true });
      fs.copyFileSync(path.join(EXAMPLE, 'appspec.yml'), path.join(archive, 'appspec.yml'));
      for (const f of fs.readdirSync(path.join(EXAMPLE, 'scripts'))) {
        fs.copyFileSync(path.join(EXAMPLE, 'scripts', f), path.join(archive, 'scripts', f));
        fs.chmodSync(path.join(archive, 'scripts', f), 0o755);
      }
      if (imageEnv !== undefined) fs.writeFileSync(path.join(archive, 'image.env'), imageEnv);
    }
    const location = appspecHooks()[hook];
    if (!location) throw new Error(`appspec.yml has no ${hook} hook`);
    return box.run(path.join(archive, location), [], {
      cwd: box.path('opt/codedeploy-agent'),
      env: {
        LIFECYCLE_EVENT: hook,
        DEPLOYMENT_ID: deploymentId,
        APPLICATION_NAME: 'v1-orcha',
        DEPLOYMENT_GROUP_NAME: 'v1-orcha-production',
        DEPLOYMENT_GROUP_ID: GROUP_ID,
      },
    });
  }

  /** A whole deployment: ApplicationStart, then ValidateService if it succeeded. */
  function deploy(image: string | undefined, imageEnv = `IMAGE_URI=${image ?? ''}\n`) {
    const id = `d-TEST${String(++deploymentCount).padStart(5, '0')}`;
    box.clearCalls();
    const start = runHook(id, 'ApplicationStart', imageEnv);
    const validate = start.status === 0 ? runHook(id, 'ValidateService', undefined) : undefined;
    return { id, start, validate, calls: box.calls() };
  }

  const pinned = (): string => box.read('opt/orcha/.env');

  beforeAll(() => {
    box = new InstanceSandbox({ parameters: PARAMETERS, secret: SECRET });
    userData = path.join(box.root, 'user-data.sh');
    fs.writeFileSync(userData, renderBootScript(VALUES), { mode: 0o755 });
    boot = box.run(userData);
    bootCalls = box.calls();
  });
  afterAll(() => box.dispose());

  it('boots: packages, compose plugin from S3 (checksum verified), Orcha files, units, agent last', () => {
    expect(boot.output).toContain('boot complete');
    expect(boot.status).toBe(0);
    expect(bootCalls).toContain(
      `cfn-signal --exit-code 0 --stack v1-orcha-compute --resource AutoScalingGroupASG804C35BE --region eu-central-1`,
    );
    expect(bootCalls.filter((c) => c.startsWith('dnf '))).toHaveLength(1);
    expect(bootCalls.find((c) => c.startsWith('dnf '))).toContain('ruby3.2-rubygem-json');
    expect(bootCalls).toContain(
      `aws s3 cp --only-show-errors --region eu-central-1 ${SAMPLE_VALUES.composeS3Uri} ${
        bootCalls
          .find((c) => c.startsWith('aws s3 cp'))
          ?.split(' ')
          .pop() ?? ''
      }`,
    );
    expect(box.read('usr/local/lib/docker/cli-plugins/docker-compose')).toBe(InstanceSandbox.COMPOSE_BINARY);
    // Never GitHub at launch: the only download is the CodeDeploy installer from its regional bucket.
    expect(bootCalls.filter((c) => c.startsWith('curl ')).join('\n')).not.toMatch(/github/);
    for (const file of [
      'etc/orcha/orcha.conf',
      'opt/orcha/docker-compose.yml',
      'opt/orcha/placeholder.py',
      'usr/local/bin/orcha-prepare',
      'usr/local/bin/orcha-refresh',
      'etc/systemd/system/orcha.service',
      'etc/systemd/system/orcha-placeholder.service',
    ]) {
      expect(box.exists(file)).toBe(true);
    }
    // No image before the first deployment: the units' conditions start the placeholder only.
    expect(box.exists('opt/orcha/.env')).toBe(false);
    const systemctl = bootCalls.filter((c) => c.startsWith('systemctl '));
    expect(systemctl).toEqual([
      'systemctl enable --now docker',
      'systemctl daemon-reload',
      'systemctl enable orcha.service orcha-placeholder.service',
      'systemctl start --no-block orcha.service orcha-placeholder.service',
      'systemctl enable --now codedeploy-agent',
    ]);
    // The agent (whose launch hook deploys at once) is installed only after orcha-refresh exists.
    expect(bootCalls).toContain('codedeploy-installer auto orcha-refresh=present');
    const order = (prefix: string) => bootCalls.findIndex((c) => c.startsWith(prefix));
    expect(order('codedeploy-installer')).toBeGreaterThan(order('systemctl start --no-block'));
  });

  it('a deploy pins exactly the image of its image.env, hooks run from the agent directory', () => {
    const image = `${REPOSITORY}:1111111111111111111111111111111111111111`;
    const d = deploy(image);
    expect(d.start.output).toContain(`pinned ${image}`);
    expect(d.start.status).toBe(0);
    expect(pinned()).toBe(`ORCHA_IMAGE=${image}\n`);
    expect(d.calls).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^docker compose --project-directory \S+\/opt\/orcha -f \S+ pull --quiet$/),
        'systemctl restart orcha.service',
      ]),
    );
    expect(d.validate?.status).toBe(0);
    expect(d.validate?.output).toContain(`${image} is running and healthy`);
  });

  it('a second deploy pins its own image; a rollback (a deployment of the earlier revision) pins the earlier one', () => {
    const first = pinned().replace(/^ORCHA_IMAGE=|\n$/g, '');
    const second = `${REPOSITORY}:2222222222222222222222222222222222222222`;
    expect(deploy(second).start.status).toBe(0);
    expect(pinned()).toBe(`ORCHA_IMAGE=${second}\n`);

    // CodeDeploy's rollback redeploys the last successful revision's bundle as a new deployment.
    const rollback = deploy(first);
    expect(rollback.start.status).toBe(0);
    expect(rollback.validate?.status).toBe(0);
    expect(pinned()).toBe(`ORCHA_IMAGE=${first}\n`);
  });

  it('an empty or missing image fails the deployment and keeps the running image untouched', () => {
    const before = pinned();
    for (const imageEnv of ['IMAGE_URI=\n', '', 'OTHER=1\n']) {
      const d = deploy(undefined, imageEnv);
      expect(d.start.status).not.toBe(0);
      expect(pinned()).toBe(before);
      expect(d.calls.filter((c) => c.startsWith('systemctl') || c.startsWith('docker'))).toEqual([]);
    }
  });

  it('orcha-refresh refuses an empty or foreign image (the old hook from the agent directory is a failure, not a no-op)', () => {
    const before = pinned();
    const refresh = box.path('usr/local/bin/orcha-refresh');
    // The hook as it used to be documented: image.env read relative to the working directory.
    const oldHook = box.run(
      '/bin/bash',
      ['-c', `"${refresh}" --image "$(sed -n 's/^IMAGE_URI=//p' image.env 2>/dev/null)"`],
      { cwd: box.path('opt/codedeploy-agent') },
    );
    expect(oldHook.status).toBe(2);
    expect(oldHook.output).toContain("refusing image ''");
    for (const bad of [
      'docker.io/library/nginx:latest',
      `${REGISTRY}/`,
      `${REPOSITORY}`,
      `${REPOSITORY}:tag with space`,
      `${REPOSITORY}:$(reboot)`,
    ]) {
      box.clearCalls();
      const r = box.run(refresh, ['--image', bad]);
      expect(r.status).toBe(2);
      expect(box.calls().filter((c) => !c.startsWith('date'))).toEqual([]);
    }
    expect(box.run(refresh, ['--imagex', 'x']).status).toBe(2);
    expect(pinned()).toBe(before);
  });

  it('orcha-refresh without --image restarts the pinned image (after a settings change), never another', () => {
    const before = pinned();
    box.clearCalls();
    const r = box.run(box.path('usr/local/bin/orcha-refresh'));
    expect(r.status).toBe(0);
    expect(r.output).toContain(`restarting the pinned ${before.replace(/^ORCHA_IMAGE=|\n$/g, '')}`);
    expect(box.calls()).toContain('systemctl restart orcha.service');
    expect(pinned()).toBe(before);
  });

  it('a deploy whose app never gets healthy fails (CodeDeploy then rolls back)', () => {
    const d = (() => {
      const id = `d-TEST${String(++deploymentCount).padStart(5, '0')}`;
      box.clearCalls();
      const archiveImage = `${REPOSITORY}:3333333333333333333333333333333333333333`;
      const start = box.run(box.path('usr/local/bin/orcha-refresh'), ['--image', archiveImage, '1'], {
        env: { HEALTH_STATUS: '7', DEPLOYMENT_ID: id },
      });
      return { start, calls: box.calls() };
    })();
    expect(d.start.status).toBe(1);
    expect(d.start.output).toMatch(/did not become healthy .* within 1s/);
  });

  it('orcha-prepare writes the database contract exactly as the migration container gets it', () => {
    box.clearCalls();
    const r = box.run(box.path('usr/local/bin/orcha-prepare'));
    expect(r.status).toBe(0);
    expect(r.output).not.toContain(PASSWORD);
    const written = Object.fromEntries(
      box
        .read('etc/orcha/orcha.env')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(fs.statSync(box.path('etc/orcha/orcha.env')).mode & 0o777).toBe(0o600);
    const connection = {
      host: SAMPLE_VALUES.dbHost,
      port: Number(SAMPLE_VALUES.dbPort),
      user: SECRET.username,
      password: PASSWORD,
      database: SAMPLE_VALUES.dbName,
      sslMode: 'require' as const,
    };
    const migrationContainer = connectionEnv(connection);
    expect(Object.keys(migrationContainer).length).toBeGreaterThanOrEqual(14);
    for (const [name, value] of Object.entries(migrationContainer))
      expect([name, written[name]]).toEqual([name, value]);
    expect(migrationContainer).toEqual(
      databaseEnv({ ...connection, name: connection.database, sslMode: 'require' }),
    );
    // The password survives the URL round trip on both sides.
    expect(decodeURIComponent(new URL(written.DATABASE_URL ?? '').password)).toBe(PASSWORD);
    expect(written).toMatchObject({
      API_KEY: 'k-123',
      ORCHA_ENVIRONMENT: 'prod',
      AWS_REGION: 'eu-central-1',
      PORT: '8888',
    });
    expect(written['bad-name']).toBeUndefined();
  });
});

describe('boot retries a failing dnf a bounded number of times', () => {
  let box: InstanceSandbox;
  let userData: string;

  beforeAll(() => {
    box = new InstanceSandbox({ parameters: [], secret: { username: 'u', password: 'p' } });
    userData = path.join(box.root, 'user-data.sh');
    fs.writeFileSync(userData, renderBootScript(VALUES), { mode: 0o755 });
  });
  afterAll(() => box.dispose());

  it('succeeds when dnf fails twice (lock held), waiting 5 s then 10 s', () => {
    box.clearCalls();
    const r = box.run(userData, [], { env: { DNF_FAILURES: '2' } });
    expect(r.status).toBe(0);
    const calls = box.calls();
    expect(calls.filter((c) => c.startsWith('dnf '))).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('sleep '))).toEqual(['sleep 5', 'sleep 10']);
  });

  it('gives up after 5 attempts and signals the failure to CloudFormation', () => {
    box.clearCalls();
    const r = box.run(userData, [], { env: { DNF_FAILURES: '99' } });
    expect(r.status).not.toBe(0);
    const calls = box.calls();
    expect(calls.filter((c) => c.startsWith('dnf '))).toHaveLength(5);
    expect(calls.filter((c) => c.startsWith('sleep '))).toEqual([
      'sleep 5',
      'sleep 10',
      'sleep 20',
      'sleep 40',
    ]);
    expect(calls.find((c) => c.startsWith('cfn-signal'))).toMatch(/^cfn-signal --exit-code 1 /);
    expect(r.output).toContain('boot FAILED');
  });

  it('fails before the CodeDeploy installer when Ruby cannot load json', () => {
    box.clearCalls();
    const r = box.run(userData, [], { env: { RUBY_STATUS: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('Ruby cannot load json');
    expect(box.calls().some((c) => c.startsWith('codedeploy-installer'))).toBe(false);
  });

  it('refuses a compose plugin whose checksum differs from the pin', () => {
    const other = path.join(box.root, 'user-data-other-sha.sh');
    fs.writeFileSync(other, renderBootScript({ ...VALUES, composeSha256: 'a'.repeat(64) }), { mode: 0o755 });
    box.clearCalls();
    const r = box.run(other);
    expect(r.status).not.toBe(0);
    expect(box.calls().some((c) => c.startsWith('systemctl enable orcha.service'))).toBe(false);
  });
});
