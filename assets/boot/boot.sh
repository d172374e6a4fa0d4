#!/bin/bash
# Boot script (EC2 user data) of an Orcha application instance: Amazon Linux 2023, ARM64.
#
# Installs Docker and the compose plugin, the CloudWatch agent and the CodeDeploy agent,
# writes the instance's Orcha files (settings, docker-compose.yml, helper scripts, systemd
# unit) and starts orcha.service, which runs the app and worker containers. Ends with
# cfn-signal, so that a broken boot fails the deployment instead of leaving a broken host.
#
# This file is a template: lib/constructs/app-instance-boot.ts replaces its placeholders at
# synth time (values are deterministic: names, ports and CloudFormation references).
# Nothing here prints a setting's value; secrets are read by orcha-prepare at service start.
set -euo pipefail

readonly BOOT_LOG=/var/log/orcha/boot.log
install -d -m 0750 /var/log/orcha
exec > >(tee -a "$BOOT_LOG") 2>&1

log() { printf '%s boot: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

finish() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then log 'boot complete'; else log "boot FAILED (exit status $rc)"; fi
  /opt/aws/bin/cfn-signal --exit-code "$rc" --stack '{{STACK_NAME}}' \
    --resource '{{SIGNAL_RESOURCE}}' --region '{{REGION}}' || log 'cfn-signal failed'
}
trap finish EXIT

readonly REGION='{{REGION}}'
# docker compose plugin: pinned release and its published SHA-256 (docker-compose-linux-aarch64).
readonly COMPOSE_VERSION='v2.40.3'
readonly COMPOSE_SHA256='d26373b19e89160546d15407516cc59f453030d9bc5b43ba7faf16f7b4980137'
readonly COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
readonly CWAGENT_CONFIG=/opt/aws/amazon-cloudwatch-agent/etc/orcha.json

if [[ "$(uname -m)" != aarch64 ]]; then
  log "unsupported architecture $(uname -m): this script installs aarch64 binaries"
  exit 1
fi

log 'installing packages'
dnf install -y --setopt=install_weak_deps=False \
  docker amazon-cloudwatch-agent aws-cfn-bootstrap ruby wget jq

log 'configuring the CloudWatch agent'
cat > "$CWAGENT_CONFIG" <<'ORCHA_EOF'
{{FILE:amazon-cloudwatch-agent.json}}
ORCHA_EOF
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl \
  -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG"

log 'starting Docker'
systemctl enable --now docker

log "installing the docker compose plugin $COMPOSE_VERSION"
compose_download="$(mktemp)"
curl -fsSL --retry 5 --retry-connrefused -o "$compose_download" \
  "https://github.com/docker/compose/releases/download/${COMPOSE_VERSION}/docker-compose-linux-aarch64"
printf '%s  %s\n' "$COMPOSE_SHA256" "$compose_download" | sha256sum --check --strict -
install -D -m 0755 "$compose_download" "$COMPOSE_PLUGIN"
rm -f "$compose_download"
docker compose version

log 'installing the CodeDeploy agent'
codedeploy_installer="$(mktemp)"
curl -fsSL --retry 5 --retry-connrefused -o "$codedeploy_installer" \
  "https://aws-codedeploy-${REGION}.s3.${REGION}.amazonaws.com/latest/install"
chmod 0700 "$codedeploy_installer"
"$codedeploy_installer" auto
rm -f "$codedeploy_installer"
systemctl enable --now codedeploy-agent

log 'writing the Orcha files'
install -d -m 0755 /etc/orcha /opt/orcha
# Settings that are not secret: where the secrets and resources are. Secrets are fetched
# by orcha-prepare into /etc/orcha/orcha.env (mode 0600) each time orcha.service starts.
cat > /etc/orcha/orcha.conf <<'ORCHA_EOF'
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
chmod 0644 /etc/orcha/orcha.conf

cat > /opt/orcha/docker-compose.yml <<'ORCHA_EOF'
{{FILE:docker-compose.yml}}
ORCHA_EOF

cat > /usr/local/bin/orcha-prepare <<'ORCHA_EOF'
{{FILE:orcha-prepare.sh}}
ORCHA_EOF

cat > /usr/local/bin/orcha-refresh <<'ORCHA_EOF'
{{FILE:orcha-refresh.sh}}
ORCHA_EOF
chmod 0750 /usr/local/bin/orcha-prepare /usr/local/bin/orcha-refresh

cat > /etc/systemd/system/orcha.service <<'ORCHA_EOF'
{{FILE:orcha.service}}
ORCHA_EOF

log 'enabling orcha.service'
systemctl daemon-reload
systemctl enable orcha.service
# Do not wait for the application: until an image is in the repository the service keeps
# retrying; the load balancer's health check, not the boot, decides if the app is healthy.
systemctl start --no-block orcha.service
