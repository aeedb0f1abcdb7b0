import {
  DescribeStackEventsCommand, DescribeStackResourceCommand, DescribeStacksCommand, GetTemplateCommand, StackEvent,
} from '@aws-sdk/client-cloudformation';
import { DescribeLogStreamsCommand, GetLogEventsCommand, LogStream } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeInstancesCommand, Instance } from '@aws-sdk/client-ec2';
import { AwsCallError, AwsClients, awsCall } from '../cli/aws';
import { CommandFailure } from '../cli/command';
import { ClusterConfig, hasSeparateHead } from '../config/cluster-config';
import { LogEvent, parseStreamName } from './bootstrap-log';
import {
  CFN_LOGICAL_ID_TAG, CFN_STACK_ID_TAG, NODE_GENERATION_TAG, bootstrapLogGroupName, nodeFromNameTag, readinessGateLogicalId,
} from '../catalog/stack-names';

/** What DescribeStacks says about the stack. */
export interface StackView {
  readonly name: string;
  readonly id: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly created: Date;
  readonly outputs: Readonly<Record<string, string>>;
}

/** The stack, or undefined when CloudFormation has no stack of that name in the region. */
export async function describeStack(clients: AwsClients, stackName: string): Promise<StackView | undefined> {
  try {
    const out = await awsCall('cloudformation:DescribeStacks', clients.region,
      () => clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName })));
    const s = out.Stacks?.[0];
    if (!s?.StackName || !s.StackId || !s.StackStatus) return undefined;
    const outputs: Record<string, string> = {};
    for (const o of s.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    return { name: s.StackName, id: s.StackId, status: s.StackStatus, statusReason: s.StackStatusReason, created: s.CreationTime ?? new Date(0), outputs };
  } catch (error) {
    // CloudFormation answers a missing stack with ValidationError "Stack with id X does not exist".
    if (error instanceof AwsCallError && error.code === 'ValidationError' && /does not exist/.test(String((error.cause as Error).message))) return undefined;
    throw error;
  }
}

export function noStack(config: ClusterConfig): CommandFailure {
  return new CommandFailure(`no stack ${config.stackName} in ${config.region} (CloudFormation DescribeStacks): run \`npm run preflight\`, ` +
    'then `npx cdk deploy`; or select another with -c stackName=… / -c region=… / -c config=cluster.yaml');
}

/** The stack, or the one-line failure that it does not exist. */
export async function requireStack(clients: AwsClients, config: ClusterConfig): Promise<StackView> {
  const stack = await describeStack(clients, config.stackName);
  if (!stack) throw noStack(config);
  return stack;
}

export type StackPhase = 'in-progress' | 'ready' | 'failed' | 'gone';

/**
 * What a stack status means for a deploy: ready when created or updated, failed as soon as CloudFormation is rolling
 * back or has failed (the readiness gate or a resource failed), gone when deleted.
 */
export function stackPhase(status: string): StackPhase {
  if (/^(CREATE|UPDATE|IMPORT)_COMPLETE$/.test(status)) return 'ready';
  if (/^DELETE_/.test(status) && status !== 'DELETE_FAILED') return 'gone';
  if (/FAILED|ROLLBACK/.test(status)) return 'failed';
  return 'in-progress';
}

/** One node of the cluster, as EC2 knows it. */
export interface NodeView {
  /** `gpu-<i>` or `head`. */
  readonly name: string;
  readonly isRayHead: boolean;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly state: string;
  readonly launchTime?: Date;
  readonly logicalId?: string;
  /** EC2's StateTransitionReason, e.g. `User initiated (2026-11-24 20:00:12 GMT)`. */
  readonly stateReason?: string;
  /** The node generation the instance was launched in (its launch template's tag). */
  readonly generation?: string;
}

/**
 * The stack's instances, found by the tag CloudFormation puts on every instance it creates (the stack id, so an
 * older stack of the same name is not mixed in). Named from their Name tag; when an instance was replaced, the
 * live one wins.
 */
export async function clusterNodes(clients: AwsClients, stack: StackView): Promise<NodeView[]> {
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await awsCall('ec2:DescribeInstances', clients.region, () => clients.ec2.send(new DescribeInstancesCommand({
      Filters: [{ Name: `tag:${CFN_STACK_ID_TAG}`, Values: [stack.id] }], NextToken,
    })));
    for (const r of out.Reservations ?? []) instances.push(...(r.Instances ?? []));
    NextToken = out.NextToken;
    if (!NextToken) break;
  }
  const byName = new Map<string, NodeView>();
  for (const i of instances) {
    const tag = (key: string) => i.Tags?.find((t) => t.Key === key)?.Value;
    const named = nodeFromNameTag(stack.name, tag('Name'));
    if (!named || !i.InstanceId) continue;
    const node: NodeView = {
      name: named.name, isRayHead: named.isRayHead, instanceId: i.InstanceId, instanceType: i.InstanceType ?? '?',
      availabilityZone: i.Placement?.AvailabilityZone ?? '?', state: i.State?.Name ?? '?', launchTime: i.LaunchTime,
      logicalId: tag(CFN_LOGICAL_ID_TAG), stateReason: i.StateTransitionReason || undefined, generation: tag(NODE_GENERATION_TAG),
    };
    const existing = byName.get(node.name);
    if (!existing || liveness(node) > liveness(existing) ||
      (liveness(node) === liveness(existing) && (node.launchTime?.getTime() ?? 0) > (existing.launchTime?.getTime() ?? 0))) {
      byName.set(node.name, node);
    }
  }
  return [...byName.values()].sort((a, b) => nodeOrder(a.name) - nodeOrder(b.name));
}

