// The floor of the synth benchmark: the same CLI, runner and feature flags, one empty stack.
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Empty', { env: { account: '700558745280', region: 'eu-central-1' } });
