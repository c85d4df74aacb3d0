// The sentinel's copy of what it needs from meta: the nodes (url and state) and the
// revoked credential ids. Node states change without the partition map changing
// (suspect, up), so the watch is a long poll with a short period rather than a wait
// for the next map version; revocations, which the watch does not carry, come with a
// full state read now and then.
import type { Logger } from 'pino';
import type { MetaState } from '../meta/types.js';
import type { SentinelMeta } from './meta-link.js';
import { Sleeper } from './sleeper.js';

export interface MetaViewOptions {
  readonly meta: SentinelMeta;
  readonly log: Logger;
  /** Long-poll period of the watch: node states are re-read at least this often. */
  readonly refreshMs: number;
  readonly now: () => number;
  /** Called with every node list read. */
  readonly onNodes: (nodes: MetaState['nodes']) => void;
}

/** Revoked credentials are re-read with the whole state this often. */
const FULL_READ_EVERY_MS = 30_000;
const RETRY_MS = 1000;

export class MetaView {
  #revoked: Record<string, number> = {};
  #version = -1;
  #lastFullRead = Number.NEGATIVE_INFINITY;
  #running = false;
  #refreshing: Promise<void> | undefined;
  readonly #sleeper = new Sleeper();

  constructor(private readonly o: MetaViewOptions) {}

  /** Reads the whole state once (throws what meta answered). */
  async read(): Promise<void> {
    const { state } = await this.o.meta.state();
    this.#lastFullRead = this.o.now();
    this.#version = state.version;
    this.#revoked = { ...state.revoked };
    this.o.onNodes(state.nodes);
  }

  /** Keeps the view fresh until stop(); failures are logged and retried. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  /** A watch in flight is not waited for: its answer is dropped. */
  stop(): void {
    this.#running = false;
    this.#sleeper.stop();
  }

  /** Re-reads the whole state soon (after meta refused a command: our view may be old). */
  refreshNow(): void {
    this.#refreshing ??= this.read()
      .catch((err: Error) => this.o.log.warn({ err: err.message }, 'cannot re-read the meta state'))
      .finally(() => (this.#refreshing = undefined));
  }

  isRevoked(credentialId: string): boolean {
    const until = this.#revoked[credentialId];
    return until !== undefined && until > this.o.now();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      try {
        if (this.o.now() - this.#lastFullRead >= FULL_READ_EVERY_MS) await this.read();
        else {
          const res = await this.o.meta.watch(this.#version, this.o.refreshMs);
          if (!this.#running) return;
          this.#version = res.version;
          this.o.onNodes(res.nodes);
        }
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'cannot read the node list from meta; retrying');
        await this.#sleeper.sleep(RETRY_MS);
      }
    }
  }
}
