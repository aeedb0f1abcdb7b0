import { PreflightCheck, result } from '../types';

const NAME = 'reservation kind';

/**
 * A Capacity Block needs `MarketType: capacity-block` in the launch template and an On-Demand Capacity Reservation
 * must not have it; EC2 rejects the launch either way, so the setting has to agree with the reservation's type.
 */
export const capacityBlockSettingMatches: PreflightCheck = {
  name: NAME,
  async run({ config, account }) {
    const id = config.capacityReservationId;
    if (id === undefined) return undefined;
    const reservation = await account.capacityReservation(id);
    if (!reservation) return undefined;
    const isBlock = reservation.ReservationType === 'capacity-block';
    const source = 'live: DescribeCapacityReservations';
    if (isBlock && !config.capacityBlock) {
      return result(NAME, 'fail', `${id} is a Capacity Block (ReservationType capacity-block) but capacityBlock=false: ` +
        'set capacityBlock=true', source);
    }
    if (!isBlock && config.capacityBlock) {
      return result(NAME, 'fail', `${id} is an On-Demand Capacity Reservation (ReservationType ` +
        `${reservation.ReservationType ?? 'default'}), not a Capacity Block, but capacityBlock=true: set capacityBlock=false`, source);
    }
    return result(NAME, 'pass', isBlock ? `${id} is a Capacity Block and capacityBlock=true`
      : `${id} is an On-Demand Capacity Reservation and capacityBlock=false`, source);
  },
};
