import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderBootScript } from '../../../lib/constructs/app-instance-boot';
import { SAMPLE_VALUES } from '../../fixtures/boot-script-values';
import { InstanceSandbox } from '../../helpers/instance-sandbox';

/**
 * After a credential rotation the application must pick up the new password when it restarts
 * (the restart function replaces instances; an operator may run `orcha-refresh --current`): the
 * secret is read each time orcha.service starts, never once at boot. Checked by running the real
 * scripts: the rendered user data, then the unit's ExecStartPre as systemd would run it on every
 * start, with the secret rotated in between.
 */

const OLD = { username: 'orcha', password: 'old-Passw0rd' };
const NEW = { username: 'orcha', password: 'n3w-Passw0rd-after-rotation' };
const VALUES = { ...SAMPLE_VALUES, composeSha256: InstanceSandbox.COMPOSE_SHA256 };

let box: InstanceSandbox;
let bootCalls: string[];

/** Rotates the secret the `aws` stub serves. */
function rotate(secret: object): void {
  fs.writeFileSync(path.join(box.state, 'secret.json'), JSON.stringify(secret));
}

/** Runs orcha.service's ExecStartPre as systemd does on each start of the unit. */
function startService(): { status: number | null; output: string } {
  const unit = box.read('etc/systemd/system/orcha.service');
  const pre = /^ExecStartPre=(\S+)$/m.exec(unit)?.[1];
  expect(pre).toBe('/usr/local/bin/orcha-prepare');
  return box.run(box.path(pre!));
}

const password = () => /^DB_PASSWORD=(.*)$/m.exec(box.read('etc/orcha/orcha.env'))?.[1];

beforeAll(() => {
  box = new InstanceSandbox({ parameters: [], secret: OLD });
  const userData = path.join(box.root, 'user-data.sh');
  fs.writeFileSync(userData, renderBootScript(VALUES), { mode: 0o755 });
  const boot = box.run(userData);
  expect(boot.status).toBe(0);
  bootCalls = box.calls();
});
afterAll(() => box.dispose());

test('the boot itself does not read the secret (nothing to go stale)', () => {
  expect(bootCalls.filter((c) => c.includes('secretsmanager'))).toEqual([]);
  expect(box.exists('etc/orcha/orcha.env')).toBe(false);
});

test('each start of orcha.service reads the secret again: a rotated password reaches the containers', () => {
  box.clearCalls();
  expect(startService().status).toBe(0);
  expect(password()).toBe(OLD.password);

  rotate(NEW);
  box.clearCalls();
  expect(startService().status).toBe(0);
  expect(box.calls().filter((c) => c.startsWith('aws secretsmanager get-secret-value'))).toHaveLength(1);
  expect(password()).toBe(NEW.password);
  expect(box.read('etc/orcha/orcha.env')).not.toContain(OLD.password);
});

test('orcha-refresh --current (the manual restart) reads the rotated secret too', () => {
  fs.writeFileSync(box.path('opt/orcha/.env'), `ORCHA_IMAGE=${VALUES.registry}/v1-orcha:abc123\n`);
  rotate({ ...NEW, password: 'th1rd-Passw0rd' });
  const refresh = box.run(box.path('usr/local/bin/orcha-refresh'), ['--current', '10']);
  expect(refresh.status).toBe(0);
  expect(password()).toBe('th1rd-Passw0rd');
  // Values are never printed.
  expect(refresh.output).not.toContain('th1rd-Passw0rd');
});
