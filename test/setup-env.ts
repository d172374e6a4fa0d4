// The CDK's WASM "CloudFormation Validate" plugin costs ~1.5 s per synth. Unit tests
// assert templates directly; the plugin still runs in `cdk synth` and in CI's synth.
process.env.CDK_VALIDATION = 'false';
// Lambda bundling is real (esbuild) but must not print progress into test output.
process.env.CDK_DISABLE_CLI_TELEMETRY = '1';
