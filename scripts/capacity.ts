/**
 * `npm run capacity -- find|buy …`: EC2 Capacity Blocks for the GPU nodes. The logic is in lib/capacity; this
 * file only connects it to the process (stdin for the purchase confirmation, files for --write-config).
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { runCapacityCommand } from '../lib/capacity/command';
import { processInputs, runAsScript } from '../lib/cli/process';

async function confirm(question: string): Promise<string | undefined> {
  // Only a person at a terminal can confirm a purchase; piped input is not a confirmation.
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

runAsScript((inputs) => runCapacityCommand({ ...inputs, confirm, writeFile: (path, text) => writeFileSync(path, text) }), processInputs());
