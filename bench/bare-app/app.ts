// The synth benchmark's baseline: a bare CDK app with one empty stack, run the same way as ours (cdk CLI, node
// with bin/register-ts.js) and, like ours by default, without aws-cdk-lib's built-in CloudFormation validation,
// so the ratio compares like with like.
import { App, Stack } from 'aws-cdk-lib';

const app = new App({ builtinCloudFormationValidation: false });
new Stack(app, 'Bare', { env: { region: 'us-east-1' } });
app.synth();
