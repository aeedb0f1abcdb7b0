import { ClusterConfig } from '../config/cluster-config';
import { buildCostReport } from '../cost/report';
import { NodeView } from './cluster';

export interface CostSoFar {
  readonly usd: number;
  /** Some lines have no known price: the sum is a lower bound. */
  readonly lowerBound: boolean;
  readonly priceDate: string;
  readonly priceSource: string;
  /** Compute paid up front for a Capacity Block, not counted here. */
  readonly capacityBlockPrepaid: boolean;
}

const HOUR_MS = 3_600_000;

/**
 * What the stack has cost until `now`, at the cost review's prices (lib/cost, the same lines `cdk synth` prints,
 * computed from the deployed template): each on-demand instance line × the hours its instance has run since its
 * last start (EC2 LaunchTime; a stopped instance up to its stop time), every other line × the hours since the
 * stack was created. Capacity Block compute was paid at purchase and is not counted again.
 */
export function costSoFar(input: {
  readonly template: object;
  readonly config: ClusterConfig;
  readonly nodes: readonly NodeView[];
  readonly stackCreated: Date;
  readonly now: Date;
}): CostSoFar {
  const report = buildCostReport({ template: input.template, region: input.config.region });
  const stackHours = Math.max(0, (input.now.getTime() - input.stackCreated.getTime()) / HOUR_MS);
  let usd = 0;
  for (const line of report.lines) {
    if (line.hourlyUsd === null || line.pricing === 'capacity-block') continue;
    if (line.pricing === 'on-demand' && line.stopsWithInstances) {
      const node = input.nodes.find((n) => n.logicalId === line.logicalId);
      usd += line.hourlyUsd * (node ? runningHours(node, input.now) : 0);
    } else {
      usd += line.hourlyUsd * stackHours;
    }
  }
  return {
    usd: Math.round(usd * 100) / 100,
    lowerBound: report.unknownLines.length > 0,
    priceDate: report.priceDate,
    priceSource: report.priceSource,
    capacityBlockPrepaid: report.lines.some((l) => l.pricing === 'capacity-block'),
  };
}

/** Hours since the instance's last start; for a stopped one, up to the stop time EC2 records in its reason. */
export function runningHours(node: NodeView, now: Date): number {
  if (!node.launchTime) return 0;
  let until: number | undefined;
  if (node.state === 'pending' || node.state === 'running') until = now.getTime();
  else {
    const stopped = /\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) GMT\)/.exec(node.stateReason ?? '');
    until = stopped ? Date.parse(`${stopped[1].replace(' ', 'T')}Z`) : undefined;
  }
  return until === undefined ? 0 : Math.max(0, (until - node.launchTime.getTime()) / HOUR_MS);
}
