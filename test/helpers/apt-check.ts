/**
 * apt's own verdict on a one-line apt source and its `signed-by` keyring: the machine's apt-get updates from a local
 * repository (an empty Packages index, a Release file and its clear-signed InRelease) that stands in for the remote
 * one, with apt's configuration, state and trusted keys all in a temp folder. The line is apt's to parse; only its URL
 * and keyring path are pointed at the local copies.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface AptVerdict {
  readonly status: number | null;
  readonly output: string;
}

const ONE_LINE = /^deb \[signed-by=(\S+)\] (\S+) (\S+) (\S+)$/;

/**
 * `apt-get update` of `sourcesLine` (one-line format with signed-by), whose repository is signed by `sign` (a callback
 * that clear-signs Release into InRelease), with `keyringFile` standing where the line's signed-by path points.
 */
export function aptUpdate(sourcesLine: string, keyringFile: string, sign: (release: string, inRelease: string) => void): AptVerdict {
  const m = ONE_LINE.exec(sourcesLine.trim());
  if (!m) return { status: null, output: `not a one-line deb source with signed-by: ${sourcesLine}` };
  const [, , , suite, component] = m;
  const dir = mkdtempSync(join(tmpdir(), 'p5-apt-'));
  const repo = join(dir, 'repo');
  const index = join(component, 'binary-amd64', 'Packages');
  mkdirSync(join(repo, 'dists', suite, component, 'binary-amd64'), { recursive: true });
  writeFileSync(join(repo, 'dists', suite, index), '');
  const sha = createHash('sha256').update('').digest('hex');
  writeFileSync(join(repo, 'dists', suite, 'Release'), [
    'Origin: p5-ray test', `Suite: ${suite}`, `Codename: ${suite}`, 'Architectures: amd64', `Components: ${component}`,
    `Date: ${new Date().toUTCString()}`, 'SHA256:', ` ${sha} 0 ${index}`, '',
  ].join('\n'));
  sign(join(repo, 'dists', suite, 'Release'), join(repo, 'dists', suite, 'InRelease'));
  const local = sourcesLine.trim().replace(m[1], keyringFile).replace(m[2], `file://${repo}`);
  for (const d of ['etc/sources.list.d', 'etc/apt.conf.d', 'etc/preferences.d', 'etc/trusted.gpg.d', 'state/lists/partial',
    'cache/archives/partial', 'log']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc', 'sources.list'), `${local}\n`);
  // Every directory apt reads or writes, ours; no key of the machine's is trusted.
  writeFileSync(join(dir, 'apt.conf'), [
    `Dir::Etc "${dir}/etc/";`, 'Dir::Etc::sourcelist "sources.list";', 'Dir::Etc::sourceparts "sources.list.d";',
    'Dir::Etc::parts "apt.conf.d";', 'Dir::Etc::preferencesparts "preferences.d";', 'Dir::Etc::trusted "trusted.gpg";',
    'Dir::Etc::trustedparts "trusted.gpg.d";', `Dir::State "${dir}/state/";`, `Dir::Cache "${dir}/cache/";`,
    `Dir::Log "${dir}/log/";`, 'Debug::NoLocking "true";', `APT::Sandbox::User "${userInfo().username}";`,
    'APT::Architecture "amd64";', 'APT::Architectures { "amd64"; };', 'Acquire::Languages "none";', '',
  ].join('\n'));
  const r = spawnSync('apt-get', ['update'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', APT_CONFIG: join(dir, 'apt.conf') } });
  return { status: r.status, output: `${r.error ? String(r.error) : ''}${r.stdout}${r.stderr}` };
}