function liveness(node: NodeView): number {
  return node.state === 'terminated' || node.state === 'shutting-down' ? 0 : 1;
}

/** GPU nodes in index order, then the head. */
export function nodeOrder(name: string): number {
  return name === 'head' ? 1e6 : Number(/\d+$/.exec(name)?.[0] ?? 1e5);
}

/** The nodes this configuration creates, by name: what status shows before they are launched. */
export function expectedNodes(config: ClusterConfig): string[] {
  const gpus = Array.from({ length: config.gpuNodes }, (_, i) => `gpu-${i}`);
  return hasSeparateHead(config) ? [...gpus, 'head'] : gpus;
}

/**
 * Picks a node by the name users type (`gpu-1`, `head`, or an instance id); none means the Ray head. With the head
 * on GPU node 0, `head` is that node.
 */
export function pickNode(nodes: readonly NodeView[], wanted: string | undefined): NodeView {
  const match = wanted === undefined || wanted === 'head'
    ? nodes.find((n) => n.isRayHead)
    : nodes.find((n) => n.name === wanted || n.instanceId === wanted);
  if (!match) {
    const known = nodes.map((n) => `${n.name}${n.isRayHead && n.name !== 'head' ? ' (or head)' : ''}`).join(', ') || 'none yet';
    throw new CommandFailure(`no node ${wanted ?? 'running the Ray head'} in this stack: the nodes are ${known}`, 2);
  }
  return match;
}

/**
 * The node generation of the live nodes: the newest launched one's (during an update that replaces them, the new
 * set is launched after the old one). Undefined before any node exists.
 */
export function currentGeneration(nodes: readonly NodeView[]): string | undefined {
  const live = nodes.filter((n) => n.generation && liveness(n) > 0)
    .sort((a, b) => (b.launchTime?.getTime() ?? 0) - (a.launchTime?.getTime() ?? 0));
  return live[0]?.generation;
}

/**
 * The readiness gate of a node generation (ClusterReady<generation>), or undefined before CloudFormation has created
 * it (it waits for the instances) or when no generation is known yet.
 */
export async function readinessGate(clients: AwsClients, stackName: string, generation: string | undefined):
  Promise<{ logicalId: string; status: string; reason?: string } | undefined> {
  if (generation === undefined) return undefined;
  const logicalId = readinessGateLogicalId(generation);
  try {
    const out = await awsCall('cloudformation:DescribeStackResource', clients.region, () => clients.cloudFormation.send(
      new DescribeStackResourceCommand({ StackName: stackName, LogicalResourceId: logicalId })));
    const d = out.StackResourceDetail;
    return d?.ResourceStatus ? { logicalId, status: d.ResourceStatus, reason: d.ResourceStatusReason } : undefined;
  } catch (error) {
    if (error instanceof AwsCallError && error.code === 'ValidationError') return undefined;
    throw error;
  }
}

export interface StackFailure {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly status: string;
  readonly reason: string;
  /** For the readiness gate: the node that sent FAILURE (its instance id is the signal's UniqueId). */
  readonly instanceId?: string;
  /** The node's own reason inside the WaitCondition's message. */
  readonly nodeReason?: string;
}

/**
 * The first resource that failed in the stack's latest operation: the cause, where later failures are only
 * "Resource creation cancelled". Events come newest first; reading stops at the operation's start.
 */
