/** The first wait after a listener's connection is lost: PostgreSQL restarts in seconds. */
export const FIRST_RECONNECT_MS = 100;
/** The longest wait between two attempts. */
export const MAX_RECONNECT_MS = 10_000;

/**
 * How long to wait before reconnect attempt `attempt` (1 for the first): doubling from
 * FIRST_RECONNECT_MS up to MAX_RECONNECT_MS, each drawn from its upper half (`random` in
 * [0, 1)) so that many processes that lost one server do not all knock at the same moment.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RECONNECT_MS, FIRST_RECONNECT_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
