#!/bin/bash
# orcha-refresh: deploys an image of the application. Called by the application's CodeDeploy
# hook (ApplicationStart, see examples/app-repository/scripts/application-start.sh) with the
# image of the revision being deployed, and usable by hand: pins the image, refreshes the
# settings, pulls, restarts orcha.service and waits until the app answers its health check on
# this host.
#
#   orcha-refresh --image <registry>/<repository>:<tag>|@sha256:<digest> [health-timeout-seconds]
#   orcha-refresh [--current] [health-timeout-seconds]  restarts the image pinned last
#                                                       (after a settings change)
#
# An empty or malformed --image is refused (exit 2): a hook that could not read its image.env
# must fail the deployment, never restart the previous image and report success.
#
# ORCHA_ROOT (default: empty, i.e. /) prefixes every path; only tests set it.
set -euo pipefail

readonly ROOT="${ORCHA_ROOT:-}"
# shellcheck source=/dev/null
. "$ROOT/etc/orcha/orcha.conf"

readonly LOG_FILE="$ROOT/var/log/orcha/refresh.log"
readonly IMAGE_FILE="$ROOT/opt/orcha/.env"
readonly COMPOSE=(docker compose --project-directory "$ROOT/opt/orcha" -f "$ROOT/opt/orcha/docker-compose.yml")
readonly USAGE='usage: orcha-refresh [--image <uri> | --current] [health-timeout-seconds]'

exec > >(tee -a "$LOG_FILE") 2>&1
log() { printf '%s orcha-refresh: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

case "${1:-}" in
  --image)
    if (($# < 2)); then log "$USAGE"; exit 2; fi
    mode=pin image="$2"
    shift 2
    ;;
  --current)
    mode=current image=''
    shift
    ;;
  '' | [0-9]*) mode=current image='' ;;
  *) log "$USAGE"; exit 2 ;;
esac
readonly TIMEOUT="${1:-300}"
if [[ ! "$TIMEOUT" =~ ^[1-9][0-9]{0,4}$ ]]; then
  log "health timeout must be a number of seconds, got '$TIMEOUT'"
  exit 2
fi

# <registry>/<repository path>:<tag> or @sha256:<digest>, from this environment's registry only.
readonly IMAGE_PATTERN='^[a-z0-9][a-z0-9./_-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$'
if [[ "$mode" == pin ]]; then
  if [[ "$image" != "$ORCHA_REGISTRY/"?* || ! "$image" =~ $IMAGE_PATTERN ]]; then
    log "refusing image '$image': not <repository uri>:<tag> of $ORCHA_REGISTRY"
    exit 2
  fi
  tmp="$(mktemp "$ROOT/opt/orcha/.env.XXXXXX")"
  printf 'ORCHA_IMAGE=%s\n' "$image" > "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$IMAGE_FILE"
  log "pinned $image"
elif [[ ! -s "$IMAGE_FILE" ]]; then
  log 'no image pinned yet: pass --image <uri>'
  exit 2
else
  log "restarting the pinned $(sed -n 's/^ORCHA_IMAGE=//p' "$IMAGE_FILE")"
fi

log 'refreshing settings and registry login'
"$ROOT/usr/local/bin/orcha-prepare"
log 'pulling images'
"${COMPOSE[@]}" pull --quiet
# orcha.service runs only once an image is pinned (ConditionPathExists); it stops the
# placeholder that answered the load balancer's health check until then (Conflicts=).
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
