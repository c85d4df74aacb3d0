// node-heartbeat to meta every few seconds: the first one turns the node from `joining`
// into `up`, every one refreshes `lastHeartbeat` and the node's URL. A refusal because
// the node was removed is logged loudly: such a node must join again under a new id.
import type { Logger } from 'pino';
import type { SerialCommands } from './meta-link.js';

export class Heartbeat {
  #timer: NodeJS.Timeout | null = null;
  #inFlight = false;
  #beats = 0;

  constructor(
    private readonly commands: SerialCommands,
    private readonly nodeId: string,
    private readonly url: string,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  get beats(): number {
    return this.#beats;
  }

  start(): void {
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.everyMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async beat(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const result = await this.commands.run({ type: 'node-heartbeat', nodeId: this.nodeId, url: this.url });
      if (result.ok) this.#beats++;
      else this.log.error({ code: result.code, message: result.message }, 'meta refused the heartbeat');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed');
    } finally {
      this.#inFlight = false;
    }
  }
}
