import { PreflightCheck, result } from '../types';
import { NodeRole, nodesOf } from './node-roles';

/** Every node shares one subnet and one cluster placement group, so each type must be offered in that one AZ. */
export function offeredInZone(role: NodeRole): PreflightCheck {
  const name = role === 'gpu' ? 'GPU type offered in AZ' : 'head type offered in AZ';
  return {
    name,
    async run({ config, account }) {
      const nodes = nodesOf(config, role);
      if (!nodes) return undefined;
      const type = nodes.instanceType;
      const zones = await account.offeringZones(type);
      const source = 'live: DescribeInstanceTypeOfferings';
      if (zones.includes(config.availabilityZone)) {
        return result(name, 'pass', `${type} is offered in ${config.availabilityZone}`, source);
      }
      const where = zones.length > 0
        ? `zones of ${account.region} that offer it: ${zones.join(', ')} (set availabilityZone=${zones[0]}, or another of them)`
        : `no zone of ${account.region} offers it: choose another region`;
      return result(name, 'fail', `${type} is not offered in ${config.availabilityZone}; ${where}`, source);
    },
  };
}
