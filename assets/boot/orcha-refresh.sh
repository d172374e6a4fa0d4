#!/bin/bash
# orcha-refresh: deploys the newest image. Called by the application's CodeDeploy hook
# (ApplicationStart) and usable by hand: refreshes the settings, pulls the images, restarts
# orcha.service and waits until the app answers its health check on this host.
#
#   orcha-refresh [health-timeout-seconds]   (default 300)
set -euo pipefail

# shellcheck source=/dev/null
. /etc/orcha/orcha.conf

readonly TIMEOUT="${1:-300}"
readonly LOG_FILE=/var/log/orcha/refresh.log
readonly COMPOSE=(docker compose --project-directory /opt/orcha -f /opt/orcha/docker-compose.yml)

exec > >(tee -a "$LOG_FILE") 2>&1
log() { printf '%s orcha-refresh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

log 'refreshing settings and registry login'
/usr/local/bin/orcha-prepare
log 'pulling images'
"${COMPOSE[@]}" pull --quiet
log 'restarting orcha.service'
systemctl restart orcha.service

readonly URL="http://127.0.0.1:${ORCHA_APP_PORT}${ORCHA_HEALTH_CHECK_PATH}"
deadline=$((SECONDS + TIMEOUT))
until curl -fsS -o /dev/null --max-time 5 "$URL"; do
  if ((SECONDS >= deadline)); then
    log "the app did not become healthy at $URL within ${TIMEOUT}s"
    "${COMPOSE[@]}" ps
    exit 1
  fi
  sleep 5
done
log "healthy at $URL"

# Keep the disk from filling up with superseded images (the last week's stay for rollback).
docker image prune --force --filter 'until=168h' > /dev/null
