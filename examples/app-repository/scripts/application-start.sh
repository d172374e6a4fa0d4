#!/bin/bash
# CodeDeploy ApplicationStart hook: deploys the image of this revision.
#
# The CodeDeploy agent runs hooks with its own working directory (/opt/codedeploy-agent), not
# the bundle's: every path is derived from this script's location. The bundle's root is the
# parent of scripts/: <deployment-root>/<group id>/<deployment id>/deployment-archive/.
# A rollback is a new deployment of the earlier revision: its own image.env pins its own image.
set -euo pipefail

bundle="$(cd "$(dirname "$0")/.." && pwd)"
image_env="$bundle/image.env"
if [[ ! -s "$image_env" ]]; then
  echo "application-start: $image_env is missing or empty (the build writes it)" >&2
  exit 1
fi
image="$(sed -n 's/^IMAGE_URI=//p' "$image_env")"
if [[ -z "$image" ]]; then
  echo "application-start: $image_env has no IMAGE_URI=<repository uri>:<tag>" >&2
  exit 1
fi
echo "deploying $image (deployment ${DEPLOYMENT_ID:-?}, ${LIFECYCLE_EVENT:-?})"
# ORCHA_ROOT is unset on instances (only the infrastructure repository's tests set it).
exec "${ORCHA_ROOT:-}/usr/local/bin/orcha-refresh" --image "$image"
