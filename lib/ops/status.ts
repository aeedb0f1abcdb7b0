import { AwsCallError, AwsClients, describeAwsFailure } from '../cli/aws';
import { CommandContext, CommandInputs, runCommand } from '../cli/command';
import { CommandSpec, secondsOption, wholeNumberOption } from '../cli/command-line';
import { ClusterConfig } from '../config/cluster-config';
import { BootstrapProgress, LogEvent, displayLine, parseBootstrapMessage, parseStreamName, summarizeBootstrap } from './bootstrap-log';
import {
  BootstrapLogReader, NodeView, StackFailure, StackPhase, StackView, clusterNodes, deployedTemplate, describeStack,
  currentGeneration, expectedNodes, firstFailure, noStack, nodeOrder, readinessGate, stackPhase,
} from './cluster';
import { CostSoFar, EndedNode, costSoFar, stopTime } from './cost-so-far';
import { duration, iso, money } from './format';
import { READINESS_GATE_LOGICAL_ID, STACK_OUTPUTS } from '../catalog/stack-names';

export const STATUS_COMMAND: CommandSpec = {
  invocation: 'npm run status --',
  summary: 'The stack and each node: instance, type, AZ, state, the bootstrap step it is at (with the time spent ' +
    'in each step so far), the readiness gate, the spend guard\'s stop time, and the cost so far. With --watch, ' +
    'the progress display of a deploy: it refreshes until the stack is ready or has failed.',
  options: {
    watch: { type: 'boolean', short: 'w', help: 'refresh until the stack is ready or failed (or --timeout): run it beside `npx cdk deploy`' },
    interval: { type: 'string', value: 'SECONDS', help: 'seconds between refreshes with --watch (default 15)' },
    timeout: { type: 'string', value: 'MINUTES', help: 'stop watching after this long (default: bootstrapTimeoutMinutes + 30)' },
  },
  exitCodes: [
    [0, 'the stack exists (with --watch: it became ready)'],
    [1, 'no stack, AWS refused, or (with --watch) the deploy failed: the failing node\'s reason and last log lines are printed'],
    [2, 'bad arguments or settings'],
    [3, '--watch stopped at its timeout before the stack was ready or failed'],
  ],
};

export function runStatusCommand(inputs: CommandInputs): Promise<number> {
  return runCommand(STATUS_COMMAND, inputs, async (c) => {
    const clients = c.clients();
    if (c.args.values.watch !== true) {
      const stack = await describeStack(clients, c.config.stackName);
      if (!stack) throw noStack(c.config);
      const observer = new ClusterObserver(clients, c.config);
      const snapshot = await observer.snapshot(stack, c.now());
      for (const line of renderStatus(snapshot, c.config)) c.out(line);
      if (snapshot.phase === 'failed') for (const line of renderFailure(snapshot)) c.out(line);
      return 0;
    }
    const intervalS = c.args.values.interval === undefined ? 15 : secondsOption('interval', c.args.values.interval, 0.01, 3600);
    const timeoutMin = c.args.values.timeout === undefined ? c.config.bootstrapTimeoutMinutes + 30
      : wholeNumberOption('timeout', c.args.values.timeout, 1, 24 * 60);
    return watch(c, clients, intervalS * 1000, timeoutMin * 60_000);
  });
}

export interface NodeStatus {
  readonly name: string;
  readonly instance?: NodeView;
  readonly progress?: BootstrapProgress;
  readonly events: readonly LogEvent[];
  /** The instance id in the node's log stream name (still known after the instance is gone). */
  readonly logInstanceId?: string;
}

export interface ClusterSnapshot {
  readonly at: Date;
  readonly stack: StackView;
  readonly phase: StackPhase;
  readonly nodes: readonly NodeStatus[];
  readonly gate?: { readonly logicalId: string; readonly status: string; readonly reason?: string };
  readonly failure?: StackFailure;
  readonly cost?: CostSoFar;
  readonly costProblem?: string;
  readonly logGroupExists: boolean;
  readonly logGroup: string;
}

