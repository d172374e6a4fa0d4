#!/bin/bash
# Run by the app pipeline's Record stage (CodeBuild), after CodeDeploy deployed the bundle
# successfully, in the bundle's directory. Adds the tag <DEPLOYED_TAG_PREFIX><tag> (e.g.
# deployed-prod-<commit>) to the image of image.env, without pulling it: ECR's lifecycle rule of
# highest priority keeps the newest deployed images whatever else is pushed (rollback targets).
#
# Then moves the tag CURRENT_TAG (e.g. deployed-prod) to it: the image the environment runs now, which
# the infrastructure pipeline's migration test migrates with.
#
# Environment: REPOSITORY_URI, IMAGE_REPO_NAME, DEPLOYED_TAG_PREFIX, CURRENT_TAG (set by the project).
set -euo pipefail

image_uri="$(sed -n 's/^IMAGE_URI=//p' image.env)"
if [[ "$image_uri" != "$REPOSITORY_URI:"?* ]]; then
  echo "image.env: IMAGE_URI '$image_uri' is not <tag> of $REPOSITORY_URI" >&2
  exit 1
fi
tag="${image_uri##*:}"
deployed="${DEPLOYED_TAG_PREFIX}${tag}"

image_json="$(aws ecr batch-get-image --repository-name "$IMAGE_REPO_NAME" \
  --image-ids "imageTag=$tag" --output json --accepted-media-types \
  application/vnd.docker.distribution.manifest.v2+json \
  application/vnd.docker.distribution.manifest.list.v2+json \
  application/vnd.oci.image.manifest.v1+json \
  application/vnd.oci.image.index.v1+json)"
if ! manifest="$(jq -er '.images[0].imageManifest' <<< "$image_json")"; then
  echo "no image $IMAGE_REPO_NAME:$tag to tag: $(jq -c '.failures' <<< "$image_json")" >&2
  exit 1
fi
media_type="$(jq -er '.images[0].imageManifestMediaType' <<< "$image_json")"

# Adds tag $1 to the image (moves it there if another image has it; the repository's tags are mutable).
put_tag() {
  local out
  if out="$(aws ecr put-image --repository-name "$IMAGE_REPO_NAME" --image-tag "$1" \
    --image-manifest "$manifest" --image-manifest-media-type "$media_type" 2>&1)"; then
    echo "tagged $IMAGE_REPO_NAME:$tag as $1"
  elif grep -q ImageAlreadyExistsException <<< "$out"; then
    echo "$IMAGE_REPO_NAME:$tag is already tagged $1"
  else
    printf '%s\n' "$out" >&2
    exit 1
  fi
}

put_tag "$deployed"
# Last, once the commit's own tag (which the lifecycle policy keeps) is in place.
put_tag "$CURRENT_TAG"
