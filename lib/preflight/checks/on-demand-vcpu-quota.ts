import { instanceSpec } from '../../catalog/instances';
import { vcpuQuotaFor } from '../../catalog/quotas';
import { classifyAwsError } from '../../cli/aws-errors';
import { PreflightCheck, result } from '../types';
import { NodeRole, nodesOf } from './node-roles';

/**
 * On-demand launches fail with VcpuLimitExceeded when the family's vCPU quota is below what the stack starts.
 * Whether launches into an ODCR or a Capacity Block draw on the same quota is not confirmed here, so with a
 * reservation a shortfall is a warning, not a failure.
 */
export function onDemandVcpuQuota(role: NodeRole): PreflightCheck {
  const name = role === 'gpu' ? 'GPU vCPU quota' : 'head vCPU quota';
  return {
    name,
    async run({ config, account }) {
      const nodes = nodesOf(config, role);
      if (!nodes) return undefined;
      const quota = vcpuQuotaFor(nodes.instanceType);
      const spec = instanceSpec(nodes.instanceType);
      if (!quota || !spec) return result(name, 'warn', `no known vCPU quota for ${nodes.instanceType}; check it in the Service Quotas console`, 'catalog');
      const needed = nodes.count * spec.vcpus;
      const source = `live: Service Quotas ${quota.code} vs catalog vCPUs`;
      let value: number | undefined;
      try {
        value = await account.ec2Quota(quota.code);
      } catch (error) {
        const failure = classifyAwsError(error);
        if (failure.kind === 'credentials' || failure.kind === 'network') throw error;
        return result(name, 'warn', `could not read ${quota.code} "${quota.title}" (${failure.code}: ${failure.message}); ` +
          `${needed} vCPUs are needed: check it in the Service Quotas console`, source);
      }
      if (value === undefined) {
        return result(name, 'warn', `Service Quotas returned no value for ${quota.code} "${quota.title}"; ${needed} vCPUs are needed`, source);
      }
      const need = `${nodes.count} × ${nodes.instanceType} × ${spec.vcpus} vCPUs = ${needed}`;
      if (value >= needed) {
        return result(name, 'pass', `${quota.code} "${quota.title}" is ${value} vCPUs, covering ${need} ` +
          '(instances of this family already running use part of it)', source);
      }
      const fix = `request ${needed}: aws service-quotas request-service-quota-increase --service-code ec2 ` +
        `--quota-code ${quota.code} --desired-value ${needed} --region ${account.region}`;
      const reserved = role === 'gpu' && config.capacityReservationId !== undefined;
      if (reserved) {
        return result(name, 'warn', `${quota.code} "${quota.title}" is ${value} vCPUs, below ${need}; launches into ` +
          `${config.capacityReservationId} may not need it (unconfirmed): if the launch fails with VcpuLimitExceeded, ${fix}`, source);
      }
      return result(name, 'fail', `${quota.code} "${quota.title}" is ${value} vCPUs, below ${need}: ${fix}`, source);
    },
  };
}
