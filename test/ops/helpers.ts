import { CommandInputs } from '../../lib/cli/command';
import { FakeAccount, FakeEndpoint, FakeOptions, startFakeAws } from '../preflight/fake-aws-endpoint';

export const FAKE_KEYS = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' };

export interface CommandRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
  readonly endpoint: FakeEndpoint;
  readonly text: string;
}

const open: FakeEndpoint[] = [];

/** Closes every fake endpoint the tests of a file started: call from `after`. */
export async function closeEndpoints(): Promise<void> {
  await Promise.all(open.splice(0).map((e) => e.close()));
}

/**
 * Runs a command in process, as its script would, with real SDK clients pointed at a fresh fake endpoint that
 * holds `account`. Settings come from a cdk.json with an empty context, plus the files in `files`.
 */
export async function runWithFake<I extends CommandInputs>(
  command: (inputs: I) => Promise<number>, argv: string[], account: FakeAccount,
  extra: Partial<I> & { files?: Record<string, string>; fake?: FakeOptions } = {},
): Promise<CommandRun> {
  const endpoint = await startFakeAws(account, extra.fake);
  open.push(endpoint);
  const out: string[] = [];
  const err: string[] = [];
  const files = extra.files ?? {};
  const inputs = {
    argv,
    contextFiles: { project: '{"app":"x","context":{}}' },
    readFile: (path: string) => {
      if (path in files) return files[path];
      throw Object.assign(new Error(`ENOENT: no such file ${path}`), { code: 'ENOENT' });
    },
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    aws: { endpoint: endpoint.url, credentials: FAKE_KEYS, env: {} },
    env: {},
    sleep: async () => undefined,
    ...extra,
  } as unknown as I;
  const code = await command(inputs);
  return { code, out, err, endpoint, text: [...out, ...err].join('\n') };
}
