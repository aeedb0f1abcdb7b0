import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { collectRawConfig } from '../../lib/config/sources';
import { parseClusterConfig } from '../../lib/config/cluster-config';
import { ConfigError } from '../../lib/config/errors';

const files: Record<string, string> = {
  'good.yaml': 'gpuNodes: 3\ngpuInstanceType: p5en.48xlarge\nmodel: Qwen/Qwen3-32B\n',
  'typo.yaml': 'gpuNode: 3\n',
  'broken.yaml': 'gpuNodes: [3\nmodel: x\n',
  'list.yaml': '- gpuNodes\n',
};
const readFile = (path: string): string => {
  if (!(path in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return files[path];
};

function configError(fn: () => unknown): string[] {
  try { fn(); } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  assert.fail('expected a ConfigError');
}

describe('configuration sources', () => {
  it('reads a YAML file named by -c config=…', () => {
    const c = parseClusterConfig(collectRawConfig({ config: 'good.yaml' }, readFile));
    assert.equal(c.gpuNodes, 3);
    assert.equal(c.model, 'Qwen/Qwen3-32B');
  });

  it('lets context override the file', () => {
    const c = parseClusterConfig(collectRawConfig({ config: 'good.yaml', gpuNodes: '4' }, readFile));
    assert.equal(c.gpuNodes, 4);
    assert.equal(c.gpuInstanceType, 'p5en.48xlarge');
  });

  it('ignores CDK\'s own context keys but not our typos', () => {
    const raw = collectRawConfig({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:enable-path-metadata': true, livePrices: 'true' }, readFile);
    assert.deepEqual(raw, {});
    assert.match(configError(() => parseClusterConfig(collectRawConfig({ gpuNode: '3' }, readFile)))[0], /^unknown setting gpuNode/);
  });

  it('rejects an unknown key in the YAML file', () => {
    assert.match(configError(() => parseClusterConfig(collectRawConfig({ config: 'typo.yaml' }, readFile)))[0], /^unknown setting gpuNode/);
  });

  it('rejects a YAML file that does not parse, naming the file and line', () => {
    const [problem] = configError(() => collectRawConfig({ config: 'broken.yaml' }, readFile));
    assert.match(problem, /^invalid setting config=broken\.yaml: not valid YAML at line \d+/);
  });

  it('rejects a YAML file that is not a mapping, and a missing file', () => {
    assert.match(configError(() => collectRawConfig({ config: 'list.yaml' }, readFile))[0], /must hold a YAML mapping/);
    assert.match(configError(() => collectRawConfig({ config: 'nope.yaml' }, readFile))[0], /^invalid setting config=nope\.yaml: cannot read the file \(ENOENT\)/);
  });
});
