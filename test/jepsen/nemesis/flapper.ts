// A flapping partition: links cut for a moment, then open, again and again, each cut
// shorter than an election timeout, so messages stall and resume without anyone
// having a clear reason to give up on a peer.
import type { FaultProxy } from '../net/proxy.js';

/** Bounds the toggling even if stop() is never called (a run is at most hours). */
const MAX_CYCLES = 100_000;

export class Flapper {
  private stopped = false;
  private cuts = 0;
  private readonly done: Promise<void>;
  private wake: (() => void) | null = null;

  constructor(private readonly proxies: readonly FaultProxy[], private readonly cutMs: number, private readonly openMs: number) {
    this.done = this.loop();
  }

  /** Stops toggling and leaves every link open; returns how many cuts there were. */
  async stop(): Promise<number> {
    this.stopped = true;
    this.wake?.();
    await this.done;
    return this.cuts;
  }

  private async loop(): Promise<void> {
    try {
      for (let i = 0; i < MAX_CYCLES && !this.stopped; i++) {
        for (const p of this.proxies) p.block();
        this.cuts++;
        await this.sleep(this.cutMs);
        for (const p of this.proxies) p.heal();
        await this.sleep(this.openMs);
      }
    } finally {
      for (const p of this.proxies) p.heal();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((r) => {
      const timer = setTimeout(() => {
        this.wake = null;
        r();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        r();
      };
    });
  }
}