/** Reads the cluster's state; keeps the log events and the template between snapshots (for --watch). */
export class ClusterObserver {
  readonly logs: BootstrapLogReader;
  private template?: object;
  private lastNew = new Map<string, LogEvent[]>();

  constructor(private readonly clients: AwsClients, private readonly config: ClusterConfig) {
    this.logs = new BootstrapLogReader(clients, config.stackName);
  }

  /** The log events that arrived in the latest snapshot, by stream. */
  get newEvents(): ReadonlyMap<string, LogEvent[]> { return this.lastNew; }

  async snapshot(stack: StackView, now: Date): Promise<ClusterSnapshot> {
    const phase = stackPhase(stack.status);
    const [instances, fresh] = await Promise.all([clusterNodes(this.clients, stack), this.logs.poll()]);
    // The gate's logical id carries the generation the nodes' tag names.
    const gate = await readinessGate(this.clients, stack.name, currentGeneration(instances));
    this.lastNew = fresh;
    const names = [...new Set([...expectedNodes(this.config), ...instances.map((i) => i.name)])].sort((a, b) => nodeOrder(a) - nodeOrder(b));
    const nodes = names.map((name): NodeStatus => {
      const instance = instances.find((i) => i.name === name);
      const log = this.logs.logOf(name, instance?.instanceId) ?? (instance ? undefined : this.logs.logOf(name));
      return { name, instance, events: log?.events ?? [], progress: log ? summarizeBootstrap(log.events) : undefined, logInstanceId: log?.instanceId };
    });
    const failure = phase === 'failed' ? await firstFailure(this.clients, stack) : undefined;
    let cost: CostSoFar | undefined;
    let costProblem: string | undefined;
    try {
      this.template ??= await deployedTemplate(this.clients, stack.name);
      cost = costSoFar({ template: this.template, config: this.config, nodes: instances, stackCreated: stack.created, now });
    } catch (error) {
      // The cost line is a courtesy: without GetTemplate permission the rest of the status still stands.
      if (!(error instanceof AwsCallError)) throw error;
      costProblem = describeAwsFailure(error);
    }
    return { at: now, stack, phase, nodes, gate, failure, cost, costProblem, logGroupExists: this.logs.groupExists, logGroup: this.logs.group };
  }
}

/** The full status: stack line, one line per node, step times, gate, spend guard, cost. */
export function renderStatus(s: ClusterSnapshot, config: ClusterConfig): string[] {
  const age = (s.at.getTime() - s.stack.created.getTime()) / 1000;
  const lines = [`stack ${s.stack.name} (${config.region}): ${s.stack.status}, created ${iso(s.stack.created)} (${duration(age)} ago)` +
    (s.stack.statusReason ? `: ${s.stack.statusReason}` : '')];
  const rows = s.nodes.map((n) => [
    `${n.name}${n.instance?.isRayHead && n.name !== 'head' ? '*' : ''}`,
    n.instance?.instanceId ?? '-', n.instance?.instanceType ?? '-', n.instance?.availabilityZone ?? '-',
    stateText(n.instance), bootstrapText(n, s.at),
  ]);
  lines.push(...columns(['node', 'instance', 'type', 'AZ', 'state', 'bootstrap (from its log)'], rows));
  if (s.nodes.some((n) => n.instance?.isRayHead && n.name !== 'head')) lines.push('  * runs the Ray head');
  for (const n of s.nodes) {
    const done = n.progress?.steps.filter((st) => st.durationS !== undefined) ?? [];
    if (done.length > 0) lines.push(`  ${n.name} step times: ${done.map((st) => `${st.number} ${duration(st.durationS ?? 0)}`).join(' · ')}`);
  }
  if (!s.logGroupExists) {
    lines.push(`  no bootstrap log group ${s.logGroup}: ${s.phase === 'in-progress' ? 'not created yet' : 'deleted with the stack\'s resources'}`);
  }
  lines.push(gateText(s, config));
  lines.push(spendGuardText(s, config));
  lines.push(costText(s));
  return lines;
}

