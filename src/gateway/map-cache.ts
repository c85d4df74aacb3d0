// The gateway's copy of the partition map. A background loop long-polls meta's watch;
// every answer (a change, or the poll timing out) is followed by one read of the whole
// state, which also carries what the watch does not (revocations, plans, heartbeats),
// and listeners (the revocation cache) get it. `refresh()` reloads at once, e.g. when a
// node answers 409 stale-epoch; concurrent refreshes share one read.
import type { Logger } from 'pino';
import { validateKey } from '../common/keys.js';
import { partitionOf } from '../meta/placement.js';
import type { MetaState } from '../meta/state.js';
import type { ClusterSettings, NodeRecord, PartitionRecord } from '../meta/types.js';
import type { MetaLink } from './meta-link.js';
import type { GatewayMetrics } from './metrics.js';
import { WakeableSleep } from '../common/wakeable-sleep.js';

export interface PartitionMap {
  readonly version: number;
  readonly settings: ClusterSettings;
  readonly nodes: Readonly<Record<string, NodeRecord>>;
  readonly partitions: readonly PartitionRecord[];
}

export interface NodeRef {
  readonly id: string;
  /** null when the node is no longer known to meta (it left the map's node list). */
  readonly url: string | null;
}

export interface Route {
  readonly key: string;
  readonly partition: number;
  readonly epoch: number;
  readonly mapVersion: number;
  /** null while the partition has no replica (no node yet, or lost). */
  readonly primary: NodeRef | null;
  /** The in-sync set, primary included. */
  readonly replicas: NodeRef[];
}

/** The map is not loaded yet (meta never answered since start): callers answer 503. */
export class MapNotLoadedError extends Error {
  constructor() {
    super('the partition map is not loaded yet: meta has not answered');
    this.name = 'MapNotLoadedError';
  }
}

export interface MapCacheOptions {
  readonly meta: MetaLink;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  /** Long-poll duration of one watch (default 25 s, at most 120 s). */
  readonly watchTimeoutMs?: number;
  readonly now?: () => number;
}

export type StateListener = (state: MetaState) => void | Promise<void>;

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

export class MapCache {
  #map: PartitionMap | null = null;
  #state: MetaState | null = null;
  #stateAtMs = 0;
  #lastContactMs: number | null = null;
  #inflight: Promise<MetaState> | null = null;
  #stopped = false;
  #loop: Promise<void> | null = null;
  readonly #pause = new WakeableSleep();
  readonly #listeners: StateListener[] = [];
  readonly #now: () => number;
  readonly watchTimeoutMs: number;

  constructor(private readonly opts: MapCacheOptions) {
    this.#now = opts.now ?? Date.now;
    this.watchTimeoutMs = Math.min(Math.max(opts.watchTimeoutMs ?? 25_000, 100), 120_000);
  }

  /** The map as last loaded, or null before the first answer from meta. */
  current(): PartitionMap | null {
    return this.#map;
  }

  /** When meta last answered a watch or a state read (epoch ms). */
  get lastContactMs(): number | null {
    return this.#lastContactMs;
  }

  onState(listener: StateListener): void {
    this.#listeners.push(listener);
  }

  /** Reloads the whole state from meta now; concurrent callers share one read. */
  refresh(cause = 'explicit'): Promise<MetaState> {
    if (this.#inflight) return this.#inflight;
    const run = (async () => {
      try {
        const { state } = await this.opts.meta.state();
        this.#apply(state);
        this.opts.metrics.mapRefreshes.inc({ cause });
        for (const listener of this.#listeners) {
          try {
            await listener(state);
          } catch (err) {
            this.opts.log.warn({ err: (err as Error).message }, 'partition map listener failed');
          }
        }
        return state;
      } catch (err) {
        this.opts.metrics.metaErrors.inc({ op: 'state' });
        throw err;
      }
    })();
    this.#inflight = run;
    void run.finally(() => {
      if (this.#inflight === run) this.#inflight = null;
    }).catch(() => undefined);
    return run;
  }

  /** The whole meta state, no older than `maxAgeMs` (read again from meta otherwise). */
  async state(maxAgeMs = 1000): Promise<MetaState> {
    if (this.#state !== null && this.#now() - this.#stateAtMs <= maxAgeMs) return this.#state;
    return this.refresh('read');
  }

  /** Where `key` lives; throws KeyError for a bad key, MapNotLoadedError before the first load. */
  routeFor(key: string): Route {
    validateKey(key);
    const map = this.#map;
    if (map === null) throw new MapNotLoadedError();
    const partition = partitionOf(key, map.settings.partitions);
    const record = map.partitions[partition];
    if (record === undefined) throw new Error(`partition ${partition} is missing from the map`);
    const ref = (id: string): NodeRef => ({ id, url: Object.hasOwn(map.nodes, id) ? map.nodes[id]!.url : null });
    return {
      key,
      partition,
      epoch: record.epoch,
      mapVersion: map.version,
      primary: record.primary === null ? null : ref(record.primary),
      replicas: record.replicas.map(ref),
    };
  }

  /** Starts the watch loop (idempotent). The first load happens in the background. */
  start(): void {
    if (this.#loop === null) this.#loop = this.#run();
  }

  /** Stops the loop; waits for the poll in flight at most `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true;
    this.#pause.wake();
    if (this.#loop) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#loop, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
  }

  #apply(state: MetaState): void {
    const now = this.#now();
    this.#state = state;
    this.#stateAtMs = now;
    this.#lastContactMs = now;
    if (state.settings !== null && (this.#map === null || state.version >= this.#map.version)) {
      this.#map = { version: state.version, settings: state.settings, nodes: state.nodes, partitions: state.partitions };
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (this.#map === null) {
          await this.refresh('start');
        } else {
          await this.opts.meta.watch(this.#map.version, this.watchTimeoutMs);
          this.#lastContactMs = this.#now();
          if (this.#stopped) break;
          await this.refresh('watch');
        }
        failures = 0;
      } catch (err) {
        if (this.#stopped) break;
        failures += 1;
        this.opts.metrics.metaErrors.inc({ op: 'watch' });
        this.opts.log.warn({ err: (err as Error).message, failures }, 'meta watch failed; retrying');
        await this.#pause.sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 5)));
      }
    }
  }
}
