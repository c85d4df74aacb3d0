// The sentinel's shell: it keeps the node list from meta, probes every node once per
// interval, feeds the results (and heartbeats) to each node's pure detector, reports
// its view to the LiveStore, and submits `node-state` to meta when the verdict of all
// live sentinels calls for it. Decisions are level-triggered (this view against meta's),
// so a lost command, a restart or a change by someone else is simply seen again next
// round; a repeat of the same command is held back for a while.
import type { Logger } from 'pino';
import type { LiveStore, SentinelObservation } from '../gateway/live-store/index.js';
import { MetaClientError } from '../meta/client.js';
import type { MetaState, NodeState } from '../meta/types.js';
import { checkDetectorSettings, newDetector, step, type DetectorEvent, type DetectorSettings, type DetectorState, type NodeHealth } from './detector.js';
import type { SentinelMeta } from './meta-link.js';
import { MetaView } from './meta-view.js';
import { SentinelMetrics } from './metrics.js';
import { httpProbe, type ProbeFn } from './probe.js';
import { Sleeper } from './sleeper.js';
import { verdict, type Verdict } from './verdict.js';

export interface SentinelSettings extends DetectorSettings {
  /** Time between two probes of one node. */
  readonly intervalMs: number;
  /** A probe without an answer after this long is a miss. */
  readonly timeoutMs: number;
  /** Sentinels that must see a node down before it is reported down. */
  readonly quorum: number;
  /** How long an observation lives in the LiveStore (default 3 intervals + a timeout). */
  readonly observationTtlMs?: number;
  /** Long-poll period of the meta watch, so node states are re-read at least this often (default 5 s). */
  readonly refreshMs?: number;
}

export interface SentinelOptions {
  readonly id: string;
  readonly meta: SentinelMeta;
  readonly liveStore: LiveStore;
  readonly settings: SentinelSettings;
  readonly log: Logger;
  readonly probe?: ProbeFn;
  readonly metrics?: SentinelMetrics;
  readonly now?: () => number;
}

/** One node as this sentinel tracks it. */
export interface NodeView {
  readonly id: string;
  readonly url: string;
  /** The node's state in meta, as last read or set by this sentinel. */
  readonly meta: NodeState;
  readonly health: NodeHealth;
  readonly since: number;
}

interface Tracked {
  readonly id: string;
  url: string;
  meta: NodeState;
  detector: DetectorState;
  submitting: boolean;
  lastSubmit: { state: Verdict['state']; atMs: number } | null;
}

export class Sentinel {
  readonly id: string;
  readonly metrics: SentinelMetrics;
  readonly #o: SentinelOptions;
  readonly #s: Required<SentinelSettings>;
  readonly #probe: ProbeFn;
  readonly #now: () => number;
  readonly #nodes = new Map<string, Tracked>();
  readonly #pending = new Set<Promise<void>>();
  readonly #view: MetaView;
  readonly #sleeper = new Sleeper();
  #running = false;
  #loop: Promise<void> | undefined;
  #liveStoreDown = false;

