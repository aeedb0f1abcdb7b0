import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { settingsTableMarkdown } from '../lib/config/settings-table';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('starts with the set-up + main-job command and the set-up + test command', () => {
    const head = readme.split('\n').slice(0, 4).join('\n');
    assert.match(head, /`npm ci && npx cdk synth --quiet`/);
    assert.match(head, /`bash scripts\/setup\.sh && npm test`/);
  });

  it('names the same test command that .ci/run runs', () => {
    const ci = readFileSync(join(__dirname, '..', '.ci', 'run'), 'utf8');
    assert.match(ci, /^bash scripts\/setup\.sh$/m);
    assert.match(ci, /^npm test$/m);
  });

  it('documents every setting, exactly as the schema defines it', () => {
    const section = readme.split('<!-- settings:begin')[1]?.split('<!-- settings:end -->')[0];
    assert.ok(section, 'the settings table markers are present');
    assert.equal(section.slice(section.indexOf('\n') + 1).trim(), settingsTableMarkdown());
  });

  it('has no unfilled placeholder', () => {
    assert.doesNotMatch(readme, /[A-Z]+_PLACEHOLDER/);
  });
});
