/**
 * What the nodes wait for before CloudFormation launches them, read from the synthesized template: every resource a
 * node depends on, directly or through others (DependsOn, Ref, Fn::GetAtt, Fn::Sub). The NAT gateway takes minutes
 * to create and the bootstrap waits for the internet itself, so no node may depend on it; what a node uses at once
 * (S3 through the gateway endpoint, its role's policy, its security group's rules) must exist before it launches.
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import { resourcesOf, synthFiles, SynthesizedFiles } from '../helpers/synth';

type Resources = SynthesizedFiles['json']['Resources'];

/** Logical ids referenced anywhere in a value. */
function references(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) references(v, into);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof v === 'string') into.add(v);
    else if (key === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string') into.add(v[0]);
    else if (key === 'Fn::Sub') {
      const text = Array.isArray(v) ? v[0] : v;
      if (typeof text === 'string') for (const [, name] of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) into.add(name);
      if (Array.isArray(v)) references(v[1], into);
    } else references(v, into);
  }
}

/** Every resource `id` waits for, transitively. */
export function dependencyClosure(resources: Resources, id: string): Set<string> {
  const seen = new Set<string>();
  const todo = [id];
  while (todo.length > 0) {
    const r = resources[todo.pop()!];
    if (!r) continue;
    const direct = new Set<string>(r.DependsOn ?? []);
    references(r.Properties ?? {}, direct);
    for (const d of direct) {
      if (d in resources && !seen.has(d)) {
        seen.add(d);
        todo.push(d);
      }
    }
  }
  return seen;
}

const typeOf = (resources: Resources, ids: Iterable<string>) => [...ids].map((d) => `${resources[d].Type} ${d}`).sort();

describe('what the nodes wait for before they launch (default stack)', () => {
  let s: SynthesizedFiles;
  // Without CloudFormation's validation, whose engine costs seconds to start: the template is the same, and
  // test/stack.test.ts validates it. Shared with the run's other files that synthesize the default stack so.
  before(async () => { s = await synthFiles({}, {}, { cfnValidation: false }); });

  it('no node depends on the NAT gateway, its route, its address or the internet gateway', () => {
    const natPath = new Set(['AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment']);
    const routes = resourcesOf(s, 'AWS::EC2::Route').map(([id]) => id);
    assert.ok(routes.length >= 2, 'the template has the public and the NAT route');
    for (const [id] of resourcesOf(s, 'AWS::EC2::Instance')) {
      const closure = dependencyClosure(s.json.Resources, id);
      const onNat = [...closure].filter((d) => natPath.has(s.json.Resources[d].Type) || routes.includes(d));
      assert.deepEqual(typeOf(s.json.Resources, onNat), [], `${id} waits for the NAT path`);
    }
  });

  it('every node waits for the S3 gateway endpoint, its role\'s policy and its security group rules', () => {
    const [[s3Endpoint]] = resourcesOf(s, 'AWS::EC2::VPCEndpoint').filter(([, r]) => JSON.stringify(r.Properties.ServiceName).includes('.s3'));
    const policies = resourcesOf(s, 'AWS::IAM::Policy').filter(([id]) => /NodeRole/.test(id)).map(([id]) => id);
    const [[clusterSg]] = resourcesOf(s, 'AWS::EC2::SecurityGroup').filter(([id]) => /ClusterSecurityGroup/.test(id));
    const rules = [...resourcesOf(s, 'AWS::EC2::SecurityGroupIngress'), ...resourcesOf(s, 'AWS::EC2::SecurityGroupEgress')]
      .filter(([, r]) => JSON.stringify(r.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [clusterSg, 'GroupId'] })).map(([id]) => id);
    assert.equal(policies.length, 2);
    assert.equal(rules.length, 2);
    for (const [id] of resourcesOf(s, 'AWS::EC2::Instance')) {
      const closure = dependencyClosure(s.json.Resources, id);
      for (const needed of [s3Endpoint, ...policies, ...rules]) assert.ok(closure.has(needed), `${id} does not wait for ${needed}`);
    }
  });

  it('the interface endpoints are not on the nodes\' path either (the SSM agent retries until they exist)', () => {
    const interfaces = resourcesOf(s, 'AWS::EC2::VPCEndpoint').filter(([, r]) => r.Properties.VpcEndpointType === 'Interface').map(([id]) => id);
    assert.equal(interfaces.length, 3);
    for (const [id] of resourcesOf(s, 'AWS::EC2::Instance')) {
      const closure = dependencyClosure(s.json.Resources, id);
      assert.deepEqual(interfaces.filter((e) => closure.has(e)), [], id);
    }
  });
});
