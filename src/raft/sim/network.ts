// The simulated network: per-link delay, loss, duplication and reordering (by random
// delays), plus partitions as a set of cut directed links.
import type { Message, MemberId } from '../types.js';
import type { Rng } from './rng.js';

export interface NetworkFaults {
  loss: number;
  duplicate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const calmNetwork: NetworkFaults = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 4 };

export class SimNetwork {
  faults: NetworkFaults = { ...calmNetwork };
  private cut = new Set<string>();
  constructor(private readonly rng: Rng) {}

  /** Delivery delays for one message: none when lost, two when duplicated. */
  deliveries(m: Message): number[] {
    if (this.cut.has(`${m.from}>${m.to}`)) return [];
    if (this.rng.chance(this.faults.loss)) return [];
    const delay = () => this.rng.int(this.faults.minDelayMs, this.faults.maxDelayMs + 1);
    const out = [delay()];
    if (this.rng.chance(this.faults.duplicate)) out.push(delay());
    return out;
  }

  /** Is the link open at delivery time too? A partition also drops messages in flight. */
  open(from: MemberId, to: MemberId): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  cutOneWay(from: MemberId, to: MemberId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Split into groups; links inside a group stay, links across are cut both ways. */
  partition(groups: MemberId[][]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
    }
  }

  heal(): void {
    this.cut.clear();
    this.faults = { ...calmNetwork };
  }

  describe(): string {
    return this.cut.size === 0 ? 'connected' : `${this.cut.size} cut links`;
  }
}
