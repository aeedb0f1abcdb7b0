/**
 * `npm run wheelhouse -- --out DIR [--target-freeze FILE] [--python-version V] [--platform P]`: on a connected
 * machine, everything an air-gapped GPU machine needs to install the pinned stack and build LMCache with no network
 * (lib/rehearsal/wheelhouse.ts); then `npm run rehearse -- ... --wheelhouse DIR` there.
 */
import { resolve } from 'path';
import { CommandFailure, CommandSpec, ParsedCommandLine, UsageError } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';
import { SOFTWARE } from '../lib/catalog/software';
import { WheelhouseError, buildWheelhouse, findUv, manylinuxTags } from '../lib/rehearsal/wheelhouse';

const DEFAULT_PLATFORM = 'x86_64-manylinux_2_39';
const PYPI = 'https://pypi.org/simple';

export const WHEELHOUSE_COMMAND: CommandSpec = {
  invocation: 'npm run wheelhouse --',
  summary: 'Prepares, on a machine that reaches the package index, a folder from which an air-gapped GPU machine installs ' +
    `the pinned stack (Ray ${SOFTWARE.ray}, vLLM ${SOFTWARE.vllm}, NIXL ${SOFTWARE.nixl}, torch ${SOFTWARE.torch}) and builds ` +
    `LMCache ${SOFTWARE.lmcache} from its sdist with no network: resolved by uv for the target's Python and platform, ` +
    'only what the target lacks (give its pip freeze), with a manifest of every file and its sha256.',
  options: {
    out: { type: 'string', value: 'DIR', help: 'the wheelhouse folder (created)' },
    'target-freeze': { type: 'string', value: 'FILE', help: 'the `python -m pip freeze` of the environment the stack will be installed into (rehearse --venv): its versions are preferred and not downloaded. Leave it out for a new venv, which sees none of them' },
    'python-version': { type: 'string', value: 'V', help: `the target's Python (default ${SOFTWARE.python})` },
    platform: { type: 'string', value: 'P', help: `the target's platform as uv names it (default ${DEFAULT_PLATFORM}: Ubuntu 24.04's glibc 2.39)` },
    'index-url': { type: 'string', value: 'URL', help: 'the package index (default: PIP_INDEX_URL, else PyPI)' },
  },
  settings: false,
  exitCodes: [[0, 'the wheelhouse is complete'], [1, 'a resolution or download failed (one `error:` line)'], [2, 'bad arguments (one `error:` line; nothing written)']],
  notes: ['Then, on the GPU machine: npm run rehearse -- run --wheelhouse DIR (or rehearse.sh of a prepared folder).'],
};

export function wheelhouse({ values }: ParsedCommandLine, cwd = process.cwd()): number {
  const text = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  const out = text('out');
  if (out === undefined) throw new UsageError(`--out DIR is required (see ${WHEELHOUSE_COMMAND.invocation} --help)`);
  const platform = text('platform') ?? DEFAULT_PLATFORM;
  const pythonVersion = text('python-version') ?? SOFTWARE.python;
  if (!/^3\.\d+(\.\d+)?$/.test(pythonVersion)) throw new UsageError(`--python-version ${pythonVersion}: use e.g. 3.12 or 3.12.3`);
  const freeze = text('target-freeze');
  try {
    manylinuxTags(platform);
  } catch (error) {
    if (error instanceof WheelhouseError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const log = (line: string) => console.log(`wheelhouse: ${line}`);
    const uv = findUv(resolve(cwd, 'node_modules', '.cache', 'p5-ray-kv-cluster'), 'python3', log);
    const manifest = buildWheelhouse({
      out: resolve(cwd, out), pythonVersion, platform, targetFreeze: freeze === undefined ? undefined : resolve(cwd, freeze),
      indexUrl: text('index-url') ?? process.env.PIP_INDEX_URL ?? PYPI, uv, python: 'python3', log,
    });
    console.log(`wheelhouse: ${manifest.files.length} files, ${(manifest.totalBytes / 2 ** 20).toFixed(1)} MiB in ${resolve(cwd, out)} (manifest.json lists each with its sha256)`);
    return 0;
  } catch (error) {
    if (error instanceof WheelhouseError) throw new CommandFailure(error.message);
    throw error;
  }
}

if (require.main === module) runLocalScript(WHEELHOUSE_COMMAND, (parsed) => wheelhouse(parsed));