export async function firstFailure(clients: AwsClients, stack: StackView): Promise<StackFailure | undefined> {
  const events: StackEvent[] = [];
  let NextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await awsCall('cloudformation:DescribeStackEvents', clients.region,
      () => clients.cloudFormation.send(new DescribeStackEventsCommand({ StackName: stack.id, NextToken })));
    const batch = out.StackEvents ?? [];
    const start = batch.findIndex((e) => e.LogicalResourceId === stack.name && /_IN_PROGRESS$/.test(e.ResourceStatus ?? '') &&
      /^(CREATE|UPDATE|IMPORT)_/.test(e.ResourceStatus ?? '') && !/ROLLBACK/.test(e.ResourceStatus ?? ''));
    events.push(...(start >= 0 ? batch.slice(0, start + 1) : batch));
    NextToken = out.NextToken;
    if (start >= 0 || !NextToken) break;
  }
  const failures = events.filter((e) => /FAILED$/.test(e.ResourceStatus ?? '') && e.LogicalResourceId !== stack.name);
  const cause = failures.reverse().find((e) => !/cancelled/i.test(e.ResourceStatusReason ?? '')) ?? failures[0];
  if (!cause) return undefined;
  const reason = cause.ResourceStatusReason ?? '';
  // A WaitCondition failure reads: WaitCondition received failed message: '<reason>' for uniqueId: <id>
  const gate = /failed message: '(.*)' for uniqueId: (\S+)/s.exec(reason);
  return {
    logicalId: cause.LogicalResourceId ?? '?', resourceType: cause.ResourceType ?? '?', status: cause.ResourceStatus ?? '?',
    reason, nodeReason: gate?.[1], instanceId: gate?.[2],
  };
}

/** The deployed template, as JSON (for the cost review's prices). */
export async function deployedTemplate(clients: AwsClients, stackName: string): Promise<object> {
  const out = await awsCall('cloudformation:GetTemplate', clients.region,
    () => clients.cloudFormation.send(new GetTemplateCommand({ StackName: stackName })));
  return JSON.parse(out.TemplateBody ?? '{}') as object;
}

/** One node's log stream and the events read from it so far. */
export interface NodeLog {
  readonly stream: string;
  readonly node: string;
  readonly instanceId: string;
  readonly events: LogEvent[];
}

/**
 * Reads the bootstrap log group incrementally: each poll returns only the events that arrived since the last one,
 * stream by stream (GetLogEvents forward tokens; CloudWatch returns the same token at the end of a stream).
 */
export class BootstrapLogReader {
  readonly group: string;
  readonly logs = new Map<string, NodeLog>();
  private readonly tokens = new Map<string, string>();
  /** False when the log group does not exist (not created yet, or deleted with a rolled-back stack). */
  groupExists = true;

  constructor(private readonly clients: AwsClients, stackName: string) {
    this.group = bootstrapLogGroupName(stackName);
  }

  /** New events per stream since the last poll. */
  async poll(onlyStreamPrefix?: string): Promise<Map<string, LogEvent[]>> {
    const fresh = new Map<string, LogEvent[]>();
    let streams: LogStream[];
    try {
      streams = await this.streams(onlyStreamPrefix);
      this.groupExists = true;
    } catch (error) {
      if (error instanceof AwsCallError && error.code === 'ResourceNotFoundException') {
        this.groupExists = false;
        return fresh;
      }
      throw error;
    }
    for (const s of streams) {
      const name = s.logStreamName;
      const parsed = name ? parseStreamName(name) : undefined;
      if (!name || !parsed) continue;
      const log = this.logs.get(name) ?? { stream: name, node: parsed.node, instanceId: parsed.instanceId, events: [] };
      this.logs.set(name, log);
      const events = await this.readForward(name);
      if (events.length > 0) {
        log.events.push(...events);
        fresh.set(name, events);
      }
    }
    return fresh;
  }

  /** The newest stream of a node (a replaced instance leaves its old stream behind). */
  logOf(node: string, instanceId?: string): NodeLog | undefined {
    const candidates = [...this.logs.values()].filter((l) => l.node === node && (instanceId === undefined || l.instanceId === instanceId));
    return candidates.sort((a, b) => (b.events.at(-1)?.timestamp ?? 0) - (a.events.at(-1)?.timestamp ?? 0))[0];
  }

  private async streams(prefix: string | undefined): Promise<LogStream[]> {
    const all: LogStream[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 20; page++) {
      const out = await awsCall('logs:DescribeLogStreams', this.clients.region, () => this.clients.logs.send(new DescribeLogStreamsCommand({
        logGroupName: this.group, logStreamNamePrefix: prefix, nextToken,
      })));
      all.push(...(out.logStreams ?? []));
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    return all;
  }

  private async readForward(stream: string): Promise<LogEvent[]> {
    const events: LogEvent[] = [];
    for (let page = 0; page < 200; page++) {
      const token = this.tokens.get(stream);
      const out = await awsCall('logs:GetLogEvents', this.clients.region, () => this.clients.logs.send(new GetLogEventsCommand({
        logGroupName: this.group, logStreamName: stream, startFromHead: true, nextToken: token,
      })));
      for (const e of out.events ?? []) events.push({ timestamp: e.timestamp ?? 0, message: e.message ?? '' });
      if (out.nextForwardToken) this.tokens.set(stream, out.nextForwardToken);
      if (!out.nextForwardToken || out.nextForwardToken === token || (out.events ?? []).length === 0) break;
    }
    return events;
  }
}
