#!/bin/bash
# Boot script (EC2 user data) of an Orcha application instance: Amazon Linux 2023, ARM64.
#
# Installs Docker, the compose plugin (from the pinned copy in S3), the CloudWatch agent,
# writes the instance's Orcha files (settings, docker-compose.yml, helper scripts, systemd
# units), starts orcha.service (or, before the first deployment, the health-check
# placeholder) and installs the CodeDeploy agent last, so that a deployment never runs before
# orcha-refresh exists. Ends with cfn-signal, so that a broken boot fails the deployment
# instead of leaving a broken host. Every network step is retried a bounded number of times.
#
# This file is a template: lib/constructs/app-instance-boot.ts replaces its placeholders at
# synth time (values are deterministic: names, ports and CloudFormation references).
# Nothing here prints a setting's value; secrets are read by orcha-prepare at service start.
# ORCHA_ROOT (default: empty, i.e. /) prefixes every path; only tests set it.
set -euo pipefail

readonly ROOT="${ORCHA_ROOT:-}"
readonly BOOT_LOG="$ROOT/var/log/orcha/boot.log"
install -d -m 0750 "$ROOT/var/log/orcha"
exec > >(tee -a "$BOOT_LOG") 2>&1

log() { printf '%s boot: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

finish() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then log 'boot complete'; else log "boot FAILED (exit status $rc)"; fi
  "$ROOT/opt/aws/bin/cfn-signal" --exit-code "$rc" --stack '{{STACK_NAME}}' \
    --resource '{{SIGNAL_RESOURCE}}' --region '{{REGION}}' || log 'cfn-signal failed'
}
trap finish EXIT

# shellcheck source=SCRIPTDIR/../shared/retry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../shared/retry.sh"

readonly REGION='{{REGION}}'
readonly COMPOSE_SOURCE='{{COMPOSE_SOURCE_URI}}'
readonly COMPOSE_SHA256='{{COMPOSE_CHECKSUM}}'
readonly COMPOSE_PLUGIN="$ROOT/usr/local/lib/docker/cli-plugins/docker-compose"
readonly CWAGENT_CONFIG="$ROOT/opt/aws/amazon-cloudwatch-agent/etc/orcha.json"

if [[ "$(uname -m)" != aarch64 ]]; then
  log "unsupported architecture $(uname -m): this script installs aarch64 binaries"
  exit 1
fi

# dnf can lose the race for its lock against the image's own first-boot run: retry it.
# The CodeDeploy installer needs Ruby's json, a weak dependency of ruby3.2: named here.
log 'installing packages'
retry 5 dnf install -y --setopt=install_weak_deps=False \
  docker amazon-cloudwatch-agent aws-cfn-bootstrap ruby3.2 ruby3.2-rubygem-json wget jq python3

log 'configuring the CloudWatch agent'
install -d "$(dirname "$CWAGENT_CONFIG")"
cat > "$CWAGENT_CONFIG" <<'ORCHA_EOF'
{{FILE:amazon-cloudwatch-agent.json}}
ORCHA_EOF
"$ROOT/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl" \
  -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG"

log 'starting Docker'
systemctl enable --now docker

# The pinned release, mirrored into the environment's artifacts bucket at deploy time: no
# download from GitHub when an instance launches.
log "installing the docker compose plugin from $COMPOSE_SOURCE"
compose_download="$(mktemp)"
retry 5 aws s3 cp --only-show-errors --region "$REGION" "$COMPOSE_SOURCE" "$compose_download"
printf '%s  %s\n' "$COMPOSE_SHA256" "$compose_download" | sha256sum --check --strict -
install -D -m 0755 "$compose_download" "$COMPOSE_PLUGIN"
rm -f "$compose_download"
docker compose version

