// The node's link to meta: a cached partition map refreshed by long-polling the watch
// (each answer also confirms, as of its send time, that the map was current), and meta
// commands submitted one at a time per client session, as MetaClient requires.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { MetaClient, WatchResult } from '../meta/client.js';
import type { ApplyResult, Command } from '../meta/state.js';
import type { NodeRecord, PartitionRecord } from '../meta/types.js';

export type PartitionMap = WatchResult;

export interface MapViewEvents {
  change: [map: PartitionMap, previous: PartitionMap | null];
  confirm: [sentAt: number, map: PartitionMap];
}

export class MapView extends EventEmitter<MapViewEvents> {
  #map: PartitionMap | null = null;
  #running = false;
  #abort = new AbortController();

  constructor(
    private readonly client: MetaClient,
    private readonly log: Logger,
    private readonly now: () => number,
    /** How long one long poll may wait (short when a lease depends on meta's confirmations). */
    private readonly pollMs: () => number,
  ) {
    super();
  }

  get current(): PartitionMap | null {
    return this.#map;
  }

  get version(): number {
    return this.#map?.version ?? -1;
  }

  partition(p: number): PartitionRecord | undefined {
    return this.#map?.partitions[p];
  }

  node(id: string): NodeRecord | undefined {
    const nodes = this.#map?.nodes;
    return nodes !== undefined && Object.hasOwn(nodes, id) ? nodes[id] : undefined;
  }

  nodeUrl(id: string): string | undefined {
    return this.node(id)?.url.replace(/\/+$/, '');
  }

  /** Loads the map once (linearizable), then keeps it fresh in the background. */
  async start(): Promise<void> {
    await this.refresh();
    this.#running = true;
    void this.#run();
  }

  /** Stops polling. A long poll in flight is left to finish on its own (it ignores its answer). */
  stop(): void {
    this.#running = false;
    this.#abort.abort();
  }

  /** An immediate linearizable read of the map (after a stale-epoch answer, for instance). */
  async refresh(): Promise<void> {
    const sentAt = this.now();
    this.#apply(await this.client.watch(-1, 0), sentAt);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const sentAt = this.now();
      try {
        const res = await this.client.watch(this.version, this.pollMs());
        if (!this.#running) return;
        this.#apply(res, sentAt);
      } catch (err) {
        if (!this.#running) return;
        this.log.warn({ err: (err as Error).message }, 'partition map watch failed; retrying');
        await sleep(500, this.#abort.signal);
      }
    }
  }

  #apply(res: PartitionMap, sentAt: number): void {
    const previous = this.#map;
    if (previous !== null && res.version < previous.version) return; // an answer that raced a newer one
    this.#map = res;
    if (previous === null || res.version > previous.version) this.emit('change', res, previous);
    this.emit('confirm', sentAt, res);
  }
}

/** Meta commands of one client session, one at a time. */
export class SerialCommands {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: MetaClient) {}

  run(command: Command): Promise<ApplyResult> {
    const next = this.#tail.then(() => this.client.command(command));
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
