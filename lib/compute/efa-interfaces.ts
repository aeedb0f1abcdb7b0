import type { aws_ec2 as ec2 } from 'aws-cdk-lib';
import type { GpuInstanceSpec } from '../catalog/instances';
import type { EfaLayout } from '../config/cluster-config';

type NetworkInterface = ec2.CfnLaunchTemplate.NetworkInterfaceProperty;

/**
 * The network interfaces of a GPU node, derived from its catalog entry (one EFA device per network card), in
 * the layout chosen:
 *
 * - `efa-only` (AWS's current guidance, EC2 guide "Maximize network bandwidth on accelerated instances"): the
 *   primary is a plain ENA `interface` at card 0 / device 0 (an `efa-only` interface can never be primary); card 0
 *   also gets an `efa-only` interface at device 1; every other card gets one `efa-only` at device 0. On a
 *   p5.48xlarge that is 33 interfaces: 32 EFA devices + 1 ENA, and only the ENA one uses a private IP.
 * - `efa`: the older layout used by dstack and SkyPilot: an `efa` interface (EFA + IP traffic) at device 0 of
 *   card 0 and at device 1 of every other card: one interface per card, each holding a private IP.
 */
export function efaNetworkInterfaces(
  spec: GpuInstanceSpec,
  layout: EfaLayout,
  securityGroupId: string,
  subnetId: string,
): NetworkInterface[] {
  const efaCards = Math.min(spec.networkCards, spec.maxEfaInterfaces);
  const iface = (card: number, device: number, interfaceType: string | undefined): NetworkInterface => ({
    networkCardIndex: card,
    deviceIndex: device,
    ...(interfaceType ? { interfaceType } : {}),
    groups: [securityGroupId],
    subnetId,
    deleteOnTermination: true,
  });

  if (layout === 'efa') {
    return Array.from({ length: efaCards }, (_, card) => iface(card, card === 0 ? 0 : 1, 'efa'));
  }
  const interfaces = [iface(0, 0, undefined)];
  if (spec.efaOnCardZero) interfaces.push(iface(0, 1, 'efa-only'));
  for (let card = 1; card < efaCards; card++) interfaces.push(iface(card, 0, 'efa-only'));
  return interfaces;
}

/** How many EFA devices a node in this layout exposes: what the bootstrap's `fi_info` check expects. */
export function expectedEfaDevices(spec: GpuInstanceSpec, layout: EfaLayout): number {
  return efaNetworkInterfaces(spec, layout, 'sg', 'subnet').filter((i) => i.interfaceType !== undefined).length;
}
