import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentImageTag, deployedImageTagPrefix } from '../../lib/config/app-contract';
import { TAG_DEPLOYED_SCRIPT } from '../../lib/constructs/app-pipeline';

/**
 * The app pipeline's Record stage: after a successful deployment it tags the deployed image
 * `deployed-<env>-<tag>`, which the repository's first lifecycle rule keeps. The buildspec's
 * command is the script, run here with a recording `aws` stub (real bash and jq).
 */

const REPOSITORY_URI = '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha';
const COMMIT = '1111111111111111111111111111111111111111';
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' });

let dir: string;

function run(imageEnv: string, putImage = 'ok') {
  fs.writeFileSync(path.join(dir, 'image.env'), imageEnv);
  fs.writeFileSync(path.join(dir, 'calls.log'), '');
  const r = spawnSync('bash', ['-c', fs.readFileSync(TAG_DEPLOYED_SCRIPT, 'utf8')], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}`,
      REPOSITORY_URI,
      IMAGE_REPO_NAME: 'v1-orcha',
      DEPLOYED_TAG_PREFIX: deployedImageTagPrefix('prod'),
      CURRENT_TAG: currentImageTag('prod'),
      STUB_DIR: dir,
      PUT_IMAGE: putImage,
    },
  });
  const calls = fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').split('\n').filter(Boolean);
  return { status: r.status, output: `${r.stdout}${r.stderr}`, calls };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orcha-record-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(
    path.join(dir, 'bin', 'aws'),
    `#!/bin/bash
printf '%s\\n' "aws $*" >> "$STUB_DIR/calls.log"
case "$2" in
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
esac
`,
    { mode: 0o755 },
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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
