import { cdkAppContext } from '../lib/config/project';

// The CDK's WASM "CloudFormation Validate" plugin costs ~1.5 s per synth. Unit tests
// assert templates directly; the plugin still runs in `cdk synth` and in CI's synth.
process.env.CDK_VALIDATION = 'false';
process.env.CDK_DISABLE_CLI_TELEMETRY = '1';

// Every `new App()` in a test gets the feature flags and context of cdk.json and
// cdk.context.json, exactly as `cdk synth` does.
process.env.CDK_CONTEXT_JSON = JSON.stringify(cdkAppContext());

// Lambda handlers log through Powertools (JSON lines to stdout); tests assert on behaviour.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

// The CDK writes `Bundling asset <path>...` to stderr on every bundling, with no switch to turn it
// off; in a test run that is one line per asset per synth per file. Drop exactly those lines.
const BUNDLING_NOTICE = /^Bundling asset \S+\.\.\.\r?\n$/;
const writeStderr = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]): boolean =>
  typeof chunk === 'string' && BUNDLING_NOTICE.test(chunk)
    ? true
    : writeStderr(chunk, ...rest)) as typeof process.stderr.write;
