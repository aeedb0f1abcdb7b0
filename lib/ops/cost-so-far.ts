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
  /** Nodes no longer running (stopped by the spend guard, by hand, or terminated): their compute ends at `at`. */
  readonly ended: readonly EndedNode[];
}

export interface EndedNode {
  readonly name: string;
  readonly state: string;
  /** When it stopped, from EC2's state reason; undefined when the reason carries no time (its compute is not counted). */
  readonly at?: Date;
  readonly reason?: string;
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
  let unknownStop = false;
  for (const line of report.lines) {
    if (line.hourlyUsd === null || line.pricing === 'capacity-block') continue;
    if (line.pricing === 'on-demand' && line.stopsWithInstances) {
      const node = input.nodes.find((n) => n.logicalId === line.logicalId);
      if (node && !isRunning(node) && stopTime(node) === undefined) unknownStop = true;
      usd += line.hourlyUsd * (node ? runningHours(node, input.now) : 0);
    } else {
      usd += line.hourlyUsd * stackHours;
    }
  }
  return {
    usd: Math.round(usd * 100) / 100,
    lowerBound: report.unknownLines.length > 0 || unknownStop,
    priceDate: report.priceDate,
    priceSource: report.priceSource,
    capacityBlockPrepaid: report.lines.some((l) => l.pricing === 'capacity-block'),
    ended: input.nodes.filter((n) => !isRunning(n)).map((n) => ({ name: n.name, state: n.state, at: stopTime(n), reason: n.stateReason })),
  };
}

/** EC2 bills an instance's usage while it is running (the EC2 User Guide's instance lifecycle table). */
function isRunning(node: NodeView): boolean {
  return node.state === 'pending' || node.state === 'running';
}

/**
 * When a node that is not running stopped: the time EC2 writes into its StateTransitionReason, e.g.
 * `User initiated (2026-11-24 20:00:12 GMT)` (a StopInstances call, the spend guard's too; some tools and the EC2
 * docs' examples write UTC instead of GMT).
 */
export function stopTime(node: NodeView): Date | undefined {
  if (isRunning(node)) return undefined;
  const stopped = /\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)/.exec(node.stateReason ?? '');
  return stopped ? new Date(`${stopped[1].replace(' ', 'T')}Z`) : undefined;
}

/** Hours since the instance's last start; for a stopped one, up to the stop time EC2 records in its reason. */
export function runningHours(node: NodeView, now: Date): number {
  if (!node.launchTime) return 0;
  const until = isRunning(node) ? now : stopTime(node);
  return until === undefined ? 0 : Math.max(0, (until.getTime() - node.launchTime.getTime()) / HOUR_MS);
}
