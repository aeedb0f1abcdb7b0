import { CapacityReservation } from '@aws-sdk/client-ec2';
import { PreflightCheck, result } from '../types';

const NAME = 'capacity reservation';
const SOURCE = 'live: DescribeCapacityReservations';

/** States from which the reservation will become usable on its own; anything else needs a new reservation. */
const NOT_YET_STATES = new Set(['scheduled', 'payment-pending', 'pending', 'assessing', 'delayed']);

/**
 * The GPU nodes launch into the reservation by id (targeted), so it has to exist, be active, and agree with the
 * config on instance type, AZ, size and placement group: EC2 rejects a targeted launch that does not match the
 * reservation ("You can only launch an instance into a Capacity Reservation that has matching attributes … has
 * sufficient available capacity … is in the active state", EC2 User Guide, capacity-reservations-launch), and the
 * stack would roll back at RunInstances after minutes of work.
 */
export const capacityReservationMatches: PreflightCheck = {
  name: NAME,
  async run({ config, account }) {
    const id = config.capacityReservationId;
    if (id === undefined) return undefined;
    const reservation = await account.capacityReservation(id);
    if (!reservation) {
      return result(NAME, 'fail', `${id} not found in ${account.region}: check the id, and that region=${account.region} ` +
        'is the region the reservation was made in', SOURCE);
    }

    const problems: string[] = [];
    const state = reservation.State ?? 'unknown';
    const kind = reservation.ReservationType === 'capacity-block' ? 'the Capacity Block' : 'the reservation';
    if (NOT_YET_STATES.has(state)) {
      problems.push(`state ${state}${reservation.StartDate ? `, starts ${iso(reservation.StartDate)}` : ''}: ${kind} has ` +
        'not started and instances launch only into an active reservation, so the deploy would roll back; deploy after ' +
        `the start${reservation.StartDate ? ` (${iso(reservation.StartDate)})` : ''}`);
    } else if (state !== 'active') {
      problems.push(`state is ${state}, not active: instances cannot launch into it`);
    }
    if (reservation.InstanceType !== config.gpuInstanceType) {
      problems.push(`instance type: reservation ${reservation.InstanceType}, config gpuInstanceType=${config.gpuInstanceType}`);
    }
    if (reservation.AvailabilityZone !== config.availabilityZone) {
      problems.push(`availability zone: reservation ${reservation.AvailabilityZone}, config availabilityZone=` +
        `${config.availabilityZone} (set availabilityZone=${reservation.AvailabilityZone})`);
    }
    const free = freeInstances(reservation, state);
    if (free < config.gpuNodes) {
      problems.push(`${free} instance${free === 1 ? '' : 's'} available, config gpuNodes=${config.gpuNodes}`);
    }
    const placement = placementGroupProblem(reservation.PlacementGroupArn, config.placementGroupName);
    if (placement) problems.push(placement);

    if (problems.length > 0) return result(NAME, 'fail', `${id}: ${problems.join('; ')}`, SOURCE);
    const inGroup = reservation.PlacementGroupArn ? `, in placement group ${placementGroupNameOf(reservation.PlacementGroupArn)}` : '';
    return result(NAME, 'pass', `${id}: ${state}, ${free} of ${reservation.TotalInstanceCount ?? free} ${reservation.InstanceType} ` +
      `available in ${reservation.AvailabilityZone}${inGroup}`, SOURCE);
  },
};

/**
 * An ODCR created in a cluster placement group (PlacementGroupArn) serves only instances launched into that group,
 * and the stack launches the GPU nodes into `placementGroupName`, or into a new group of its own when unset.
 */
function placementGroupProblem(arn: string | undefined, configured: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const name = placementGroupNameOf(arn);
  if (configured === undefined) {
    return `placement group: the reservation was created in cluster placement group ${name} (${arn}) and serves only ` +
      `instances launched into it, but placementGroupName is unset, so the stack would launch the nodes into a new ` +
      `group: set placementGroupName=${name}`;
  }
  if (configured !== name) {
    return `placement group: reservation ${name} (${arn}), config placementGroupName=${configured} ` +
      `(set placementGroupName=${name})`;
  }
  return undefined;
}

/** `arn:aws:ec2:us-east-1:123456789012:placement-group/my-group` → `my-group`. */
function placementGroupNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** Before a reservation starts, AvailableInstanceCount can be 0 although the whole size will be free at start. */
function freeInstances(reservation: CapacityReservation, state: string): number {
  if (NOT_YET_STATES.has(state)) return reservation.TotalInstanceCount ?? reservation.AvailableInstanceCount ?? 0;
  return reservation.AvailableInstanceCount ?? 0;
}

export function iso(date: Date): string {
  return date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}