/** EC2's state; a node that stopped says when (the spend guard's stop, or one by hand). */
function stateText(instance: NodeView | undefined): string {
  if (!instance) return 'not launched';
  const at = stopTime(instance);
  return at ? `${instance.state} at ${iso(at)}` : instance.state;
}

function bootstrapText(n: NodeStatus, now: Date): string {
  const p = n.progress;
  if (!n.instance && !p) return 'waiting for CloudFormation to launch it';
  if (!p || p.steps.length === 0) {
    if (n.instance && n.instance.state !== 'pending' && n.instance.state !== 'running') return `no bootstrap log (the instance is ${n.instance.state})`;
    const since = n.instance?.launchTime ? ` (${duration((now.getTime() - n.instance.launchTime.getTime()) / 1000)} since launch)` : '';
    return `no log yet: booting, user data not started${since}`;
  }
  if (p.outcome?.kind === 'ready') return `ready after ${duration(p.outcome.afterS)}`;
  if (p.outcome?.kind === 'failed') return `FAILED: ${p.outcome.reason}`;
  const cur = p.current;
  if (!cur) return 'starting';
  return `step ${cur.number}/${cur.total}: ${cur.name} (${duration((now.getTime() - cur.loggedAt) / 1000)} so far)` +
    (p.waiting ? `; ${p.waiting}` : '');
}

function gateText(s: ClusterSnapshot, config: ClusterConfig): string {
  const expected = s.nodes.length;
  const ready = s.nodes.filter((n) => n.progress?.outcome?.kind === 'ready').length;
  const status = s.gate ? s.gate.status : 'not created yet (it waits for the instances)';
  const waiting = s.gate?.status === 'CREATE_IN_PROGRESS'
    ? `; CloudFormation rolls the stack back unless all are ready within bootstrapTimeoutMinutes=${config.bootstrapTimeoutMinutes} of its creation` : '';
  return `readiness gate ${s.gate?.logicalId ?? `${READINESS_GATE_LOGICAL_ID}<generation>`}: ${status}; ${ready} of ${expected} nodes ready by their logs${waiting}`;
}

function spendGuardText(s: ClusterSnapshot, config: ClusterConfig): string {
  const stop = s.stack.outputs[STACK_OUTPUTS.spendGuardStopTime];
  if (stop) {
    const left = (Date.parse(stop) - s.at.getTime()) / 1000;
    return `spend guard: GPU nodes stop at ${stop} (${left > 0 ? `${duration(left)} left` : 'stop time passed'}; output ${STACK_OUTPUTS.spendGuardStopTime})`;
  }
  const status = s.stack.outputs[STACK_OUTPUTS.spendGuardStatus];
  if (status) return `spend guard: ${status}`;
  if (config.maxHours === 0) return 'spend guard: off (maxHours=0): the GPU nodes run until you stop them or `npx cdk destroy`';
  return `spend guard: the stop time (maxHours=${config.maxHours} after the nodes are created) is set once the stack completes`;
}

function costText(s: ClusterSnapshot): string {
  if (!s.cost) return `cost so far: unknown (${s.costProblem ?? 'no template'})`;
  const c = s.cost;
  return `cost so far: ${c.lowerBound ? '≥ ' : ''}${money(c.usd)} at the cost review's prices (compute since each node's last start, ` +
    `other resources since the stack was created${c.capacityBlockPrepaid ? '; the Capacity Block fee was paid at purchase and is not included' : ''}; ` +
    `prices ${c.priceDate}, ${c.priceSource.split(';')[0]})${endedText(c.ended)}`;
}

