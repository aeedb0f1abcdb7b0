import { execFileSync, spawnSync } from 'child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'fs';
import { join, resolve } from 'path';
import { CommandSpec, OptionValues } from '../cli/command-line';
import { writeServeBundle } from '../serve';
import {
  REHEARSAL_DEFAULTS, REHEARSAL_WORKLOADS, RehearsalSettings, RehearsalSettingsError, TINY_MODEL, renderRehearsal,
} from './index';

/** Written into every prepared folder: what made it, so its log can say which code ran. */
export const PROVENANCE_TOOL = 'p5-ray-kv-cluster rehearsal';

const SETTINGS_OPTIONS: CommandSpec['options'] = {
  dir: { type: 'string', value: 'DIR', help: 'absolute folder on the GPU machine where the rehearsal runs (default: ./rehearsal)' },
  gpus: { type: 'string', value: 'N', help: 'GPUs of the machine (default: what nvidia-smi lists here)' },
  'gpu-name': { type: 'string', value: 'NAME', help: 'what nvidia-smi calls them (default: read here)' },
  model: { type: 'string', value: 'PATH|ID', help: `a local model folder, a Hugging Face id, or ${TINY_MODEL.name} (default): a small Llama-architecture model with random weights made on the machine, no download` },
  'served-model-name': { type: 'string', value: 'NAME', help: `the OpenAI model name (default ${REHEARSAL_DEFAULTS.servedModelName})` },
  'tensor-parallel-size': { type: 'string', value: 'N', help: `TP of every engine replica (default ${REHEARSAL_DEFAULTS.tensorParallelSize})` },
  'max-model-len': { type: 'string', value: 'N', help: `vLLM max_model_len (default ${REHEARSAL_DEFAULTS.maxModelLen})` },
  venv: { type: 'string', value: 'DIR', help: 'install into this existing venv (e.g. one holding the pinned torch) instead of <dir>/venv' },
  wheelhouse: { type: 'string', value: 'DIR', help: 'install from this folder (npm run wheelhouse) with no network' },
  concurrency: { type: 'string', value: 'LIST', help: `comma-separated concurrencies (default ${REHEARSAL_DEFAULTS.concurrencies.join(',')})` },
  'kv-cache-mib': { type: 'string', value: 'N', help: 'each engine\'s KV cache in MiB (default for the tiny model: small enough that prefixes leave the GPU and LMCache serves them back; for another model: vLLM\'s own sizing)' },
  'lmcache-cpu-gb': { type: 'string', value: 'N', help: `LMCache's CPU tier per rank, GB (default ${REHEARSAL_DEFAULTS.lmcacheCpuGbPerRank})` },
  'nixl-backend': { type: 'string', value: 'B', help: `UCX (default: no EFA needed) or LIBFABRIC` },
  prometheus: { type: 'string', value: 'PATH', help: 'a prometheus binary for the evidence (default: prometheus on the machine\'s PATH; without one the evidence is missing)' },
};

export const REHEARSE_COMMAND: CommandSpec = {
  invocation: 'npm run rehearse --',
  summary: 'Rehearses the whole pipeline on one Linux machine with NVIDIA GPUs (CUDA 13 driver) before renting p5 nodes: ' +
    'installs the pinned stack and builds LMCache with the node bootstrap\'s own code, runs the node\'s checks, starts a ' +
    'local Ray head, deploys every serve configuration through Ray Serve LLM and builder.py, benchmarks both workloads ' +
    'with their evidence, and prints the report. A functional run: its numbers are not performance figures.',
  positionals: [{ name: 'prepare|run', help: 'prepare: write the rehearsal folder (to copy to the GPU machine); run: prepare here and run it here', required: true }],
  options: {
    ...SETTINGS_OPTIONS,
    out: { type: 'string', value: 'DIR', help: 'prepare: write the folder here now (default: --dir); copy it to --dir on the GPU machine' },
    only: { type: 'string', value: 'IDS', help: 'run: comma-separated configurations (default: all five)' },
    workload: { type: 'string', value: 'W', help: 'run: random, prefix-reuse or all (default all)' },
    'skip-install': { type: 'boolean', help: 'run: the venv already holds the stack (a second run): check it, do not install' },
    'cache-policy': { type: 'string', value: 'P', help: 'run: redeploy (default: a fresh deploy per point) or keep (one deploy per Serve file: fewer engine starts)' },
    router: { type: 'string', value: 'R', help: 'run: the request router (default auto: one per workload, so two Serve files per configuration)' },
  },
  settings: false,
  exitCodes: [[0, 'prepared, or every configuration ran'], [1, 'a step or a configuration failed (the log says which)'], [2, 'bad arguments (one `error:` line each; nothing written)']],
  notes: [
    'On the GPU machine: npm run rehearse -- run [--venv DIR] [--wheelhouse DIR]',
    'Elsewhere: npm run rehearse -- prepare --dir /abs/path --gpus N --gpu-name NAME --out ./rehearsal; copy ./rehearsal to /abs/path there; bash /abs/path/rehearse.sh; copy results/<run> back; npm run report -- <run>',
    'Air-gapped: npm run wheelhouse -- --target-freeze FILE --out DIR on a connected machine, then --wheelhouse DIR',
  ],
};

