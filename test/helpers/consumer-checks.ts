/**
 * Each file we generate for another program, read by that program or by its own rules. Every checker returns the
 * problems it found (none: the consumer accepts the file) and never passes a file its tool could not read.
 *
 * - systemd units and drop-ins: `systemd-analyze verify` (systemd 252 here) in a root holding the units, the programs
 *   and the other packages' units the node has; any line it prints is a problem, warnings included ("Unknown key …,
 *   ignoring" is a setting that does nothing).
 * - EnvironmentFile= files (/etc/default/*, ray.env): systemd's own env-file parser, load_env_file, as
 *   systemd-environment-d-generator runs it (the same parser EnvironmentFile= uses; environment.d also expands
 *   `$VAR`, which EnvironmentFile= does not, so a `$` is refused), and bash's `.`, which Debian's init scripts use on
 *   /etc/default files: both must read every assignment as written.
 * - files bash sources (cluster.env, monitoring.env): shellcheck, as the scripts that source them are checked.
 * - the rest: promtool, Go's encoding/csv (dcgm-reader.ts), apt-get (apt-check.ts), the AWS CLI's config loader
 *   (aws_cli_config_check.py), Grafana's provisioning and dashboard rules (grafana-rules.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { NODE_PATHS } from '../../lib/catalog/paths';

export type Problems = string[];

function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: options.input, env: options.env ?? process.env });
  if (r.error) throw new Error(`${cmd} not runnable (scripts/setup.sh installs it): ${r.error.message}`);
  return r;
}

/**
 * Units the node has from elsewhere, which ours order themselves after or extend: the DLAMI's (docker.service with
 * the NVIDIA Container Toolkit; dlami-nvme.service, which mounts the instance store) and the apt packages'
 * (Debian/Ubuntu prometheus, prometheus-node-exporter; Grafana's grafana-server). A unit named anywhere else is one
 * systemd would not find on the node, and the check fails on it.
 */
export const NODE_UNITS_FROM_ELSEWHERE = ['docker.service', 'dlami-nvme.service', 'prometheus.service', 'prometheus-node-exporter.service',
  'grafana-server.service'] as const;
/** Programs our units run that the node has: Ubuntu's bash, the DLAMI's docker, the venv the bootstrap makes. */
export const NODE_PROGRAMS = ['/bin/bash', '/usr/bin/docker', `${NODE_PATHS.venv}/bin/ray`] as const;

/**
 * `systemd-analyze verify` of the unit at `path` (a drop-in: of the unit it extends), in a root holding all of
 * `units` ({ path under the node's root: text }), as the node holds them side by side.
 */
