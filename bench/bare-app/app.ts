// The benchmark's baseline: a bare CDK app with one empty stack, run the same way as ours (cdk CLI + tsx).
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Bare', { env: { region: 'us-east-1' } });
app.synth();
