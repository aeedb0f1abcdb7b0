import { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { instanceSpec } from '../../catalog/instances';
import { PreflightCheck, result } from '../types';
import { NodeRole, nodesOf } from './node-roles';

const SOURCE = 'live: DescribeInstanceTypes vs catalog';

/**
 * The stack computes the EFA interface layout (one interface per network card, up to the EFA maximum) and the
 * quota need from the catalog, so a catalog that disagrees with EC2 yields a launch template EC2 rejects.
 */
export function instanceTypeMatchesCatalog(role: NodeRole): PreflightCheck {
  const name = role === 'gpu' ? 'GPU instance type' : 'head instance type';
  return {
    name,
    async run({ config, account }) {
      const nodes = nodesOf(config, role);
      if (!nodes) return undefined;
      const type = nodes.instanceType;
      const spec = instanceSpec(type);
      if (!spec) return result(name, 'fail', `${type} is not in the catalog (lib/catalog/instances.ts)`, 'catalog');
      const live = (await account.instanceTypes([type])).find((t) => t.InstanceType === type);
      if (!live) {
        return result(name, 'fail', `${type} is not an instance type of ${account.region} (DescribeInstanceTypes returned nothing for it)`,
          'live: DescribeInstanceTypes');
      }

      const facts: Array<[string, number | boolean | undefined, number | boolean | undefined]> = [
        ['vCPUs', spec.vcpus, live.VCpuInfo?.DefaultVCpus],
      ];
      if (spec.kind === 'gpu') {
        facts.unshift(
          ['EFA support', true, live.NetworkInfo?.EfaSupported],
          ['maximum EFA interfaces', spec.maxEfaInterfaces, live.NetworkInfo?.EfaInfo?.MaximumEfaInterfaces],
          ['network cards', spec.networkCards, live.NetworkInfo?.MaximumNetworkCards],
        );
      }
      const mismatches = facts.filter(([, catalog, actual]) => catalog !== actual);
      if (mismatches.length > 0) {
        const list = mismatches.map(([what, catalog, actual]) => `${what}: catalog ${catalog}, live ${actual ?? 'absent'}`).join('; ');
        return result(name, 'fail',
          `${type} differs from the catalog (${list}); the stack's network interfaces and quota need are computed from ` +
          'the catalog: correct lib/catalog/instances.ts before deploying', SOURCE);
      }
      return result(name, 'pass', `${type}: ${describe(live, spec.kind === 'gpu')}, as the catalog says`, SOURCE);
    },
  };
}

function describe(live: InstanceTypeInfo, gpu: boolean): string {
  const vcpus = `${live.VCpuInfo?.DefaultVCpus} vCPUs`;
  if (!gpu) return vcpus;
  const net = live.NetworkInfo;
  return `EFA supported, ${net?.EfaInfo?.MaximumEfaInterfaces} EFA interfaces, ${net?.MaximumNetworkCards} network cards, ${vcpus}`;
}
