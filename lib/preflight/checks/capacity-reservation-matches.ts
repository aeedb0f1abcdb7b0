import { CapacityReservation } from '@aws-sdk/client-ec2';
import { CheckStatus, PreflightCheck, result } from '../types';

const NAME = 'capacity reservation';
const SOURCE = 'live: DescribeCapacityReservations';

/** States from which the reservation will become usable on its own; anything else needs a new reservation. */
const NOT_YET_STATES = new Set(['scheduled', 'payment-pending', 'pending', 'assessing', 'delayed']);

/**
 * The GPU nodes launch into the reservation by id (targeted), so it has to exist, be usable, and agree with the
 * config on instance type, AZ and size: EC2 rejects a targeted launch that does not match the reservation.
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
    const notes: string[] = [];
    let status: CheckStatus = 'pass';
    const state = reservation.State ?? 'unknown';
    if (NOT_YET_STATES.has(state)) {
      status = 'warn';
      notes.push(`state ${state}${reservation.StartDate ? `, starts ${iso(reservation.StartDate)}` : ''}: the GPU nodes ` +
        'cannot launch before then, so deploy after the start time');
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

    if (problems.length > 0) return result(NAME, 'fail', `${id}: ${problems.join('; ')}`, SOURCE);
    const summary = `${id}: ${state}, ${free} of ${reservation.TotalInstanceCount ?? free} ${reservation.InstanceType} ` +
      `available in ${reservation.AvailabilityZone}`;
    return result(NAME, status, notes.length > 0 ? `${summary}; ${notes.join('; ')}` : summary, SOURCE);
  },
};

/** Before a reservation starts, AvailableInstanceCount can be 0 although the whole size will be free at start. */
function freeInstances(reservation: CapacityReservation, state: string): number {
  if (NOT_YET_STATES.has(state)) return reservation.TotalInstanceCount ?? reservation.AvailableInstanceCount ?? 0;
  return reservation.AvailableInstanceCount ?? 0;
}

export function iso(date: Date): string {
  return date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}
