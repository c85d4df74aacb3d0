// The console's live feed: while someone uses the console, every `sampleMs` it reads the
// meta state (at most half a period old), meta's status, each node's metrics and the
// sentinels' observations, records a telemetry sample (replication lag, repair bytes per
// second) and hands the new view to every subscriber (the server-sent event streams).
// It starts on the first console request and goes idle `idleMs` after the last one, so a
// gateway nobody watches does not poll its nodes.
import type { Logger } from 'pino';
import type { MemberStatus } from '../../meta/member.js';
import type { MetaState } from '../../meta/types.js';
import type { LiveStore, SentinelObservation } from '../live-store/index.js';
import type { MapCache } from '../map-cache.js';
import type { MetaLink } from '../meta-link.js';
import { probeNode, type NodeStats } from './node-probe.js';
import type { RequestHistory } from './request-history.js';
import { consoleView, metaMembersView, type ConsoleView, type TelemetrySample } from './view.js';
import { WakeableSleep } from '../../common/wakeable-sleep.js';

export interface ConsoleFeedOptions {
  readonly gateway: string;
  readonly mapCache: Pick<MapCache, 'state'>;
  readonly meta: Pick<MetaLink, 'status'>;
  readonly live: Pick<LiveStore, 'observations'>;
  readonly requests: RequestHistory;
  /** The gateway's own credential for the nodes' /metrics. */
  readonly token: () => string;
  readonly log: Logger;
  readonly now: () => number;
  /** Default 2 s. */
  readonly sampleMs?: number;
  /** Default 15 minutes. */
  readonly idleMs?: number;
  /** Telemetry kept, default 10 minutes. */
  readonly historyMs?: number;
}

export type ViewListener = (view: ConsoleView) => void;

export class ConsoleFeed {
  readonly sampleMs: number;
  readonly #idleMs: number;
  readonly #historyMs: number;
  readonly #listeners = new Set<ViewListener>();
  #samples: TelemetrySample[] = [];
  /** Bytes done per plan at the previous sample, for the repair rate. */
  #planBytes = new Map<string, number>();
  #lastSampleAt: number | null = null;
  #view: ConsoleView | null = null;
  #inflight: Promise<ConsoleView> | null = null;
  #lastInterest = 0;
  #loop: Promise<void> | null = null;
  #stopped = false;
  readonly #pause = new WakeableSleep();

  constructor(private readonly opts: ConsoleFeedOptions) {
    this.sampleMs = Math.max(100, opts.sampleMs ?? 2000);
    this.#idleMs = opts.idleMs ?? 15 * 60_000;
    this.#historyMs = opts.historyMs ?? 10 * 60_000;
  }

  /** The newest view (taken now if the feed was idle); keeps the feed running. */
  async view(): Promise<ConsoleView> {
    this.#touch();
    if (this.#view !== null) return this.#view;
    return this.#sampleOnce();
  }

  /** Calls `listener` with every new view until the returned function is called. */
  subscribe(listener: ViewListener): () => void {
    this.#touch();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      this.#lastInterest = this.opts.now();
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pause.wake();
    await this.#loop;
  }

  #touch(): void {
    this.#lastInterest = this.opts.now();
    if (this.#loop === null && !this.#stopped) {
      this.#loop = this.#run().finally(() => {
        this.#loop = null;
      });
    }
  }

  #watched(): boolean {
    return this.#listeners.size > 0 || this.opts.now() - this.#lastInterest < this.#idleMs;
  }

  async #run(): Promise<void> {
    while (!this.#stopped && this.#watched()) {
      try {
        const view = await this.#sampleOnce();
        for (const listener of this.#listeners) listener(view);
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'console feed sample failed');
      }
      await this.#pause.sleep(this.sampleMs);
    }
  }

  /** One sample at a time: a caller arriving during one shares it. */
  #sampleOnce(): Promise<ConsoleView> {
    if (this.#inflight === null) {
      this.#inflight = this.#sample().finally(() => {
        this.#inflight = null;
      });
    }
    return this.#inflight;
  }

  async #sample(): Promise<ConsoleView> {
    const now = this.opts.now();
    let state: MetaState | null = null;
    let stateError: string | null = null;
    try {
      state = await this.opts.mapCache.state(this.sampleMs / 2);
    } catch (err) {
      stateError = `meta state unavailable: ${(err as Error).message}`;
    }
    let status: MemberStatus | null = null;
    let statusError: string | null = null;
    try {
      status = await this.opts.meta.status();
    } catch (err) {
      statusError = `meta status unavailable: ${(err as Error).message}`;
    }
    const nodes = state === null ? [] : Object.values(state.nodes).filter((n) => n.state !== 'removed');
    const timeoutMs = Math.min(1500, this.sampleMs);
    const token = this.opts.token();
    const [stats, observations] = await Promise.all([
      Promise.all(nodes.map(async (n) => [n.id, await probeNode(n.url, token, timeoutMs)] as const)),
      Promise.all(nodes.map(async (n) => [n.id, await this.opts.live.observations(n.id).catch((): SentinelObservation[] => [])] as const)),
    ]);
    const statsById = new Map<string, NodeStats>(stats);
    this.#record(now, state, statsById);
    const view = consoleView({
      now,
      gateway: this.opts.gateway,
      state,
      stateError,
      meta: metaMembersView(status, statusError),
      stats: statsById,
      observations: new Map(observations),
      telemetry: { requests: this.opts.requests.points(now, Math.round(this.#historyMs / 1000)), samples: this.#samples },
    });
    this.#view = view;
    return view;
  }

  /** Appends a telemetry sample: the largest lag, and plan bytes copied since the last one. */
  #record(now: number, state: MetaState | null, stats: ReadonlyMap<string, NodeStats>): void {
    if (state === null) return;
    const bytes = new Map(state.plans.map((p) => [p.id, p.moves.reduce((s, m) => s + m.bytesDone, 0)]));
    let copied = 0;
    for (const [id, done] of bytes) copied += Math.max(0, done - (this.#planBytes.get(id) ?? 0));
    const elapsedS = this.#lastSampleAt === null ? 0 : (now - this.#lastSampleAt) / 1000;
    let lag: number | null = null;
    for (const s of stats.values()) if (s.replicationLag !== null) lag = Math.max(lag ?? 0, s.replicationLag);
    // The first sample has no previous one to measure a rate against.
    if (this.#lastSampleAt !== null && elapsedS > 0) {
      this.#samples = [...this.#samples.filter((x) => x.at > now - this.#historyMs), { at: now, replicationLag: lag, repairBytesPerSecond: copied / elapsedS }];
    }
    this.#planBytes = bytes;
    this.#lastSampleAt = now;
  }
}
