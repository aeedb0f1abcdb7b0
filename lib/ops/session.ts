import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PORTS } from '../catalog/ports';
import { CommandContext, CommandFailure, CommandInputs, runCommand } from '../cli/command';
import { CommandSpec, wholeNumberOption } from '../cli/command-line';
import { NodeView, clusterNodes, pickNode, requireStack } from './cluster';
import { shellQuote } from './format';

/**
 * What `npm run forward` can reach, by name: one line each, ports from lib/catalog/ports.ts. A new service on the
 * nodes (for example Grafana on PORTS.grafana) is one more line here.
 */
export const FORWARD_TARGETS = {
  dashboard: { port: PORTS.rayDashboard, what: 'Ray dashboard', path: '/' },
  serve: { port: PORTS.serveHttp, what: 'OpenAI-compatible endpoint (Ray Serve)', path: '/v1' },
  grafana: { port: PORTS.grafana, what: 'Grafana (study dashboard and Ray\'s dashboards)', path: '/' },
  prometheus: { port: PORTS.prometheus, what: 'Prometheus', path: '/' },
} as const satisfies Readonly<Record<string, ForwardTarget>>;

export interface ForwardTarget {
  readonly port: number;
  readonly what: string;
  /** Where to point the browser or client, after http://localhost:<port>. */
  readonly path: string;
}

export interface SessionInputs extends CommandInputs {
  /** Runs a program with the terminal attached and returns its exit code (tests: a stub `aws` on PATH). */
  readonly run?: (program: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;
}

const PLUGIN_DOCS = 'https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html';
const CLI_DOCS = 'https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html';

export const SHELL_COMMAND: CommandSpec = {
  invocation: 'npm run shell --',
  summary: 'A shell on a node through SSM Session Manager (no SSH, no public IP): `aws ssm start-session`. Needs the ' +
    'AWS CLI v2 and its Session Manager plugin.',
  positionals: [{ name: 'node', help: 'gpu-0, gpu-1, …, head, or an instance id (default: the node running the Ray head)' }],
  options: {},
  exitCodes: [[0, 'the session ended normally'], [1, 'no stack or node, the node is not running, or the AWS CLI / plugin is missing'], [2, 'bad arguments or settings']],
};

export const FORWARD_COMMAND: CommandSpec = {
  invocation: 'npm run forward --',
  summary: `Forwards a port of the Ray head to localhost through SSM Session Manager (AWS-StartPortForwardingSession). ` +
    `Targets: ${Object.entries(FORWARD_TARGETS).map(([name, t]) => `${name} (${t.what}, port ${t.port})`).join(', ')}.`,
  positionals: [{ name: 'target', help: `${Object.keys(FORWARD_TARGETS).join(' | ')} (default: dashboard)` }],
  options: {
    node: { type: 'string', value: 'NODE', help: 'forward from this node instead of the Ray head (gpu-0, …, head, or an instance id)' },
    'local-port': { type: 'string', value: 'PORT', help: 'local port (default: the same as the remote one)' },
  },
  exitCodes: [[0, 'the session ended normally'], [1, 'no stack or node, the node is not running, or the AWS CLI / plugin is missing'], [2, 'bad arguments or settings (an unknown target lists the known ones)']],
};

export function runShellCommand(inputs: SessionInputs): Promise<number> {
  return runCommand(SHELL_COMMAND, inputs, async (c) => {
    const node = await runningNode(c, c.args.positionals[0]);
    c.err(`shell on ${node.name} (${node.instanceId}, ${node.instanceType}); \`exit\` ends it`);
    return startSession(c, inputs, ['ssm', 'start-session', '--region', c.config.region, '--target', node.instanceId]);
  });
}

export function runForwardCommand(inputs: SessionInputs): Promise<number> {
  return runCommand(FORWARD_COMMAND, inputs, async (c) => {
    const name = c.args.positionals[0] ?? 'dashboard';
    const target: ForwardTarget | undefined = (FORWARD_TARGETS as Readonly<Record<string, ForwardTarget>>)[name];
    if (!Object.prototype.hasOwnProperty.call(FORWARD_TARGETS, name) || !target) {
      throw new CommandFailure(`unknown forward target ${name}: the targets are ${Object.entries(FORWARD_TARGETS)
        .map(([n, t]) => `${n} (port ${t.port})`).join(', ')}`, 2);
    }
    const localPort = c.args.values['local-port'] === undefined ? target.port : wholeNumberOption('local-port', c.args.values['local-port'], 1, 65535);
    const node = await runningNode(c, typeof c.args.values.node === 'string' ? c.args.values.node : undefined);
    c.err(`${target.what} of ${node.name} (${node.instanceId}) on http://localhost:${localPort}${target.path}; Ctrl-C ends the forwarding`);
    return startSession(c, inputs, [
      'ssm', 'start-session', '--region', c.config.region, '--target', node.instanceId,
      '--document-name', 'AWS-StartPortForwardingSession',
      '--parameters', JSON.stringify({ portNumber: [String(target.port)], localPortNumber: [String(localPort)] }),
    ]);
  });
}

async function runningNode(c: CommandContext, wanted: string | undefined): Promise<NodeView> {
  const clients = c.clients();
  const stack = await requireStack(clients, c.config);
  const node = pickNode(await clusterNodes(clients, stack), wanted);
  if (node.state !== 'running') {
    const start = node.state === 'stopped'
      ? `: start it with \`aws ec2 start-instances --region ${c.config.region} --instance-ids ${node.instanceId}\` (the spend guard stops the GPU nodes after maxHours)`
      : '';
    throw new CommandFailure(`${node.name} (${node.instanceId}) is ${node.state}, not running${start}`);
  }
  return node;
}

/**
 * `aws ssm start-session` hands the session to the Session Manager plugin, which the AWS CLI runs by the name
 * `session-manager-plugin` from PATH; without it the CLI fails only after connecting. Both are checked first.
 */
async function startSession(c: CommandContext, inputs: SessionInputs, args: string[]): Promise<number> {
  const path = c.env.PATH ?? '';
  if (!onPath('aws', path, c.env)) {
    throw new CommandFailure(`the AWS CLI (aws) is not on PATH: install the AWS CLI v2 (${CLI_DOCS}) and its Session Manager plugin (${PLUGIN_DOCS})`);
  }
  if (!onPath('session-manager-plugin', path, c.env)) {
    throw new CommandFailure(`the Session Manager plugin for the AWS CLI (session-manager-plugin) is not on PATH: install it (${PLUGIN_DOCS}), then run this again`);
  }
  c.err(`running: aws ${args.map(shellQuote).join(' ')}`);
  const run = inputs.run ?? spawnAttached;
  return run('aws', args, c.env);
}

function onPath(program: string, path: string, env: NodeJS.ProcessEnv): boolean {
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  return path.split(delimiter).filter(Boolean).some((dir) => extensions.some((ext) => {
    try {
      accessSync(join(dir, program + ext), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
}

function spawnAttached(program: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args], { stdio: 'inherit', env });
    // Ctrl-C belongs to the session: the plugin ends it; we only wait for the CLI to exit.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 130 : 1));
    });
  });
}
