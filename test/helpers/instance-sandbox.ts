import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecordingStubs } from './stubs';

/**
 * A temporary root laid out like an instance, for running the real boot and deploy scripts
 * unprivileged: they read ORCHA_ROOT (unset on instances) as the prefix of every path, and the
 * commands they call on the machine (`dnf`, `systemctl`, `docker`, `aws`, `curl`, …) are
 * recording stubs first on PATH. Everything else (bash, jq, sed, sha256sum, install, mktemp) is
 * the real thing.
 *
 * Where the simulation stops: no systemd (unit conditions and Conflicts= are not executed), no
 * Docker daemon (`docker compose` only records), no AWS (the `aws` stub answers from fixtures),
 * no CodeDeploy agent (the tests run the hooks as its hook executor does: absolute path from the
 * appspec, its own working directory, its LIFECYCLE_EVENT/DEPLOYMENT_ID/… environment).
 */
export class InstanceSandbox extends RecordingStubs {
  /** Content of the fake compose plugin the `aws s3 cp` stub delivers. */
  public static readonly COMPOSE_BINARY = '#!/bin/sh\necho "Docker Compose version v2.40.3 (stub)"\n';
  public static readonly COMPOSE_SHA256 = createHash('sha256')
    .update(InstanceSandbox.COMPOSE_BINARY)
    .digest('hex');

  /** @param fixtures answers of the `aws` stub (SSM parameters, the database secret). */
  constructor(fixtures: { parameters: unknown; secret: unknown }) {
    super('orcha-instance-');
    fs.writeFileSync(path.join(this.state, 'compose-plugin'), InstanceSandbox.COMPOSE_BINARY);
    fs.writeFileSync(path.join(this.state, 'parameters.json'), JSON.stringify(fixtures.parameters));
    fs.writeFileSync(path.join(this.state, 'secret.json'), JSON.stringify(fixtures.secret));
    this.writeStubs();
  }

  private writeStubs(): void {
    const s = (name: string, body = 'exit 0'): void => this.add(name, body);
    // dnf fails its first $DNF_FAILURES runs (as when another dnf holds the lock).
    s(
      'dnf',
      `n=$(( $(cat "$STUB_STATE/dnf.count" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$STUB_STATE/dnf.count"
if (( n <= \${DNF_FAILURES:-0} )); then echo 'Error: Failed to obtain the transaction lock' >&2; exit 1; fi`,
    );
    s('systemctl');
    s('sleep');
    s('uname', 'echo aarch64');
    s('ruby', 'exit "${RUBY_STATUS:-0}"');
    s(
      'docker',
      `if [[ "$1" == login ]]; then cat > /dev/null; fi
if [[ "$1 $2" == "compose pull" ]]; then exit "\${PULL_STATUS:-0}"; fi`,
    );
    s(
      'aws',
      `case "$1 $2" in
  "s3 cp") cp "$STUB_STATE/compose-plugin" "\${@: -1}" ;;
  "ssm get-parameters-by-path") cat "$STUB_STATE/parameters.json" ;;
  "secretsmanager get-secret-value") jq -r 'tojson' "$STUB_STATE/secret.json" ;;
  "ecr get-login-password") echo registry-token ;;
  *) echo "aws stub: unexpected $*" >&2; exit 1 ;;
esac`,
    );
    // curl: the CodeDeploy installer download writes a stub installer (which records whether
    // orcha-refresh exists when the agent is installed); anything else is the health check.
    s(
      'curl',
      `out=''; args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do [[ "\${args[i]}" == -o ]] && out="\${args[i+1]}"; done
if [[ "$*" == *codedeploy* ]]; then
  printf '#!/bin/bash\\nif [[ -x "$ORCHA_ROOT/usr/local/bin/orcha-refresh" ]]; then r=present; else r=missing; fi\\nprintf "%%s\\\\n" "codedeploy-installer $* orcha-refresh=$r" >> "$STUB_STATE/calls.log"\\n' > "$out"
  exit 0
fi
exit "\${HEALTH_STATUS:-0}"`,
    );
    this.addAt(this.path('opt/aws/bin/cfn-signal'), 'exit 0');
    this.addAt(this.path('opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl'), 'exit 0');
  }

  /** Environment of a script run in the sandbox: the instance's root is ORCHA_ROOT (and HOME). */
  public override env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return super.env({ ORCHA_ROOT: this.root, ...extra });
  }

  /** Forgets the recorded calls and the dnf stub's failure count. */
  public override clearCalls(): void {
    super.clearCalls();
    fs.rmSync(path.join(this.state, 'dnf.count'), { force: true });
  }

  public path(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  public read(...parts: string[]): string {
    return fs.readFileSync(this.path(...parts), 'utf8');
  }

  public exists(...parts: string[]): boolean {
    return fs.existsSync(this.path(...parts));
  }
}
