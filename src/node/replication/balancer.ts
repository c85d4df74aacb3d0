// Spreads primaries: every primary of this node that is not the placement's preferred
// replica hands the partition over to it once that replica is in sync and caught up
// (handover-core.ts decides, handover.ts does it). Without this the first node to join
// would lead every partition for ever. A few handovers at a time; a cancelled one is
// retried after a lease.
import type { NodeContext } from '../context.js';
import { balanceTarget } from './handover-core.js';
import { handOver } from './handover.js';
import type { PrimaryDriver } from './primary.js';

const MAX_CONCURRENT = 4;

export class PrimaryBalancer {
  #timer: NodeJS.Timeout | null = null;
  readonly #running = new Map<number, Promise<void>>();
  readonly #backoffUntil = new Map<number, number>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly drivers: () => Iterable<PrimaryDriver>,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#check(), Math.max(100, this.ctx.timing.beaconMs));
  }

  /** Stops starting handovers and waits for those under way. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all(this.#running.values());
  }

  #check(): void {
    const map = this.ctx.map.current;
    const replication = map?.settings?.replication;
    if (map === null || replication === undefined) return;
    const now = this.ctx.now();
    for (const driver of this.drivers()) {
      if (this.#running.size >= MAX_CONCURRENT) return;
      const { partition } = driver;
      const core = driver.core;
      const record = map.partitions[partition];
      if (core === null || driver.stopped || record === undefined || this.#running.has(partition)) continue;
      if ((this.#backoffUntil.get(partition) ?? -Infinity) > now) continue;
      const to = balanceTarget({
        partition, record, nodes: map.nodes, replication, self: this.ctx.self, core,
        activeForMs: driver.activeFor(now), settleMs: this.ctx.timing.leaseMs,
      });
      if (to === null) continue;
      const run = handOver(this.ctx, driver, to, { leave: false, settleMs: this.ctx.timing.timeoutMs })
        .then((outcome) => {
          if (outcome === 'cancelled') this.#backoffUntil.set(partition, this.ctx.now() + this.ctx.timing.leaseMs);
        })
        .catch((err: Error) => this.ctx.log.error({ partition, err }, 'handover failed'))
        .finally(() => this.#running.delete(partition));
      this.#running.set(partition, run);
    }
  }
}