/** GPUs as nvidia-smi lists them here, or undefined without one. */
export function localGpus(run: (cmd: string, args: string[]) => string = (c, a) => execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })): { count: number; name: string } | undefined {
  try {
    const names = run('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader']).split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return names.length > 0 ? { count: names.length, name: names[0] } : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: OptionValues[string]) => (typeof v === 'string' ? v : undefined);
const int = (v: OptionValues[string], fallback: number) => (typeof v === 'string' ? Number(v.trim() === '' ? NaN : v) : fallback);

/** The settings from the options; one error line per bad value, nothing thrown for the user to read. */
export function settingsFrom(values: OptionValues, cwd: string, gpus = localGpus): RehearsalSettings | { problems: string[] } {
  const problems: string[] = [];
  const detected = str(values.gpus) === undefined || str(values['gpu-name']) === undefined ? gpus() : undefined;
  if (str(values.gpus) === undefined && detected === undefined) problems.push('--gpus: no nvidia-smi here to count the GPUs: give --gpus N (and --gpu-name) for the machine the rehearsal will run on');
  const concurrencies = (str(values.concurrency) ?? REHEARSAL_DEFAULTS.concurrencies.join(',')).split(',').map((c) => Number(c.trim() === '' ? NaN : c));
  const backend = str(values['nixl-backend']) ?? REHEARSAL_DEFAULTS.nixlBackend;
  const settings: RehearsalSettings = {
    dir: str(values.dir) ?? resolve(cwd, 'rehearsal'),
    gpus: int(values.gpus, detected?.count ?? 1),
    gpuName: str(values['gpu-name']) ?? detected?.name ?? 'NVIDIA GPU',
    model: str(values.model) ?? REHEARSAL_DEFAULTS.model,
    servedModelName: str(values['served-model-name']) ?? REHEARSAL_DEFAULTS.servedModelName,
    tensorParallelSize: int(values['tensor-parallel-size'], REHEARSAL_DEFAULTS.tensorParallelSize),
    maxModelLen: int(values['max-model-len'], REHEARSAL_DEFAULTS.maxModelLen),
    venv: str(values.venv),
    wheelhouse: str(values.wheelhouse),
    concurrencies,
    workloads: REHEARSAL_WORKLOADS,
    requestsPerPrefix: REHEARSAL_DEFAULTS.requestsPerPrefix,
    promptsPerConcurrency: REHEARSAL_DEFAULTS.promptsPerConcurrency,
    kvCacheMiB: str(values['kv-cache-mib']) === undefined ? undefined : int(values['kv-cache-mib'], 0),
    lmcacheCpuGbPerRank: int(values['lmcache-cpu-gb'], REHEARSAL_DEFAULTS.lmcacheCpuGbPerRank),
    nixlBackend: backend as RehearsalSettings['nixlBackend'],
    prometheus: str(values.prometheus),
  };
  return problems.length > 0 ? { problems } : settings;
}

/** What made a prepared folder: the repository's commit and whether it had local changes. */
export function provenance(repo: string, argv: readonly string[], now = new Date()): Record<string, unknown> {
  const git = (args: string[]) => {
    const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const status = git(['status', '--porcelain']);
  return {
    tool: PROVENANCE_TOOL,
    commit: git(['rev-parse', 'HEAD']) ?? 'unknown (not a git checkout)',
    localChanges: status === undefined ? 'unknown' : status !== '',
    preparedAt: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    command: ['npm run rehearse --', ...argv].join(' '),
    node: process.version,
  };
}

/**
 * Writes the rehearsal folder. An existing folder is only written into when an earlier prepare made it (its
 * provenance.json names this tool); then its serve/ and node/ folders are replaced, and results, logs, the venv and
 * the model stay.
 */
export function prepareFolder(out: string, settings: RehearsalSettings, prov: Record<string, unknown>): string[] {
  const files = renderRehearsal(settings, prov);
  if (existsSync(out) && readdirSync(out).length > 0) {
    let ours = false;
    try {
      ours = (JSON.parse(readFileSync(join(out, 'provenance.json'), 'utf8')) as { tool?: unknown }).tool === PROVENANCE_TOOL;
    } catch { /* not ours */ }
    if (!ours) throw new RehearsalSettingsError([`--out ${out}: the folder exists and was not made by npm run rehearse (no provenance.json of it): choose a new or empty folder`]);
    for (const sub of ['serve', 'node']) rmSync(join(out, sub), { recursive: true, force: true });
  }
  writeServeBundle(out, files);
  return files.map((f) => f.path);
}
