import { PreflightCheck } from '../types';
import { capacityBlockSettingMatches } from './capacity-block-setting';
import { capacityBlockWindow } from './capacity-block-window';
import { capacityReservationMatches } from './capacity-reservation-matches';
import { deployCacheBucket } from './deploy-cache-bucket';
import { instanceTypeMatchesCatalog } from './instance-type-matches-catalog';
import { offeredInZone } from './offered-in-zone';
import { onDemandVcpuQuota } from './on-demand-vcpu-quota';

/** The rule pack, in report order: what the instance is, where it exists, what capacity backs it, what quota allows. */
export const PREFLIGHT_CHECKS: readonly PreflightCheck[] = [
  instanceTypeMatchesCatalog('gpu'),
  instanceTypeMatchesCatalog('head'),
  offeredInZone('gpu'),
  offeredInZone('head'),
  capacityReservationMatches,
  capacityBlockSettingMatches,
  capacityBlockWindow,
  onDemandVcpuQuota('gpu'),
  onDemandVcpuQuota('head'),
  deployCacheBucket,
];
