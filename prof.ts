const t0 = Date.now();
const lap = (what: string) => process.stderr.write(`${what}: ${Date.now() - t0} ms\n`);
import('aws-cdk-lib').then(async (cdk) => {
  lap('aws-cdk-lib');
  const { synthesizeCluster } = await import('./lib/app'); lap('app module (all imports)');
  const app = new cdk.App({ outdir: '/tmp/prof-out4', builtinCloudFormationValidation: false });
  await synthesizeCluster(app, { context: {}, readFile: () => '', log: () => undefined });
  lap('synthesized');
});
