// Simulated clients: each runs one operation at a time — a write through a session
// (retried with the same sequence after a timeout or a failover) or a ReadIndex read.
import { ProposalError } from '../errors.js';
import type { SimMember, World } from './world.js';

const KEYS = ['a', 'b', 'c'];
const ATTEMPT_TIMEOUT_MS = 300;

export class SimClient {
  private seq = 0;
  private target: string | null = null;
  private attempt = 0;
  stopped = false;
  acked = 0;

  constructor(private readonly world: World, readonly id: string) {}

  start(): void {
    this.world.queue.push(this.world.now + this.world.rng.int(1, 20), () => this.nextOp());
  }

  private pickMember(): SimMember | undefined {
    const live = this.world.liveMembers();
    if (live.length === 0) return undefined;
    const known = this.target ? this.world.members.get(this.target) : undefined;
    return known?.alive ? known : this.world.rng.pick(live);
  }

  private later(ms: number, fn: () => void): void {
    this.world.queue.push(this.world.now + ms, () => {
      if (!this.stopped) fn();
    });
  }

  private nextOp(): void {
    if (this.stopped) return;
    const key = this.world.rng.pick(KEYS);
    if (this.world.rng.chance(0.6)) {
      this.seq++;
      this.write(key, `${this.id}-${this.seq}`, this.seq);
    } else {
      this.read(key, this.world.now);
    }
  }

  /** Redirected or failed: follow the hint, or try someone else. */
  private retarget(err: unknown): void {
    this.target = err instanceof ProposalError && err.leader ? err.leader : null;
  }

  private write(key: string, value: string, seq: number): void {
    const m = this.pickMember();
    if (!m) return this.later(50, () => this.write(key, value, seq));
    const attempt = ++this.attempt;
    let settled = false;
    const settle = (ok: boolean, writeIndex: number) => {
      if (settled || attempt !== this.attempt) return;
      settled = true;
      if (ok) {
        this.acked++;
        this.world.safety.writeAcked(key, writeIndex, this.world.now);
        this.later(this.world.rng.int(1, 30), () => this.nextOp());
      } else {
        this.target = null;
        this.later(this.world.rng.int(5, 40), () => this.write(key, value, seq));
      }
    };
    try {
      this.world.propose(m, this.id, seq, key, value, settle);
    } catch (err) {
      if (!(err instanceof ProposalError)) throw err;
      this.retarget(err);
      settled = true;
      return this.later(this.world.rng.int(5, 40), () => this.write(key, value, seq));
    }
    this.later(ATTEMPT_TIMEOUT_MS, () => settle(false, 0));
  }

  private read(key: string, invokedAt: number): void {
    const m = this.pickMember();
    if (!m) return this.later(50, () => this.read(key, invokedAt));
    const attempt = ++this.attempt;
    let settled = false;
    const settle = (writeIndex: number | null) => {
      if (settled || attempt !== this.attempt) return;
      settled = true;
      if (writeIndex !== null) this.world.safety.read(m.id, key, invokedAt, writeIndex);
      else this.target = null;
      // A failed or timed-out read is simply abandoned; the next op starts fresh.
      this.later(this.world.rng.int(1, 30), () => this.nextOp());
    };
    try {
      this.world.read(m, key, settle);
    } catch (err) {
      if (!(err instanceof ProposalError)) throw err;
      this.retarget(err);
      settled = true;
      return this.later(this.world.rng.int(5, 40), () => this.read(key, invokedAt));
    }
    this.later(ATTEMPT_TIMEOUT_MS, () => settle(null));
  }
}