export function checkSystemdUnit(path: string, units: Readonly<Record<string, string>>): Problems {
  const root = mkdtempSync(join(tmpdir(), 'p5-systemd-root-'));
  const system = join(root, 'usr', 'lib', 'systemd', 'system');
  mkdirSync(system, { recursive: true });
  // The host's targets (multi-user.target, network-online.target, …): systemd's own, as on any node.
  for (const f of readdirSync('/usr/lib/systemd/system').filter((n) => n.endsWith('.target'))) {
    copyFileSync(join('/usr/lib/systemd/system', f), join(system, f));
  }
  for (const u of NODE_UNITS_FROM_ELSEWHERE) writeFileSync(join(system, u), '[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/bash\n');
  for (const p of NODE_PROGRAMS) {
    mkdirSync(join(root, dirname(p)), { recursive: true });
    writeFileSync(join(root, p), '#!/bin/sh\n');
    chmodSync(join(root, p), 0o755);
  }
  for (const [p, text] of Object.entries(units)) {
    mkdirSync(join(root, dirname(p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  // A drop-in (x.service.d/y.conf) is verified through the unit it extends, wherever that unit is.
  const dropIn = /\/([^/]+)\.d\/[^/]+\.conf$/.exec(path);
  const unit = dropIn ? (Object.keys(units).find((p) => p.endsWith(`/${dropIn[1]}`)) ?? `/usr/lib/systemd/system/${dropIn[1]}`) : path;
  const r = run('systemd-analyze', ['verify', `--root=${root}`, unit]);
  const said = `${r.stdout}${r.stderr}`.trim();
  return r.status === 0 && said === '' ? [] : [`systemd-analyze verify ${unit}: ${said || `exit ${r.status}`}`];
}

const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"\\$`]*)"|([^\s"'\\$`#;]*))$/;

/** An EnvironmentFile= file, read by systemd's parser and by bash. */
export function checkEnvironmentFile(text: string): Problems {
  const problems: Problems = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const want: Record<string, string> = {};
  for (const line of lines) {
    const m = ENV_LINE.exec(line);
    if (!m) {
      problems.push(`not a plain KEY=value or KEY="value" line (no $, backslash, quote or backtick inside): ${line}`);
      continue;
    }
    want[m[1]] = m[2] ?? m[3];
  }
  if (problems.length > 0) return problems;
  const home = mkdtempSync(join(tmpdir(), 'p5-envd-'));
  mkdirSync(join(home, 'environment.d'));
  writeFileSync(join(home, 'environment.d', 'zz-p5-ray.conf'), text);
  const generator = '/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator';
  if (!existsSync(generator)) throw new Error(`${generator} missing (Debian's systemd package; scripts/setup.sh installs it)`);
  const sd = run(generator, [], { env: { XDG_CONFIG_HOME: home } });
  if (sd.status !== 0 || sd.stderr.trim() !== '') problems.push(`systemd's env-file parser: ${sd.stderr.trim() || `exit ${sd.status}`}`);
  const parsed = new Map(sd.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  for (const line of lines) {
    const key = line.slice(0, line.indexOf('='));
    // The generator prints each value as an env-file line again: a plain line comes back exactly as written.
    if (parsed.get(key) !== line.slice(key.length + 1)) problems.push(`systemd reads ${key} as ${JSON.stringify(parsed.get(key))}, the file says ${line}`);
  }
  const file = join(home, 'file.env');
  writeFileSync(file, text);
  const sh = run('bash', ['-c', 'set -a; . "$1"; shift; for k; do printf "%s=%s\\0" "$k" "${!k-<unset>}"; done', 'bash', file, ...Object.keys(want)],
    { env: { PATH: '/usr/bin:/bin' } });
  if (sh.status !== 0) problems.push(`bash cannot source it: ${sh.stderr.trim()}`);
  for (const pair of sh.stdout.split('\0').filter(Boolean)) {
    const key = pair.slice(0, pair.indexOf('='));
    if (pair.slice(key.length + 1) !== want[key]) problems.push(`bash reads ${key} as ${JSON.stringify(pair.slice(key.length + 1))}, systemd as ${JSON.stringify(want[key])}`);
  }
  return problems;
}

/** A file bash sources (`. file`): shellcheck, as bash reads it (its variables are for the scripts that source it: SC2034). */
export function checkBashSourced(text: string): Problems {
  const r = run('shellcheck', ['-s', 'bash', '-e', 'SC2034', '-'], { input: text });
  return r.status === 0 ? [] : [`shellcheck: ${r.stdout.trim()}`];
}

/** promtool check config on a prometheus.yml (its file_sd files, when present, are read too). */
export function checkPrometheusConfig(text: string): Problems {
  const file = join(mkdtempSync(join(tmpdir(), 'p5-prom-')), 'prometheus.yml');
  writeFileSync(file, text);
  const r = run('promtool', ['check', 'config', file]);
  return r.status === 0 ? [] : [`promtool check config: ${r.stdout}${r.stderr}`.trim()];
}

/** promtool check metrics on a text exposition (node_exporter's textfile collector reads that format). */
export function checkPromMetrics(text: string): Problems {
  const r = run('promtool', ['check', 'metrics'], { input: text });
  return r.status === 0 ? [] : [`promtool check metrics: ${r.stdout}${r.stderr}`.trim()];
}

/** The AWS CLI's own loader and s3 rules over AWS CLI config files (aws_cli_config_check.py, in .test-venv). */
export function checkAwsCliConfigs(texts: Readonly<Record<string, string>>): Record<string, Problems> {
  const dir = mkdtempSync(join(tmpdir(), 'p5-aws-config-'));
  const files = Object.entries(texts).map(([name, text]) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  });
  const python = join(__dirname, '..', '..', '.test-venv', 'bin', 'python');
  const r = run(python, [join(__dirname, '..', 'bootstrap', 'aws_cli_config_check.py'), ...files]);
  if (r.status !== 0) throw new Error(`aws_cli_config_check.py failed (scripts/setup.sh installs awscli into .test-venv): ${r.stderr}`);
  const verdicts = JSON.parse(r.stdout) as Array<{ file: string; problems: string[] }>;
  return Object.fromEntries(Object.keys(texts).map((name, i) => [name, verdicts[i].problems]));
}
