/**
 * `npm run golden`: rewrites test/golden/logical-ids.json, the committed logical ids of every stateful or expensive
 * resource. Run it only for a deliberate change, and say in the commit which deployed resources it replaces.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guardedLogicalIds } from '../test/golden/guarded-ids';

const file = join(__dirname, '..', 'test', 'golden', 'logical-ids.json');
writeFileSync(file, `${JSON.stringify(guardedLogicalIds(), null, 2)}\n`);
console.log(`wrote ${file}`);
