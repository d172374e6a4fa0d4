#!/bin/bash
# CodeDeploy ValidateService hook: this revision's image is the one pinned on the instance and
# the app answers its health check. Paths derive from this script's location (see
# application-start.sh).
set -euo pipefail

root="${ORCHA_ROOT:-}"
bundle="$(cd "$(dirname "$0")/.." && pwd)"
expected="$(sed -n 's/^IMAGE_URI=//p' "$bundle/image.env")"
pinned="$(sed -n 's/^ORCHA_IMAGE=//p' "$root/opt/orcha/.env" 2> /dev/null || true)"
if [[ -z "$expected" || "$pinned" != "$expected" ]]; then
  echo "validate-service: pinned image '$pinned' is not this revision's '$expected'" >&2
  exit 1
fi
# shellcheck source=/dev/null
. "$root/etc/orcha/orcha.conf"
url="http://127.0.0.1:${ORCHA_APP_PORT}${ORCHA_HEALTH_CHECK_PATH}"
if ! curl -fsS -o /dev/null --max-time 5 "$url"; then
  echo "validate-service: $url does not answer" >&2
  exit 1
fi
echo "validate-service: $pinned is running and healthy at $url"