log 'writing the Orcha files'
install -d -m 0755 "$ROOT/etc/orcha" "$ROOT/opt/orcha" "$ROOT/usr/local/bin" "$ROOT/etc/systemd/system"
# The files that hold no deploy-time value come gzipped (user data is limited to 16 KB); their
# sources are assets/boot/*. Settings that are not secret: where the secrets and resources are. Secrets are fetched
# by orcha-prepare into /etc/orcha/orcha.env (mode 0600) each time orcha.service starts.
cat > "$ROOT/etc/orcha/orcha.conf" <<'ORCHA_EOF'
ORCHA_ENVIRONMENT='{{ENVIRONMENT}}'
ORCHA_REGION='{{REGION}}'
ORCHA_PARAMETER_ROOT='{{PARAMETER_ROOT}}'
ORCHA_DB_SECRET_ID='{{DB_SECRET_ID}}'
ORCHA_DB_HOST='{{DB_HOST}}'
ORCHA_DB_PORT='{{DB_PORT}}'
ORCHA_DB_NAME='{{DB_NAME}}'
ORCHA_INGEST_QUEUE_URL='{{INGEST_QUEUE_URL}}'
ORCHA_EMAIL_ACQUIRE_QUEUE_URL='{{EMAIL_ACQUIRE_QUEUE_URL}}'
ORCHA_DOCUMENTS_BUCKET='{{DOCUMENTS_BUCKET}}'
ORCHA_REGISTRY='{{REGISTRY}}'
ORCHA_APP_PORT='{{APP_PORT}}'
ORCHA_HEALTH_CHECK_PATH='{{HEALTH_CHECK_PATH}}'
ORCHA_EOF
chmod 0644 "$ROOT/etc/orcha/orcha.conf"

base64 -d <<'ORCHA_EOF' | gunzip > "$ROOT/opt/orcha/docker-compose.yml"
{{GZIP:docker-compose.yml}}
ORCHA_EOF

base64 -d <<'ORCHA_EOF' | gunzip > "$ROOT/opt/orcha/placeholder.py"
{{GZIP:placeholder.py}}
ORCHA_EOF
chmod 0644 "$ROOT/opt/orcha/placeholder.py"

base64 -d <<'ORCHA_EOF' | gunzip > "$ROOT/usr/local/bin/orcha-prepare"
{{GZIP:orcha-prepare.sh}}
ORCHA_EOF

base64 -d <<'ORCHA_EOF' | gunzip > "$ROOT/usr/local/bin/orcha-refresh"
{{GZIP:orcha-refresh.sh}}
ORCHA_EOF
chmod 0750 "$ROOT/usr/local/bin/orcha-prepare" "$ROOT/usr/local/bin/orcha-refresh"

base64 -d <<'ORCHA_EOF' | gunzip > "$ROOT/etc/systemd/system/orcha.service"
{{GZIP:orcha.service}}
ORCHA_EOF

base64 -d <<'ORCHA_EOF' | gunzip > "$ROOT/etc/systemd/system/orcha-placeholder.service"
{{GZIP:orcha-placeholder.service}}
ORCHA_EOF

# Both are enabled; their conditions on /opt/orcha/.env (the pinned image) start exactly one:
# the app once a deployment pinned an image, else the health-check placeholder. Do not wait
# for the application: the load balancer's health check decides if it is healthy.
log 'enabling orcha.service and orcha-placeholder.service'
systemctl daemon-reload
systemctl enable orcha.service orcha-placeholder.service
systemctl start --no-block orcha.service orcha-placeholder.service

# Last: once the agent runs, CodeDeploy deploys the group's last successful revision to this
# instance (its launch lifecycle hook), which calls orcha-refresh, written above.
log 'installing the CodeDeploy agent'
ruby -e 'require "json"' || { log 'Ruby cannot load json: the CodeDeploy installer would fail'; exit 1; }
codedeploy_installer="$(mktemp)"
curl -fsSL --retry 5 --retry-connrefused -o "$codedeploy_installer" \
  "https://aws-codedeploy-${REGION}.s3.${REGION}.amazonaws.com/latest/install"
chmod 0700 "$codedeploy_installer"
retry 3 "$codedeploy_installer" auto
rm -f "$codedeploy_installer"
systemctl enable --now codedeploy-agent
