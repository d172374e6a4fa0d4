import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  BOOT_ASSETS_DIR,
  USER_DATA_LIMIT_BYTES,
  compactFile,
  renderBootScript,
  substitute,
} from '../../lib/constructs/app-instance-boot';
import { SAMPLE_VALUES } from '../fixtures/boot-script-values';

/**
 * The content the rendered script writes to `target` (`"$ROOT/…"`): a `cat > <target>` heredoc,
 * or a `base64 -d | gunzip > <target>` one (decoded here as on the instance).
 */
function embedded(script: string, target: string): string {
  const plain = script.indexOf(`cat > ${target} <<'ORCHA_EOF'\n`);
  const packed = script.indexOf(`base64 -d <<'ORCHA_EOF' | gunzip > ${target}\n`);
  const start = plain >= 0 ? plain : packed;
  expect(start).toBeGreaterThanOrEqual(0);
  const body = script.slice(script.indexOf('\n', start) + 1);
  const text = body.slice(0, body.indexOf('\nORCHA_EOF\n'));
  return plain >= 0 ? text : zlib.gunzipSync(Buffer.from(text, 'base64')).toString('utf8').replace(/\n$/, '');
}

describe('renderBootScript', () => {
  const script = renderBootScript(SAMPLE_VALUES);

  it('is deterministic and leaves no placeholder', () => {
    expect(renderBootScript(SAMPLE_VALUES)).toBe(script);
    expect(script).not.toMatch(/\{\{[A-Z_]+(:[^}]*)?\}\}/);
    // Well under EC2's 16 KB: room for longer deploy-time values and later additions.
    expect(Buffer.byteLength(script)).toBeLessThan(0.75 * USER_DATA_LIMIT_BYTES);
  });

  it('writes the CloudWatch agent configuration as valid JSON naming both log groups', () => {
    const config = JSON.parse(embedded(script, '"$CWAGENT_CONFIG"')) as {
      logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string }[] } } };
    };
    const routes = config.logs.logs_collected.files.collect_list.map((c) => [c.file_path, c.log_group_name]);
    expect(routes).toEqual([
      ['/var/lib/docker/containers/*/*-json.log', '/v1-orcha/application'],
      ['/var/log/orcha/refresh.log', '/v1-orcha/application'],
      ['/var/log/cloud-init-output.log', '/v1-orcha/user-data'],
      ['/var/log/orcha/boot.log', '/v1-orcha/user-data'],
    ]);
  });

  it('writes the compose file with the app and worker from the same, deployed image (never a moving tag)', () => {
    const compose = embedded(script, '"$ROOT/opt/orcha/docker-compose.yml"');
    expect(compose).toMatch(/image: '\$\{ORCHA_IMAGE:\?no image deployed yet[^}]*\}'/);
    expect(compose).not.toContain(':latest');
    expect(compose).toMatch(/ {2}app:\n/);
    expect(compose).toMatch(/ {2}worker:\n {4}<<: \*service\n(?: {4}#.*\n)* {4}command: \["worker"\]\n/);
    expect(compose).toContain("- '8888:8888'");
    expect(compose).toContain("- '127.0.0.1:9878:9878'");
    expect(compose).toContain('path: /etc/orcha/orcha.env');
  });

  it('embeds the helper scripts and units as in assets/boot, without comments', () => {
    for (const [target, file] of [
      ['"$ROOT/usr/local/bin/orcha-refresh"', 'orcha-refresh.sh'],
      ['"$ROOT/etc/systemd/system/orcha.service"', 'orcha.service'],
      ['"$ROOT/opt/orcha/placeholder.py"', 'placeholder.py'],
    ] as const) {
      const original = fs.readFileSync(path.join(BOOT_ASSETS_DIR, file), 'utf8');
      expect(embedded(script, target)).toBe(compactFile(file, original).replace(/\n$/, ''));
    }
    expect(compactFile('x.sh', '#!/bin/bash\n# note\n\n  # indented note\necho a # kept\n')).toBe(
      '#!/bin/bash\necho a # kept\n',
    );
  });

  it('orcha.service waits for a pinned image; the placeholder runs only until then', () => {
    const unit = embedded(script, '"$ROOT/etc/systemd/system/orcha.service"');
    expect(unit).toMatch(/^ConditionPathExists=\/opt\/orcha\/\.env$/m);
    expect(unit).toMatch(/^Conflicts=orcha-placeholder\.service$/m);
    expect(unit).toMatch(/^RestartSec=30$/m);
    const placeholder = embedded(script, '"$ROOT/etc/systemd/system/orcha-placeholder.service"');
    expect(placeholder).toMatch(/^ConditionPathExists=!\/opt\/orcha\/\.env$/m);
    expect(placeholder).toMatch(
      /^ExecStart=\/usr\/bin\/python3 \/opt\/orcha\/placeholder\.py 8888 \/health$/m,
    );
  });

  it('writes the non-secret settings and never a secret value', () => {
    const conf = embedded(script, '"$ROOT/etc/orcha/orcha.conf"');
    expect(conf).toContain("ORCHA_DB_HOST='v1-orcha-db.abcdefghijkl.eu-central-1.rds.amazonaws.com'");
    expect(conf).toContain(
      "ORCHA_INGEST_QUEUE_URL='https://sqs.eu-central-1.amazonaws.com/700558745280/v1-orcha-global-ingest'",
    );
    expect(conf).not.toMatch(/PASSWORD/);
    // The env file with the secrets is created 0600 and its values are never printed.
    const prepare = embedded(script, '"$ROOT/usr/local/bin/orcha-prepare"');
    expect(prepare).toContain('umask 077');
    expect(prepare).toContain('chmod 0600 "$tmp"');
    expect(prepare).not.toMatch(/set -x|cat "\$ENV_FILE"|echo "\$secret"|echo "\$params"/);
  });

  it('rejects values that would break the quoting, and bad paths', () => {
    expect(() => renderBootScript({ ...SAMPLE_VALUES, dbHost: "x'; reboot; '" })).toThrow(/dbHost/);
    expect(() => renderBootScript({ ...SAMPLE_VALUES, healthCheckPath: 'health' })).toThrow(
      /healthCheckPath/,
    );
    expect(() => renderBootScript({ ...SAMPLE_VALUES, workerCommand: [] })).toThrow(/workerCommand/);
  });
});

describe('substitute', () => {
  it('replaces every placeholder', () => {
    expect(substitute('a={{A}} b={{B}}', { A: '1', B: '2' }, 't')).toBe('a=1 b=2');
  });

  it('fails on a placeholder without a value and on a value without a placeholder', () => {
    expect(() => substitute('{{A}} {{C}}', { A: '1' }, 't')).toThrow('t: no value for placeholder {{C}}');
    expect(() => substitute('{{A}}', { A: '1', B: '2' }, 't')).toThrow('t: values without a placeholder: B');
    expect(() => substitute('{{a-b}}', {}, 't')).toThrow('t: unknown placeholder {{a-b}}');
  });
});
