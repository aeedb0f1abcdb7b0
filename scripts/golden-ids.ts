/**
 * `npm run golden`: rewrites test/golden/logical-ids.json, the committed logical ids of every stateful or expensive
 * resource. Run it only for a deliberate change, and say in the commit which deployed resources it replaces.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandSpec } from '../lib/cli/command-line';
import { runLocalScript } from '../lib/cli/process';
import { guardedLogicalIds } from '../test/golden/guarded-ids';

const GOLDEN_COMMAND: CommandSpec = {
  invocation: 'npm run golden --',
  summary: 'Rewrites test/golden/logical-ids.json, the committed logical ids of every stateful or expensive resource ' +
    '(a changed id replaces the deployed resource). Run it only for a deliberate change, and say in the commit which ' +
    'deployed resources it replaces.',
  options: {},
  settings: false,
  exitCodes: [[0, 'wrote the file'], [2, 'bad arguments (one `error:` line; nothing written)']],
};

runLocalScript(GOLDEN_COMMAND, () => {
  const file = join(__dirname, '..', 'test', 'golden', 'logical-ids.json');
  writeFileSync(file, `${JSON.stringify(guardedLogicalIds(), null, 2)}\n`);
  console.log(`wrote ${file}`);
  return 0;
});
