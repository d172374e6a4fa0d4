#!/bin/bash
# orcha-refresh: deploys an image of the application. Called by the application's CodeDeploy
# hook (ApplicationStart) with the image of the revision being deployed, and usable by hand:
# pins the image, refreshes the settings, pulls, restarts orcha.service and waits until the
# app answers its health check on this host.
#
#   orcha-refresh [--image <registry>/<repository>:<tag or @digest>] [health-timeout-seconds]
#
# The CodeDeploy bundle carries image.env (IMAGE_URI=<repository uri>:<commit>), so a deployment
# and a rollback both run exactly the image built from their commit:
#   /usr/local/bin/orcha-refresh --image "$(sed -n 's/^IMAGE_URI=//p' image.env)"
# Without --image the image pinned by the last deployment is restarted.
set -euo pipefail

# shellcheck source=/dev/null
. /etc/orcha/orcha.conf

readonly LOG_FILE=/var/log/orcha/refresh.log
readonly IMAGE_FILE=/opt/orcha/.env
readonly COMPOSE=(docker compose --project-directory /opt/orcha -f /opt/orcha/docker-compose.yml)

exec > >(tee -a "$LOG_FILE") 2>&1
log() { printf '%s orcha-refresh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

image=''
if [[ "${1:-}" == --image ]]; then
  image="${2:-}"
  shift 2 || { log 'usage: orcha-refresh [--image <uri>] [health-timeout-seconds]'; exit 2; }
fi
readonly TIMEOUT="${1:-300}"

if [[ -n "$image" ]]; then
  # Only images of this environment's registry, in the shape docker accepts.
  if [[ "$image" != "$ORCHA_REGISTRY/"* || ! "$image" =~ ^[A-Za-z0-9./:@_-]+$ ]]; then
    log "refusing image '$image': not an image of $ORCHA_REGISTRY"
    exit 2
  fi
  tmp="$(mktemp /opt/orcha/.env.XXXXXX)"
  printf 'ORCHA_IMAGE=%s\n' "$image" > "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$IMAGE_FILE"
  log "pinned $image"
elif [[ ! -s "$IMAGE_FILE" ]]; then
  log 'no image deployed yet: pass --image <uri>'
  exit 2
fi

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