/** Nodes that no longer bill compute, grouped by state and stop time: `gpu-0 and gpu-1 stopped at …`. */
function endedText(ended: readonly EndedNode[]): string {
  const groups = new Map<string, EndedNode[]>();
  for (const e of ended) {
    const key = `${e.state}\u0000${e.at ? iso(e.at) : `?${e.reason ?? ''}`}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()].map((g) => {
    const names = g.length === 1 ? g[0].name : `${g.slice(0, -1).map((e) => e.name).join(', ')} and ${g[g.length - 1].name}`;
    const their = g.length === 1 ? 'its' : 'their';
    return g[0].at
      ? `; ${names} ${g[0].state} at ${iso(g[0].at)}: ${their} compute is counted until then`
      : `; ${names} ${g[0].state} at a time EC2 does not give (state reason "${g[0].reason ?? ''}"): ${their} compute is not counted`;
  }).join('');
}

/** Why the deploy failed: the first failed resource, the failing node's own reason and the end of its log. */
export function renderFailure(s: ClusterSnapshot, lastLines = 15): string[] {
  const lines: string[] = [];
  const f = s.failure;
  if (f) lines.push(`FAILED: ${f.logicalId} (${f.resourceType}) ${f.status}: ${f.reason}`);
  // The gate's message names the node by its instance id (the signal's UniqueId); else the first node whose log failed.
  const failedNode = (f?.instanceId ? s.nodes.find((n) => n.instance?.instanceId === f.instanceId || n.logInstanceId === f.instanceId) : undefined) ??
    s.nodes.find((n) => n.progress?.outcome?.kind === 'failed');
  if (failedNode) {
    const reason = failedNode.progress?.outcome?.kind === 'failed' ? failedNode.progress.outcome.reason : f?.nodeReason ?? '';
    lines.push(`failing node: ${failedNode.name}${failedNode.instance ? ` (${failedNode.instance.instanceId})` : ''}: ${reason}`);
    if (failedNode.events.length > 0) {
      lines.push(`last lines of ${failedNode.name}'s bootstrap log (${s.logGroup}):`);
      for (const e of failedNode.events.slice(-lastLines)) lines.push(`  ${displayLine(failedNode.name, e)}`);
    } else if (!s.logGroupExists) {
      lines.push(`  its bootstrap log is gone: the log group ${s.logGroup} was deleted with the rollback (run \`npm run status -- --watch\` during a deploy to keep it)`);
    }
  }
  if (/InsufficientInstanceCapacity|insufficient capacity/i.test(f?.reason ?? '')) {
    lines.push('EC2 had no capacity for the instance type in the AZ: try another availabilityZone (`npm run preflight` lists those that ' +
      'offer it) or a Capacity Block (`npm run capacity -- find --hours 24`).');
  }
  if (s.phase === 'failed' && /ROLLBACK_IN_PROGRESS/.test(s.stack.status)) {
    lines.push(`the stack is rolling back (${s.stack.status}): CloudFormation terminates the instances and deletes the log group`);
  }
  return lines;
}

