import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, _Object } from '@aws-sdk/client-s3';
import { BUCKET_PREFIXES } from '../catalog/paths';
import { AwsClients, awsCall } from '../cli/aws';
import { CommandFailure, CommandInputs, runCommand } from '../cli/command';
import { CommandSpec, UsageError } from '../cli/command-line';
import { runReport } from '../report';
import { requireStack } from './cluster';
import { STACK_OUTPUTS } from '../catalog/stack-names';

export const RESULTS_COMMAND: CommandSpec = {
  invocation: 'npm run results --',
  summary: `Downloads a benchmark run from the artifacts bucket (s3://<ArtifactsBucketName>/${BUCKET_PREFIXES.results}<run>/, ` +
    'written by run_all.sh on the head) into <dir>/<run>/ and prints the report of `npm run report`.',
  positionals: [{ name: 'dir', help: 'where to put the runs (default: ./results)' }],
  options: {
    run: { type: 'string', value: 'RUN', help: 'which run (its UTC timestamp folder, e.g. 20261124T130000Z; default: the latest)' },
    list: { type: 'boolean', help: 'list the runs in the bucket and download nothing' },
    json: { type: 'boolean', help: 'print the report as JSON' },
    baseline: { type: 'string', value: 'NAME', help: 'the experiment the report compares against' },
    'no-chart': { type: 'boolean', help: 'do not write report.svg and report.png' },
  },
  exitCodes: [
    [0, 'downloaded and reported'],
    [1, 'no stack, no bucket output, no runs, AWS refused, or no usable result file'],
    [2, 'bad arguments or settings, or some result files were skipped (named on stderr; the rest is reported)'],
  ],
};

export function runResultsCommand(inputs: CommandInputs): Promise<number> {
  return runCommand(RESULTS_COMMAND, inputs, async (c) => {
    const clients = c.clients();
    const stack = await requireStack(clients, c.config);
    const bucket = stack.outputs[STACK_OUTPUTS.artifactsBucket];
    if (!bucket) {
      throw new CommandFailure(`stack ${stack.name} has no ${STACK_OUTPUTS.artifactsBucket} output (status ${stack.status}): ` +
        'results exist only once the stack has been created and run_all.sh has run on the head');
    }
    const runs = await listRuns(clients, bucket);
    if (c.args.values.list === true) {
      c.out(runs.length === 0 ? `no runs under s3://${bucket}/${BUCKET_PREFIXES.results}` : `runs in s3://${bucket}/${BUCKET_PREFIXES.results} (oldest first):`);
      for (const r of runs) c.out(`  ${r}`);
      return 0;
    }
    if (runs.length === 0) {
      throw new CommandFailure(`no results under s3://${bucket}/${BUCKET_PREFIXES.results} yet: run the benchmarks on the head ` +
        '(`npm run shell`, then `sudo bash /opt/p5-ray/serve/run_all.sh`)');
    }
    const wanted = typeof c.args.values.run === 'string' ? c.args.values.run.replace(/\/$/, '') : runs.at(-1) as string;
    if (!runs.includes(wanted)) throw new UsageError(`invalid option --run=${wanted}: the runs are ${runs.join(', ')}`);

    const dir = resolve(c.args.positionals[0] ?? 'results', wanted);
    const { files, bytes, skipped } = await download(clients, bucket, `${BUCKET_PREFIXES.results}${wanted}/`, dir);
    c.err(`s3://${bucket}/${BUCKET_PREFIXES.results}${wanted}/ → ${dir}: ${files} file(s), ${(bytes / 1e6).toFixed(1)} MB downloaded` +
      (skipped > 0 ? `, ${skipped} already there` : ''));
    const report = await runReport(dir, {
      json: c.args.values.json === true, chart: c.args.values['no-chart'] !== true,
      baseline: typeof c.args.values.baseline === 'string' ? c.args.values.baseline : undefined,
    });
    if (report.stdout) for (const line of report.stdout.split('\n')) c.out(line);
    if (report.stderr) for (const line of report.stderr.split('\n')) c.err(line);
    return report.exitCode;
  });
}

/** The run folders under results/ (run_all.sh names them by UTC start time, so name order is time order). */
async function listRuns(clients: AwsClients, bucket: string): Promise<string[]> {
  const runs: string[] = [];
  let ContinuationToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await awsCall('s3:ListBucket', clients.region, () => clients.s3.send(new ListObjectsV2Command({
      Bucket: bucket, Prefix: BUCKET_PREFIXES.results, Delimiter: '/', ContinuationToken,
    })));
    for (const p of out.CommonPrefixes ?? []) if (p.Prefix) runs.push(p.Prefix.slice(BUCKET_PREFIXES.results.length).replace(/\/$/, ''));
    ContinuationToken = out.NextContinuationToken;
    if (!out.IsTruncated || !ContinuationToken) break;
  }
  return runs.sort();
}

/**
 * Every object under the prefix into `dir`, like `aws s3 sync`: a file already there with the same size is kept.
 * A key that would land outside `dir` (`..`) is refused rather than written.
 */
async function download(clients: AwsClients, bucket: string, prefix: string, dir: string): Promise<{ files: number; bytes: number; skipped: number }> {
  const objects: _Object[] = [];
  let ContinuationToken: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const out = await awsCall('s3:ListBucket', clients.region, () => clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken })));
    objects.push(...(out.Contents ?? []));
    ContinuationToken = out.NextContinuationToken;
    if (!out.IsTruncated || !ContinuationToken) break;
  }
  let files = 0;
  let bytes = 0;
  let skipped = 0;
  for (const o of objects) {
    if (!o.Key || o.Key.endsWith('/')) continue;
    const target = resolve(dir, o.Key.slice(prefix.length));
    if (relative(dir, target).startsWith('..') || !target.startsWith(dir + sep)) {
      throw new CommandFailure(`refusing to write s3://${bucket}/${o.Key}: it would land outside ${dir}`);
    }
    if (sizeOf(target) === o.Size) { skipped++; continue; }
    const out = await awsCall('s3:GetObject', clients.region, () => clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key })));
    mkdirSync(dirname(target), { recursive: true });
    await pipeline(out.Body as Readable, createWriteStream(target));
    files++;
    bytes += o.Size ?? 0;
  }
  return { files, bytes, skipped };
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
