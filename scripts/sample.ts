/**
 * `npm run sample`: writes samples/reference-example/, the reference example's published table
 * (lib/catalog/reference-example.ts) re-encoded as `vllm bench serve --save-result` files, so that
 * `npm run report -- samples/reference-example --profile reference` works on a fresh clone. Only the figures the
 * example published are written: every other key of a result file is absent, never made up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PUBLISHED_RESULTS, REFERENCE_EXAMPLE } from '../lib/catalog/reference-example';
import { CommandSpec } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';

export const SAMPLE_DIR = join('samples', 'reference-example');
/** The example's own results folders: `bm_results/gptoss_itl8000_otl1000_mixed_<experiment>/conc64.json`. */
const folderOf = (publishedExperiment: string) =>
  `gptoss_itl${REFERENCE_EXAMPLE.workload.inputTokens}_otl${REFERENCE_EXAMPLE.workload.outputTokens}_mixed_${publishedExperiment}`;
const resultFile = `conc${REFERENCE_EXAMPLE.workload.concurrency}.json`;
const SOURCE = `${REFERENCE_EXAMPLE.name}, README "Performance Results" table (${REFERENCE_EXAMPLE.url})`;

/** Relative path (under SAMPLE_DIR) → content of every file the sample consists of. */
export function sampleFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const r of PUBLISHED_RESULTS) {
    const result = {
      // Not a vllm key: says where the numbers come from to whoever opens the file (the report ignores it).
      source: `Published figures re-encoded, not a measurement: ${SOURCE}`,
      model_id: REFERENCE_EXAMPLE.model,
      num_prompts: REFERENCE_EXAMPLE.workload.requests,
      max_concurrency: REFERENCE_EXAMPLE.workload.concurrency,
      completed: REFERENCE_EXAMPLE.workload.requests,
      request_throughput: r.requestThroughput,
      output_throughput: r.outputThroughput,
      mean_ttft_ms: r.meanTtftMs,
      mean_tpot_ms: r.meanTpotMs,
    };
    files.set(join(folderOf(r.publishedExperiment), resultFile), `${JSON.stringify(result, null, 2)}\n`);
  }
  files.set('README.md', readme());
  return files;
}

function readme(): string {
  const w = REFERENCE_EXAMPLE.workload;
  return [
    `# Sample results: ${REFERENCE_EXAMPLE.name} (published figures)`,
    '',
    `**These are not measurements made with this project.** They are the figures that [${REFERENCE_EXAMPLE.name}](${REFERENCE_EXAMPLE.url})`,
    `published in its README's "Performance Results" table (${REFERENCE_EXAMPLE.model} on ${REFERENCE_EXAMPLE.gpuNodes} × ${REFERENCE_EXAMPLE.gpuInstanceType},`,
    `${w.requests} requests of ${w.inputTokens} input and ${w.outputTokens} output tokens at concurrency ${w.concurrency}), re-encoded as`,
    '`vllm bench serve --save-result` files so that `npm run report` can read them on a fresh clone. The folder names are',
    'the example\'s own results folders (`bm_results/<served>_itl<IN>_otl<OUT>_<mode>_<experiment>/conc<N>.json`).',
    'The example\'s README text gives 5000 input and 250 output tokens per request; its result files and their folder',
    `names give ${w.inputTokens} and ${w.outputTokens} (${w.requests} requests, ${w.requests * w.inputTokens} input tokens in all), which this sample follows.`,
    '',
    'Each file holds only what the example published for that configuration: the **mean** values of its table (request',
    'and output throughput, mean TTFT, mean TPOT) and the request count and concurrency of its benchmark. Every other',
    'key of a vllm result file (medians, percentiles, standard deviations, inter-token latency, duration, token totals)',
    'is absent, not invented; the report needs only the keys present.',
    'The key `source` is not vllm\'s; it names where the numbers come from.',
    '',
    '| Configuration | Folder | Request Throughput (req/s) | Output Token Throughput (tok/s) | Mean TTFT (ms) | Mean TPOT (ms) |',
    '|---|---|---|---|---|---|',
    ...PUBLISHED_RESULTS.map((r) => `| ${r.title} | \`${folderOf(r.publishedExperiment)}\` | ${r.requestThroughput.toFixed(2)} | ` +
      `${r.outputThroughput.toFixed(2)} | ${r.meanTtftMs.toFixed(2)} | ${r.meanTpotMs.toFixed(2)} |`),
    '',
    'The example\'s result files carry no layout, so the report takes it from the `reference` profile (one TP=4 replica',
    'for the collocated configurations, one prefill and one decode replica of TP=4 for PD):',
    '',
    '```bash',
    `npm run report -- ${SAMPLE_DIR} --profile reference`,
    '```',
    '',
    'It prints the tables and writes `report.svg` and `report.png` here; the two committed beside this file are its',
    'output. `npm run sample` rewrites the result files and this README from the figures recorded in',
    '`lib/catalog/reference-example.ts`.',
    '',
    '**Published figures carry no evidence.** A result of this project\'s `run_bm.sh` holds its p50 / p99 latencies and has',
    'a `conc<N>.meta.json` beside it with what Prometheus saw during the point (prefix cache hits, KV bytes moved over',
    'NIXL, EFA RDMA bytes, GPU utilization) and the transport each node verified; the example published means only. So',
    'the report says once that none of these results records percentiles or evidence (no table of `n/a`), and its',
    'warnings list `evidence missing: no conc<N>.meta.json beside the result` once, for all four. Here that is',
    'expected; on results of `run_all.sh` the same warning means a point lost its evidence, and `--strict` fails on it.',
    '',
  ].join('\n');
}

export const SAMPLE_COMMAND: CommandSpec = {
  invocation: 'npm run sample --',
  summary: `Writes ${SAMPLE_DIR}/: the figures ${REFERENCE_EXAMPLE.name} published (lib/catalog/reference-example.ts) as ` +
    '`vllm bench serve --save-result` files, and its README, so that `npm run report` works on a fresh clone. ' +
    'It rewrites the committed files; a test fails while they differ from what it writes.',
  options: {},
  settings: false,
  exitCodes: [[0, 'wrote the files'], [2, 'bad arguments (one `error:` line; nothing written)']],
};

if (require.main === module) {
  runLocalScript(SAMPLE_COMMAND, () => {
    const root = resolve(__dirname, '..');
    for (const [path, content] of sampleFiles()) {
      const target = join(root, SAMPLE_DIR, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    console.log(`wrote ${sampleFiles().size} files under ${SAMPLE_DIR}`);
    return 0;
  });
}
