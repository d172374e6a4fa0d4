import * as fs from 'node:fs';
import * as path from 'node:path';
import { currentImageTag, deployedImageTagPrefix } from '../../lib/config/app-contract';
import { TAG_DEPLOYED_SCRIPT } from '../../lib/constructs/app-pipeline';
import { RecordingStubs } from '../helpers/stubs';

/**
 * The app pipeline's Record stage: after a successful deployment it tags the deployed image
 * `deployed-<env>-<tag>`, which the repository's first lifecycle rule keeps. The buildspec's
 * command is the script, run here with a recording `aws` stub (real bash and jq).
 */

const REPOSITORY_URI = '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha';
const COMMIT = '1111111111111111111111111111111111111111';
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' });

let stubs: RecordingStubs;

function run(imageEnv: string, putImage = 'ok') {
  fs.writeFileSync(path.join(stubs.root, 'image.env'), imageEnv);
  stubs.clearCalls();
  const r = stubs.run('bash', ['-c', fs.readFileSync(TAG_DEPLOYED_SCRIPT, 'utf8')], {
    env: {
      REPOSITORY_URI,
      IMAGE_REPO_NAME: 'v1-orcha',
      DEPLOYED_TAG_PREFIX: deployedImageTagPrefix('prod'),
      CURRENT_TAG: currentImageTag('prod'),
      PUT_IMAGE: putImage,
    },
  });
  return { ...r, calls: stubs.calls() };
}

beforeAll(() => {
  stubs = new RecordingStubs('orcha-record-');
  stubs.add(
    'aws',
    `case "$2" in
  batch-get-image)
    if [[ "$*" == *"imageTag=${COMMIT}"* ]]; then
      jq -n --arg m '${MANIFEST}' '{images: [{imageManifest: $m, imageManifestMediaType: "application/vnd.oci.image.index.v1+json"}], failures: []}'
    else
      echo '{"images": [], "failures": [{"failureCode": "ImageNotFound"}]}'
    fi ;;
  put-image)
    case "$PUT_IMAGE" in
      ok) echo '{}' ;;
      exists) echo 'An error occurred (ImageAlreadyExistsException) when calling the PutImage operation' >&2; exit 254 ;;
      *) echo 'An error occurred (AccessDeniedException)' >&2; exit 254 ;;
    esac ;;
esac`,
  );
});
afterAll(() => stubs.dispose());

test('tags the image of image.env deployed-prod-<commit>, with its own manifest and media type', () => {
  const r = run(`IMAGE_URI=${REPOSITORY_URI}:${COMMIT}\n`);
  expect(r.output).toContain(`tagged v1-orcha:${COMMIT} as deployed-prod-${COMMIT}`);
  expect(r.status).toBe(0);
  expect(r.calls[1]).toBe(
    `aws ecr put-image --repository-name v1-orcha --image-tag deployed-prod-${COMMIT} --image-manifest ${MANIFEST} --image-manifest-media-type application/vnd.oci.image.index.v1+json`,
  );
});

test('then moves deployed-prod (the image prod runs now, what the infra migration test uses) to it, last', () => {
  const r = run(`IMAGE_URI=${REPOSITORY_URI}:${COMMIT}\n`);
  expect(r.status).toBe(0);
  expect(r.calls).toHaveLength(3);
  expect(r.calls[2]).toBe(
    `aws ecr put-image --repository-name v1-orcha --image-tag deployed-prod --image-manifest ${MANIFEST} --image-manifest-media-type application/vnd.oci.image.index.v1+json`,
  );
  expect(r.output).toContain(`tagged v1-orcha:${COMMIT} as deployed-prod\n`);
});

test('a tag already there (a redeploy of the same commit) is success', () => {
  const r = run(`IMAGE_URI=${REPOSITORY_URI}:${COMMIT}\n`, 'exists');
  expect(r.status).toBe(0);
  expect(r.output).toContain('already tagged');
});

test.each([
  ['no IMAGE_URI', 'OTHER=1\n', /is not <tag> of/],
  ['another repository', `IMAGE_URI=docker.io/library/nginx:${COMMIT}\n`, /is not <tag> of/],
  ['an image that is not there', `IMAGE_URI=${REPOSITORY_URI}:2222\n`, /no image v1-orcha:2222 to tag/],
])('fails on %s', (_what, imageEnv, message) => {
  const r = run(imageEnv);
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(message);
  expect(r.calls.filter((c) => c.includes('put-image'))).toEqual([]);
});

test('fails when ECR refuses the tag', () => {
  expect(run(`IMAGE_URI=${REPOSITORY_URI}:${COMMIT}\n`, 'denied').status).not.toBe(0);
});
