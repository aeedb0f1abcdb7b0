import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GPU_INSTANCES } from '../../lib/catalog/instances';
import { efaNetworkInterfaces, expectedEfaDevices } from '../../lib/compute/efa-interfaces';

describe('EFA interface layout', () => {
  for (const [type, spec] of Object.entries(GPU_INSTANCES)) {
    it(`${type}, efa-only layout: ENA primary, one EFA device on every one of its ${spec.networkCards} cards`, () => {
      const ifaces = efaNetworkInterfaces(spec, 'efa-only', 'sg-1', 'subnet-1');
      const primary = ifaces.filter((i) => i.deviceIndex === 0 && i.networkCardIndex === 0);
      assert.equal(primary.length, 1);
      assert.equal(primary[0].interfaceType, undefined, 'the primary must be a plain ENA interface');
      const efa = ifaces.filter((i) => i.interfaceType === 'efa-only');
      assert.equal(efa.length, spec.maxEfaInterfaces);
      assert.deepEqual(efa.map((i) => i.networkCardIndex).sort((a, b) => Number(a) - Number(b)),
        Array.from({ length: spec.networkCards }, (_, c) => c));
      assert.deepEqual(efa.find((i) => i.networkCardIndex === 0)?.deviceIndex, 1);
      for (const i of efa.filter((x) => x.networkCardIndex !== 0)) assert.equal(i.deviceIndex, 0);
      const slots = new Set(ifaces.map((i) => `${i.networkCardIndex}/${i.deviceIndex}`));
      assert.equal(slots.size, ifaces.length, 'no two interfaces may share a card/device slot');
      for (const i of ifaces) assert.deepEqual(i.groups, ['sg-1']);
      assert.equal(expectedEfaDevices(spec, 'efa-only'), spec.maxEfaInterfaces);
    });
  }

  it('p5.48xlarge, older efa layout: 32 efa interfaces on unique cards 0–31, device 0 on card 0, device 1 elsewhere', () => {
    const ifaces = efaNetworkInterfaces(GPU_INSTANCES['p5.48xlarge'], 'efa', 'sg-1', 'subnet-1');
    assert.equal(ifaces.length, 32);
    assert.deepEqual(ifaces.map((i) => i.networkCardIndex), Array.from({ length: 32 }, (_, c) => c));
    assert.ok(ifaces.every((i) => i.interfaceType === 'efa'));
    assert.equal(ifaces[0].deviceIndex, 0);
    assert.ok(ifaces.slice(1).every((i) => i.deviceIndex === 1));
  });
});
