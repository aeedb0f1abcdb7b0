import { Stack } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { P5RayCluster, clustersIn } from './p5-ray-cluster';
import { LiveRefreshOptions } from '../cost/live-prices';
import { CostReport, reviewCost } from '../cost/report';

export interface ClusterCostReview {
  readonly cluster: P5RayCluster;
  readonly stackName: string;
  readonly report: CostReport;
}

export interface ClusterCostReviewOptions {
  /** Refresh instance prices from the AWS Price List API (falls back to the dated tables with a warning). */
  readonly live?: boolean;
  readonly liveOptions?: LiveRefreshOptions;
}

/**
 * The cost review of every P5RayCluster under `root` (an app, or any construct), each from its stack's
 * synthesized template plus the cluster's `costInputs`: an app-level step that works for any app containing the
 * construct. Call it with the assembly `app.synth()` returned.
 */
export async function reviewClusterCosts(root: IConstruct, assembly: CloudAssembly,
  options: ClusterCostReviewOptions = {}): Promise<ClusterCostReview[]> {
  return Promise.all(clustersIn(root).map(async (cluster) => {
    const stack = Stack.of(cluster);
    const report = await reviewCost({
      template: assembly.getStackArtifact(stack.artifactId).template as object,
      region: stack.region,
      ...cluster.costInputs,
      live: options.live,
      liveOptions: options.liveOptions,
    });
    return { cluster, stackName: stack.stackName, report };
  }));
}
