// Beacons from this node, as primary, to every fenced replica: one request per peer node
// carrying all the partitions it replicates for us, every beaconMs. An acknowledgement
// extends the partition's read lease (from the beacon's send time); a refusal naming a
// newer epoch ends our term.
import type { NodeContext } from '../context.js';
import type { BeaconItem } from './peers.js';
import type { PrimaryDriver } from './primary.js';

export class BeaconSender {
  #timer: NodeJS.Timeout | null = null;
  readonly #busy = new Set<string>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly drivers: () => Iterable<PrimaryDriver>,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#round(), this.ctx.timing.beaconMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round now (also used right after a primary turns active). */
  #round(): void {
    const byPeer = new Map<string, { item: BeaconItem; driver: PrimaryDriver }[]>();
    for (const driver of this.drivers()) {
      const core = driver.core;
      // A primary that gave its lease up for a handover must not renew it (nor the promises).
      if (core === null || driver.stopped || core.leaseReleased) continue;
      for (const id of core.fencedMembers()) {
        let list = byPeer.get(id);
        if (list === undefined) byPeer.set(id, (list = []));
        list.push({ item: { partition: driver.partition, epoch: driver.epoch }, driver });
      }
    }
    for (const [peer, list] of byPeer) {
      if (this.#busy.has(peer)) continue; // the previous round to it is still out: it is slow
      void this.#send(peer, list);
    }
  }

  async #send(peer: string, list: { item: BeaconItem; driver: PrimaryDriver }[]): Promise<void> {
    const url = this.ctx.map.nodeUrl(peer);
    if (url === undefined) return;
    this.#busy.add(peer);
    const sentAt = this.ctx.now();
    try {
      const answers = await this.ctx.peers.beacons(url, list.map((l) => l.item), this.ctx.timing.timeoutMs);
      for (const a of answers) {
        const entry = list.find((l) => l.item.partition === a.partition);
        if (entry === undefined) continue;
        if (a.ok && a.epoch === entry.item.epoch) entry.driver.onBeaconAck(peer, sentAt);
        else if (a.epoch > entry.item.epoch) entry.driver.onNewerEpoch(a.epoch);
      }
    } catch {
      // No acknowledgement: the lease runs out and the core's timeout decides.
    } finally {
      this.#busy.delete(peer);
    }
  }
}
