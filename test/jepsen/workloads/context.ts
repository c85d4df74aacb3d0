// What every workload gets: the gateway, the shared clock, when to stop, and its seed.
import type { GatewayTarget } from './gateway-client.js';

export interface WorkloadContext {
  readonly gateway: GatewayTarget;
  /** The history's monotonic clock, in ms. */
  readonly clock: () => number;
  /** Workers start no operation at or after this time on the clock. */
  readonly until: number;
  readonly seed: number;
  /** Keys of this run live under this prefix (ends with '/'). */
  readonly prefix: string;
  readonly workers: number;
}

/** A short random pause between operations, so a few workers do not saturate two cores. */
export function think(rand: () => number, minMs: number, maxMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, minMs + rand() * (maxMs - minMs)));
}