/** The --watch loop: full status first, then one line per change, a summary every minute, the full status at the end. */
async function watch(c: CommandContext, clients: AwsClients, intervalMs: number, timeoutMs: number): Promise<number> {
  const started = c.now().getTime();
  const observer = new ClusterObserver(clients, c.config);
  const elapsed = () => duration((c.now().getTime() - started) / 1000);
  let previous: ClusterSnapshot | undefined;
  let lastPrint = started;
  let announcedMissing = false;
  // A stack left in ROLLBACK_COMPLETE by an earlier deploy is deleted and created anew by the next `cdk deploy`:
  // its old failure is reported once, then the watch waits for the new stack (a new stack id).
  let staleId: string | undefined;
  for (;;) {
    let stack = await describeStack(clients, c.config.stackName);
    if (stack && !previous && !staleId && stack.status === 'ROLLBACK_COMPLETE') {
      staleId = stack.id;
      c.out(`stack ${stack.name} is ROLLBACK_COMPLETE from an earlier deploy (created ${iso(stack.created)}); \`npx cdk deploy\` ` +
        'deletes it and creates it again: waiting for the new one');
    }
    if (stack && stack.id === staleId) stack = undefined;
    if (!stack) {
      if (previous) {
        c.out(`[+${elapsed()}] stack ${c.config.stackName} is gone (deleted)`);
        return 1;
      }
      if (!announcedMissing) {
        c.out(`waiting for stack ${c.config.stackName} to appear in ${c.config.region} (\`npx cdk deploy\` creates it after ` +
          `uploading its assets; stops after ${duration(timeoutMs / 1000)})`);
        announcedMissing = true;
      }
    } else {
      const snapshot = await observer.snapshot(stack, c.now());
      if (!previous) {
        for (const line of renderStatus(snapshot, c.config)) c.out(line);
        lastPrint = c.now().getTime();
      } else {
        const changes = describeChanges(previous, snapshot, observer.newEvents);
        for (const line of changes) c.out(`[+${elapsed()}] ${line}`);
        if (changes.length > 0) lastPrint = c.now().getTime();
      }
      previous = snapshot;
      const nodeFailed = snapshot.nodes.some((n) => n.progress?.signal?.status === 'FAILURE');
      if (snapshot.phase === 'ready') {
        c.out('');
        for (const line of renderStatus(snapshot, c.config)) c.out(line);
        c.out(`ready after ${elapsed()} of watching: \`npm run shell\` opens a shell on the Ray head, \`npm run forward -- dashboard\` ` +
          'the Ray dashboard, `npm run forward -- serve` the OpenAI endpoint');
        return 0;
      }
      if (snapshot.phase === 'failed' || snapshot.phase === 'gone' || nodeFailed) {
        c.out('');
        for (const line of renderStatus(snapshot, c.config)) c.out(line);
        for (const line of renderFailure(snapshot)) c.out(line);
        if (snapshot.phase === 'in-progress') c.out('a node reported FAILURE: CloudFormation rolls the stack back when it receives it');
        return 1;
      }
      if (c.now().getTime() - lastPrint >= 60_000) {
        c.out(`[+${elapsed()}] still ${snapshot.stack.status}: ${snapshot.nodes.map((n) => `${n.name} ${shortProgress(n, snapshot.at)}`).join(', ')}`);
        lastPrint = c.now().getTime();
      }
    }
    if (c.now().getTime() - started >= timeoutMs) {
      c.out(`stopped watching after ${duration(timeoutMs / 1000)}: the stack is ${previous?.stack.status ?? 'not there'}; ` +
        'run `npm run status -- --watch` again to keep watching');
      return 3;
    }
    await c.sleep(intervalMs);
  }
}

function shortProgress(n: NodeStatus, now: Date): string {
  const p = n.progress;
  if (p?.outcome) return p.outcome.kind;
  if (p?.current) return `step ${p.current.number}/${p.current.total} (${duration((now.getTime() - p.current.loggedAt) / 1000)})`;
  return n.instance ? n.instance.state : 'not launched';
}

/** What changed between two snapshots, as lines for the watch: stack status, instance states, bootstrap lines. */
export function describeChanges(before: ClusterSnapshot, after: ClusterSnapshot, fresh: ReadonlyMap<string, LogEvent[]>): string[] {
  const lines: string[] = [];
  if (before.stack.status !== after.stack.status) lines.push(`stack ${after.stack.status}`);
  if (before.gate?.status !== after.gate?.status && after.gate) lines.push(`readiness gate ${after.gate.logicalId} ${after.gate.status}`);
  for (const n of after.nodes) {
    const old = before.nodes.find((o) => o.name === n.name);
    if (n.instance && old?.instance?.state !== n.instance.state) {
      lines.push(`${n.name} ${n.instance.instanceId} ${n.instance.state} (${n.instance.instanceType}, ${n.instance.availabilityZone})`);
    }
  }
  for (const [stream, events] of fresh) {
    const node = parseStreamName(stream)?.node ?? stream;
    for (const e of events) {
      const parsed = parseBootstrapMessage(e.message);
      const kind = parsed?.line.kind;
      const worth = kind === 'step' || kind === 'ready' || kind === 'failed' || kind === 'signal' || kind === 'unreached' ||
        (kind === 'detail' && parsed?.line.kind === 'detail' && parsed.line.text.startsWith('waiting for '));
      if (worth) lines.push(displayLine(node, e));
    }
  }
  return lines;
}

function columns(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // The last column is free text: never padded.
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)];
}
