import { PreflightCheck, result } from '../types';
import { iso } from './capacity-reservation-matches';

const NAME = 'capacity block window';
/** AWS starts terminating a block's instances this long before the block's end date. */
export const BLOCK_TERMINATION_LEAD_MINUTES = 30;
const MINUTE_MS = 60_000;

/**
 * A Capacity Block ends on a fixed date and its instances are terminated 30 minutes earlier. If that comes before
 * the nodes finish bootstrapping the deploy fails; if it comes before the spend guard's maxHours, the run is cut.
 */
export const capacityBlockWindow: PreflightCheck = {
  name: NAME,
  async run({ config, account, now }) {
    const id = config.capacityReservationId;
    if (id === undefined) return undefined;
    const reservation = await account.capacityReservation(id);
    if (!reservation || reservation.ReservationType !== 'capacity-block') return undefined;
    const source = 'live: DescribeCapacityReservations';
    if (!reservation.EndDate) return result(NAME, 'warn', `${id} reports no end date; cannot check the block's window`, source);

    const terminatesAt = new Date(reservation.EndDate.getTime() - BLOCK_TERMINATION_LEAD_MINUTES * MINUTE_MS);
    const launchAt = reservation.StartDate && reservation.StartDate > now ? reservation.StartDate : now;
    const readyBy = new Date(launchAt.getTime() + config.bootstrapTimeoutMinutes * MINUTE_MS);
    const guardStopsAt = new Date(readyBy.getTime() + config.maxHours * 60 * MINUTE_MS);
    const ends = `the block ends ${iso(reservation.EndDate)} and AWS terminates its instances from ${iso(terminatesAt)}`;
    const launchText = launchAt === now ? 'now' : `the block's start ${iso(launchAt)}`;

    if (terminatesAt <= readyBy) {
      return result(NAME, 'fail', `${ends}, before the nodes are sure to be ready (${launchText} + ` +
        `bootstrapTimeoutMinutes=${config.bootstrapTimeoutMinutes} = ${iso(readyBy)}): use a later block`, source);
    }
    const usableHours = (terminatesAt.getTime() - readyBy.getTime()) / (60 * MINUTE_MS);
    if (config.maxHours > 0 && terminatesAt < guardStopsAt) {
      return result(NAME, 'warn', `${ends}, ${usableHours.toFixed(1)} h after the latest ready time; maxHours=${config.maxHours} ` +
        `would run to ${iso(guardStopsAt)}: the run is cut short (lower maxHours to ${Math.floor(usableHours * 10) / 10} ` +
        'or extend the block)', source);
    }
    return result(NAME, 'pass', `${ends}: at least ${usableHours.toFixed(1)} h of use after bootstrap` +
      (config.maxHours > 0 ? `, covering maxHours=${config.maxHours}` : ''), source);
  },
};
