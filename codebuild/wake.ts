/**
 * The infrastructure pipeline's `<Stage>-Wake` step (lib/pipeline/wake-step.ts): wakes an
 * environment that sleeps outside office hours before the pipeline deploys it, with the ops
 * command people run for the same purpose (scripts/ops/commands/wake.ts), so that there is one
 * implementation.
 *
 * Usage: npx tsx codebuild/wake.ts --env <env> [--role-arn <arn>] [--wait <s>] [--poll <s>] [--allow-missing]
 * (the options of `npm run ops -- wake`). Exit codes: those of the ops tools (0 awake or nothing to
 * wake, 1 not awake in time, 2 usage or configuration, 3 credentials).
 */
import { main } from '../scripts/ops/program';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void main([process.argv[0] ?? 'node', 'wake', 'wake', ...process.argv.slice(2)]).then((code) => {
  process.exitCode = code;
});