  constructor(options: SentinelOptions) {
    const s = options.settings;
    checkDetectorSettings(s);
    for (const [name, v] of [['intervalMs', s.intervalMs], ['timeoutMs', s.timeoutMs], ['quorum', s.quorum]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    this.id = options.id;
    this.#o = options;
    this.#s = {
      ...s,
      observationTtlMs: s.observationTtlMs ?? 3 * s.intervalMs + s.timeoutMs,
      refreshMs: s.refreshMs ?? 5000,
    };
    this.#probe = options.probe ?? httpProbe;
    this.#now = options.now ?? Date.now;
    this.metrics = options.metrics ?? new SentinelMetrics();
    this.metrics.nodesLocal = () => tally([...this.#nodes.values()].map((n) => n.detector.health));
    this.metrics.nodesMeta = () => tally([...this.#nodes.values()].map((n) => n.meta));
    this.#view = new MetaView({
      meta: options.meta, log: options.log, refreshMs: this.#s.refreshMs, now: this.#now, onNodes: (nodes) => this.#applyNodes(nodes),
    });
  }

  /**
   * Reads the node list, then runs. Meta being unreachable is logged and retried; a
   * credential meta refuses (401, 403) is thrown.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await this.#view.read();
    } catch (err) {
      // A credential meta refuses will not get better by waiting: say so at once.
      if (err instanceof MetaClientError && (err.status === 401 || err.status === 403)) {
        this.#running = false;
        throw err;
      }
      this.#o.log.warn({ err: (err as Error).message }, 'cannot read the meta state yet; retrying');
    }
    this.#view.start();
    this.#loop = this.#probeLoop();
  }

  /** Stops probing and waits for submissions in flight; a watch in flight ends by itself. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#view.stop();
    this.#sleeper.stop();
    await this.#loop;
    await Promise.allSettled([...this.#pending]);
  }

  /** A heartbeat from a node: as good as a successful probe. Null for a node meta does not list (or removed). */
  heartbeat(nodeId: string): NodeView | null {
    const n = this.#nodes.get(nodeId);
    if (n === undefined) return null;
    this.metrics.heartbeats++;
    this.#feed(n, { type: 'success', atMs: this.#now() });
    return viewOf(n);
  }

  isRevoked(credentialId: string): boolean {
    return this.#view.isRevoked(credentialId);
  }

  nodes(): NodeView[] {
    return [...this.#nodes.values()].map(viewOf).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async #probeLoop(): Promise<void> {
    while (this.#running) {
      const started = this.#now();
      try {
        await Promise.all([...this.#nodes.values()].map((n) => this.#check(n)));
      } catch (err) {
        this.#o.log.error({ err }, 'probe round failed');
      }
      await this.#sleeper.sleep(this.#s.intervalMs - (this.#now() - started));
    }
  }

  async #check(n: Tracked): Promise<void> {
    const result = await this.#probe(n.id, n.url, this.#s.timeoutMs);
    if (!this.#running || this.#nodes.get(n.id) !== n) return;
    this.metrics.probed(result);
    const atMs = this.#now();
    if (result.ok) this.#feed(n, { type: 'success', atMs });
    else {
      if (n.detector.misses === 0) this.#o.log.debug({ node: n.id, reason: result.reason, detail: result.detail }, 'probe missed');
      this.#feed(n, { type: 'miss', atMs, reason: result.reason });
    }
    const observations = await this.#share(n);
    if (observations === null) return;
    const v = verdict({ meta: n.meta, local: n.detector.health, observations, quorum: this.#s.quorum });
    if (v !== null) this.#submit(n, v);
  }

  #feed(n: Tracked, event: DetectorEvent): void {
    const { state, change } = step(n.detector, event, this.#s);
    n.detector = state;
    if (change === null) return;
    this.metrics.changed(change.to);
    this.#o.log.info({ node: n.id, from: change.from, to: change.to, reason: change.reason }, `node ${n.id} looks ${change.to}`);
  }

  /** Reports this sentinel's view and reads everyone's; null when the LiveStore cannot answer. */
  async #share(n: Tracked): Promise<SentinelObservation[] | null> {
    const store = this.#o.liveStore;
    try {
      await store.reportObservation(this.id, n.id, { state: n.detector.health, atMs: this.#now() }, this.#s.observationTtlMs);
      const observations = await store.observations(n.id);
      if (this.#liveStoreDown) this.#o.log.info('the LiveStore answers again');
      this.#liveStoreDown = false;
      return observations;
    } catch (err) {
      // Fail closed: without the others' observations there is no quorum to count.
      this.metrics.liveStoreErrors++;
      if (!this.#liveStoreDown) this.#o.log.warn({ err: (err as Error).message }, 'cannot share observations; no node-state decisions until the LiveStore answers');
      this.#liveStoreDown = true;
      return null;
    }
  }

  #submit(n: Tracked, v: Verdict): void {
    const now = this.#now();
    if (n.submitting) return;
    const holdMs = Math.max(this.#s.refreshMs, 3 * this.#s.intervalMs);
    if (n.lastSubmit !== null && n.lastSubmit.state === v.state && now - n.lastSubmit.atMs < holdMs) return;
    n.submitting = true;
    n.lastSubmit = { state: v.state, atMs: now };
    const log = this.#o.log;
    const task = this.#o.meta.command({ type: 'node-state', nodeId: n.id, state: v.state }).then(
      (result) => {
        if (result.ok) {
          n.meta = v.state;
          this.metrics.submitted(v.state, 'ok');
          log.info({ node: n.id, state: v.state, reason: v.reason, planId: result.planId, unplaced: result.unplaced }, `meta: node ${n.id} is now ${v.state}`);
        } else {
          // Meta's rules win (already in that state, a transition it refuses): re-read and move on.
          this.metrics.submitted(v.state, 'refused');
          log.info({ node: n.id, state: v.state, code: result.code, message: result.message }, 'meta refused the node state');
          this.#view.refreshNow();
        }
      },
      (err: Error) => {
        this.metrics.submitted(v.state, 'error');
        log.warn({ node: n.id, state: v.state, err: err.message }, 'cannot submit the node state to meta; will retry');
        n.lastSubmit = null;
      },
    ).finally(() => {
      n.submitting = false;
      this.#pending.delete(task);
    });
    this.#pending.add(task);
  }

  #applyNodes(nodes: MetaState['nodes']): void {
    if (!this.#running) return;
    const now = this.#now();
    for (const id of this.#nodes.keys()) if (nodes[id] === undefined || nodes[id]!.state === 'removed') this.#nodes.delete(id);
    for (const record of Object.values(nodes)) {
      if (record.state === 'removed') continue;
      const n = this.#nodes.get(record.id);
      if (n === undefined) {
        // Start from meta's word: a restarted sentinel need not rediscover a down node.
        this.#nodes.set(record.id, {
          id: record.id, url: record.url, meta: record.state, detector: newDetector(healthOf(record.state), now),
          submitting: false, lastSubmit: null,
        });
        this.#o.log.debug({ node: record.id, url: record.url, state: record.state }, 'watching node');
      } else {
        n.url = record.url;
        n.meta = record.state;
      }
    }
  }
}

function healthOf(state: NodeState): NodeHealth {
  return state === 'down' ? 'down' : state === 'suspect' ? 'suspect' : 'up';
}

function viewOf(n: Tracked): NodeView {
  return { id: n.id, url: n.url, meta: n.meta, health: n.detector.health, since: n.detector.since };
}

function tally<K extends string>(values: K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
