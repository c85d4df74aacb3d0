// Runs a nemesis schedule against a live cluster: resolves each step's target (who leads
// meta now, which node is a primary now), applies the fault, heals it after its hold,
// and logs both with the history's clock. Everything is healed at the end, whatever
// happened.
import { NODE_IDS, PARTITIONS, type JepsenCluster } from '../cluster/cluster.js';
import { prng } from '../../helpers/prng.js';
import type { Direction, FaultProxy } from '../net/proxy.js';
import { describeFault, type CrashGroup, type Fault, type PartitionShape, type ProcessTarget, type Step } from './schedule.js';
import { Flapper } from './flapper.js';
import { clockError, continuousRate, freezeDrift, TRUE_CLOCK } from './clock.js';
import { flipMeta, flipNodeValue, tearMetaWal, type Damage } from './storage-damage.js';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a storage fault expected of its victim, and whether it happened. */
export interface StorageCheck {
  readonly fault: string;
  readonly target: string;
  readonly expected: string;
  /** true: it happened; false: it did not (a violation); null: the damage could not be applied. */
  readonly ok: boolean | null;
  readonly detail: string;
}

export interface NemesisEvent {
  readonly time: number;
  readonly action: 'start' | 'heal' | 'skip';
  readonly fault: string;
  readonly targets: string[];
  readonly note?: string;
}

type Heal = () => Promise<void> | void;

const CRASH_RECOVERY_MS = 60_000;
/** How long a victim of a storage fault has to refuse (exit) or to log what it found. */
const STORAGE_CHECK_MS = 60_000;
/** The low end of the schedule's gap between faults. */
const MIN_QUIET_MS = 1000;

export class Nemesis {
  readonly events: NemesisEvent[] = [];
  readonly storageChecks: StorageCheck[] = [];
  private readonly pendingChecks: Promise<void>[] = [];
  private readonly rand: () => number;
  private stopped: () => boolean = () => false;

  constructor(private readonly cluster: JepsenCluster, private readonly clock: () => number, seed: number) {
    // Runtime choices (which follower, which partition) have their own stream, so the
    // schedule itself does not depend on what the cluster looked like.
    this.rand = prng(seed ^ 0x7a11);
  }

  /** Runs the steps in time (ms after `startedAt` on the clock), stops early when `stopped()` says so, always heals. */
  async run(steps: readonly Step[], startedAt: number, stopped: () => boolean): Promise<void> {
    this.stopped = stopped;
    let quietUntil = 0;
    try {
      for (const step of steps) {
        if (!(await this.sleepUntil(Math.max(startedAt + step.at, quietUntil), stopped))) break;
        const heal = await this.apply(step.fault).catch((err: Error) => {
          this.log('skip', step.fault, [], `could not apply: ${err.message}`);
          return null;
        });
        if (heal === null) continue;
        await this.sleepUntil(this.clock() + step.holdMs, stopped);
        await heal();
        // A heal that overran the schedule (waiting for a crashed cluster) still leaves
        // the workloads a moment of service before the next fault.
        quietUntil = this.clock() + MIN_QUIET_MS;
      }
    } finally {
      this.cluster.healAll();
      this.events.push({ time: this.clock(), action: 'heal', fault: 'everything', targets: [] });
    }
  }

  private log(action: NemesisEvent['action'], fault: Fault, targets: string[], note?: string): void {
    this.events.push({ time: this.clock(), action, fault: describeFault(fault), targets, ...(note ? { note } : {}) });
  }

  private async sleepUntil(t: number, stopped: () => boolean): Promise<boolean> {
    for (let i = 0; i < 100_000 && this.clock() < t; i++) {
      if (stopped()) return false;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, t - this.clock()))));
    }
    return !stopped();
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rand() * xs.length)];
  }

  private async processTarget(t: ProcessTarget): Promise<string | null> {
    const c = this.cluster;
    switch (t) {
      case 'gateway':
      case 'sentinel':
        return t;
      case 'meta-leader':
        return c.metaLeader();
      case 'meta-follower': {
        const leader = await c.metaLeader();
        return this.pick(this.cluster.metaIds.filter((id) => id !== leader)) ?? null;
      }
      case 'primary':
      case 'replica': {
        const state = await c.metaState();
        const p = state === null ? undefined : this.pick(state.partitions);
        if (p === undefined || p.primary === null) return null;
        return t === 'primary' ? p.primary : this.pick(p.replicas.filter((r) => r !== p.primary)) ?? null;
      }
    }
  }

  /** Applies a fault; returns what heals it, or null when it has no target now. */
  private async apply(f: Fault): Promise<Heal | null> {
    const c = this.cluster;
    if (f.kind === 'crash') return this.crash(f);
    if (f.kind === 'clock') return this.skewClock(f);
    if (f.kind === 'slow-disk') return this.slowDisk(f);
    if (f.kind === 'storage') return this.storage(f);
    if (f.kind === 'links') return this.cutLinks(f);
    if (f.kind === 'duplicate') {
      const links = [...new Set(c.links.meta.values())];
      this.log('start', f, c.metaIds.slice());
      for (const p of links) p.duplicate(f.probability, this.rand);
      return () => {
        for (const p of links) p.heal();
        this.log('heal', f, c.metaIds.slice(), `${links.reduce((n, p) => n + p.duplicated, 0)} frames sent twice so far`);
      };
    }
    if (f.kind === 'bridge') {
      const { bridge, halves } = this.bridgeHalves();
      const cut = halves[0].flatMap((a) => halves[1].flatMap((b) => [c.links.metaLink(a, b), c.links.metaLink(b, a)]));
      const targets = [halves[0].join('+'), bridge, halves[1].join('+')];
      this.log('start', f, targets);
      for (const p of cut) p.block();
      return () => {
        for (const p of cut) p.heal();
        this.log('heal', f, targets);
      };
    }
    if (f.kind === 'reorder') {
      const primary = f.target === 'primary' ? await this.processTarget('primary') : null;
      const ids = f.target === 'nodes' ? [...NODE_IDS] : primary === null ? [] : [primary];
      if (ids.length === 0) {
        this.log('skip', f, [], 'no target');
        return null;
      }
      this.log('start', f, ids);
      for (const id of ids) c.links.nodeLink(id).jitter(f.jitterMs, this.rand);
      return () => {
        for (const id of ids) c.links.nodeLink(id).heal();
        this.log('heal', f, ids);
      };
    }
    if (f.kind === 'flap') {
      const proxies = await this.partitionProxies(f.target === 'meta-leader' ? 'isolate-meta-leader' : 'isolate-primary');
      if (proxies === null) {
        this.log('skip', f, [], 'no target');
        return null;
      }
      this.log('start', f, proxies.targets);
      const flapper = new Flapper(proxies.links.map((l) => l.proxy), f.cutMs, f.openMs);
      return async () => {
        const cuts = await flapper.stop();
        this.log('heal', f, proxies.targets, `${cuts} cuts`);
      };
    }
    if (f.kind === 'kill' || f.kind === 'pause') {
      const id = await this.processTarget(f.target);
      const rec = id === null ? undefined : c.processes.get(id);
      if (id === null || rec?.proc == null || rec.paused) {
        this.log('skip', f, id === null ? [] : [id], 'no live target');
        return null;
      }
      this.log('start', f, [id]);
      if (f.kind === 'kill') {
        await c.kill(id);
        return () => {
          c.start(id);
          this.log('heal', f, [id], 'restarted');
        };
      }
      c.pause(id);
      return () => {
        c.resume(id);
        this.log('heal', f, [id], 'resumed');
      };
    }
    if (f.kind !== 'partition') throw new Error(`unhandled fault ${describeFault(f)}`);
    const proxies = await this.partitionProxies(f.shape);
    if (proxies === null) {
      this.log('skip', f, [], 'no target');
      return null;
    }
    this.log('start', f, proxies.targets);
    for (const { proxy, block } of proxies.links) {
      if (f.delayMs > 0) proxy.delay(f.delayMs);
      else proxy.block(block);
    }
    return () => {
      for (const { proxy } of proxies.links) proxy.heal();
      this.log('heal', f, proxies.targets);
    };
  }

  /**
   * A link fault between two nodes (per caller on the receiving node's proxy, by the
   * caller's source address) or between one process and meta (its own proxies to meta).
   */
  private async cutLinks(f: Fault & { kind: 'links' }): Promise<Heal | null> {
    const links = this.cluster.links;
    const both: Direction[] = ['forward', 'backward'];
    if (f.shape === 'primary-replica-cut' || f.shape === 'primary-replica-delay') {
      const state = await this.cluster.metaState();
      const p = state === null ? undefined : this.pick(state.partitions.map((rec, i) => ({ rec, i })).filter(({ rec }) => rec.primary !== null && rec.replicas.some((r) => r !== rec.primary)));
      if (p === undefined) {
        this.log('skip', f, [], 'no partition with a primary and a replica');
        return null;
      }
      const primary = p.rec.primary!;
      const replica = this.pick(p.rec.replicas.filter((r) => r !== primary))!;
      const fromPrimary = links.nodeSource(primary);
      const fromReplica = links.nodeSource(replica);
      if (fromPrimary === undefined || fromReplica === undefined) {
        this.log('skip', f, [primary, replica], 'a node without a source address of its own (not a links run, or a node added later)');
        return null;
      }
      // The primary's connections into the replica; both ways: the replica's into the primary too.
      const cuts: { proxy: FaultProxy; source: string }[] = [{ proxy: links.nodeLink(replica), source: fromPrimary }];
      if (f.ways === 'both') cuts.push({ proxy: links.nodeLink(primary), source: fromReplica });
      const targets = [`p${p.i}`, `${primary}->${replica}`, ...(f.ways === 'both' ? [`${replica}->${primary}`] : [])];
      this.log('start', f, targets);
      for (const { proxy, source } of cuts) {
        if (f.delayMs > 0) proxy.delayFrom(source, f.delayMs);
        else proxy.blockFrom(source, both);
      }
      return () => {
        for (const { proxy } of cuts) proxy.heal();
        this.log('heal', f, targets);
      };
    }
    const caller = f.shape === 'gateway-meta-cut' ? 'gateway' : f.shape === 'sentinel-meta-cut' ? 'sentinel' : await this.processTarget('primary');
    const proxies = caller === null ? [] : links.metaApiOf(caller);
    if (caller === null || proxies.length === 0) {
      this.log('skip', f, caller === null ? [] : [caller], caller === null ? 'no primary' : 'it reaches meta directly (not a links run)');
      return null;
    }
    // One way: its requests reach meta (and are applied), the answers never come back.
    const dirs: Direction[] = f.ways === 'both' ? both : ['backward'];
    const targets = [`${caller}=>meta`];
    this.log('start', f, targets);
    for (const p of proxies) p.block(dirs);
    return () => {
      for (const p of proxies) p.heal();
      this.log('heal', f, targets);
    };
  }

  /** Waits for the storage faults' checks still running (each ends within STORAGE_CHECK_MS). */
  async settleChecks(): Promise<StorageCheck[]> {
    await Promise.all(this.pendingChecks);
    return this.storageChecks;
  }

  /** Steps or drifts one process's clock; the heal puts it back (a node keeps what it drifted: see below). */
  private async skewClock(f: Fault & { kind: 'clock' }): Promise<Heal | null> {
    const c = this.cluster;
    const id = await this.processTarget(f.target);
    const rec = id === null ? undefined : c.processes.get(id);
    if (id === null || rec === undefined || rec.proc === null || rec.clockFile === null) {
      this.log('skip', f, id === null ? [] : [id], rec?.clockFile === null ? 'no clock file (not a clock run)' : 'no live target');
      return null;
    }
    const startedAt = rec.startedAt;
    const before = rec.clock;
    const next = f.mode === 'skew' ? { offsetMs: before.offsetMs + f.offsetMs, rate: before.rate } : continuousRate(before, f.rate, startedAt, Date.now());
    c.setClock(id, next);
    this.log('start', f, [id], `clock file "${next.offsetMs.toFixed(0)}ms x${next.rate}"`);
    return () => {
      if (rec.startedAt !== startedAt) {
        this.log('heal', f, [id], 'restarted meanwhile: back on the true clock');
        return;
      }
      // A storage node keeps what it drifted (no step: its leases assume a monotonic clock that
      // never jumps); every other process is put back on the true clock, a step of what it
      // drifted or was skewed.
      const node = rec.role === 'node';
      const healed = f.mode === 'drift' && node ? freezeDrift(rec.clock, startedAt, Date.now()) : f.mode === 'skew' ? before : TRUE_CLOCK;
      const off = clockError(rec.clock, startedAt, Date.now());
      c.setClock(id, healed);
      this.log('heal', f, [id], `was ${off >= 0 ? '+' : ''}${Math.round(off)}ms off; now ${Math.round(clockError(healed, startedAt, Date.now()))}ms`);
    };
  }

  private async slowDisk(f: Fault & { kind: 'slow-disk' }): Promise<Heal | null> {
    const c = this.cluster;
    let ids: string[];
    if (f.target === 'meta') ids = [...c.metaIds];
    else if (f.target === 'all') ids = [...c.metaIds, ...NODE_IDS];
    else {
      const id = await this.processTarget(f.target);
      ids = id === null ? [] : [id];
    }
    ids = ids.filter((id) => c.processes.get(id)?.diskFile != null);
    if (ids.length === 0) {
      this.log('skip', f, [], 'no target with a disk fault file');
      return null;
    }
    for (const id of ids) c.setFsyncDelay(id, f.delayMs);
    this.log('start', f, ids);
    return () => {
      for (const id of ids) c.setFsyncDelay(id, 0);
      this.log('heal', f, ids);
    };
  }

  private metaCorrupted = false;

  /** kill -9, damage the victim's files, restart; then check that the victim did what it must. */
  private async storage(f: Fault & { kind: 'storage' }): Promise<Heal | null> {
    const c = this.cluster;
    const rand = prng(f.seed);
    let damage = f.damage;
    // One member refusing to start leaves a majority; a second would leave meta without one.
    if (damage === 'flip-meta' && this.metaCorrupted) damage = 'tear-tail';
    const live = (ids: readonly string[]): string[] => ids.filter((id) => c.processes.get(id)?.proc != null);
    const victim = damage === 'flip-node' ? this.pick(live(NODE_IDS)) : this.pick(live(c.metaIds));
    const rec = victim === undefined ? undefined : c.processes.get(victim);
    if (victim === undefined || rec === undefined || rec.dataDir === null) {
      this.log('skip', f, [], 'no live target');
      return null;
    }
    const ids = f.crash === 'all' ? live([...c.processes.keys()]) : [victim];
    this.log('start', f, ids, `victim ${victim}${damage !== f.damage ? ` (${damage}: a member already refused)` : ''}`);
    await Promise.all(ids.map((id) => c.kill(id)));
    let done: Damage | null = null;
    try {
      if (damage === 'flip-node') {
        done = await flipNodeValue(rec.dataDir, rand);
        if (done === null) {
          // Recent writes are still in LevelDB's log; opening the database turns the log into a
          // table. One short start (killed again) seals them, then the flip hits a table.
          c.start(victim);
          const until = this.clock() + 30_000;
          while (this.clock() < until && !(await fetch(`${rec.url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false))) {
            await new Promise((r) => setTimeout(r, 300));
          }
          await c.kill(victim);
          done = await flipNodeValue(rec.dataDir, rand);
        }
      } else done = damage === 'flip-meta' ? await flipMeta(rec.dataDir, rand) : await tearMetaWal(rec.dataDir, damage, rand);
    } catch (err) {
      this.log('skip', f, [victim], `could not damage: ${(err as Error).message}`);
    }
    const label = `${damage} ${victim}`;
    if (done === null) {
      this.storageChecks.push({ fault: label, target: victim, expected: 'n/a', ok: null, detail: 'nothing to damage yet (no such record or file)' });
    }
    this.log('start', f, [victim], done === null ? 'no damage applied' : `${done.file.slice(c.dir.length + 1)}: ${done.what}`);
    return async () => {
      const logFile = join(c.dir, 'logs', `${victim}.log`);
      const logFrom = await stat(logFile).then((s) => s.size, () => 0);
      if (done !== null && damage === 'flip-meta') {
        this.metaCorrupted = true;
        c.start(victim);
        const exited = c.awaitExit(victim, STORAGE_CHECK_MS);
        for (const id of ids) if (id !== victim) c.start(id);
        const e = await exited;
        const said = await readFrom(logFile, logFrom);
        const loud = /corrupt/i.test(said);
        const ok = e !== null && e.code !== 0 && loud;
        if (e !== null) c.retire(victim);
        this.storageChecks.push({
          fault: label, target: victim, expected: 'refuses to start and says why', ok,
          detail: e === null ? `still running ${STORAGE_CHECK_MS / 1000} s after a restart on damaged data` : `exited (code ${e.code}, signal ${e.signal})${loud ? ', its log names the corruption' : ', its log does not say "corrupt"'}`,
        });
      } else {
        for (const id of ids) c.start(id);
        if (done !== null) this.pendingChecks.push(this.watchVictim(label, victim, damage, logFile, logFrom));
      }
      const started = this.clock();
      const serving = await this.waitServing(started + CRASH_RECOVERY_MS);
      const waited = Math.round(this.clock() - started);
      this.log('heal', f, ids, serving ? `restarted; serving after ${waited} ms` : `restarted; not serving after ${waited} ms`);
    };
  }

  /** After a torn tail: the member cut it and is back in the group. After rot in a node's value: the node found and reported it. */
  private async watchVictim(label: string, victim: string, damage: string, logFile: string, logFrom: number): Promise<void> {
    const deadline = this.clock() + STORAGE_CHECK_MS;
    const pattern = damage === 'flip-node' ? /do not match their digest/ : /cutting a torn tail off the log/;
    let said = false;
    let recopied = false;
    let rejoined = damage === 'flip-node';
    while (this.clock() < deadline && !(said && rejoined)) {
      const text = await readFrom(logFile, logFrom);
      said ||= pattern.test(text);
      if (damage === 'flip-node') {
        // A node down long enough is repaired before any read or scrub reaches the rot: every
        // partition it holds is copied afresh from the others, and the rotten copy is gone.
        const copied = new Set([...text.matchAll(/"partition":(\d+),[^\n]*"msg":"partition copied; now an in-sync replica"/g)].map((m) => m[1]));
        recopied = copied.size >= PARTITIONS;
        if (recopied) break;
      }
      if (!rejoined) {
        const rec = this.cluster.processes.get(victim);
        const s = rec?.proc ? await this.cluster.meta.statusOf(rec.url, 1000).catch(() => null) : null;
        rejoined = s?.role === 'follower' || s?.role === 'leader';
      }
      if (!(said && rejoined)) await new Promise((r) => setTimeout(r, 500));
    }
    const expected = damage === 'flip-node' ? 'finds the rotten value and reports it, or has every partition copied afresh (never serves it)' : 'cuts the torn tail on restart and rejoins';
    const detail = damage === 'flip-node'
      ? said ? 'its log reports the digest mismatch' : recopied ? `every partition copied afresh by repair (the rotten copy replaced) before a scrub found it` : `no digest mismatch reported and not repaired within ${STORAGE_CHECK_MS / 1000} s`
      : `${said ? 'cut the torn tail' : 'did not log a cut'}; ${rejoined ? 'back in the group' : 'not back in the group'}`;
    this.storageChecks.push({ fault: label, target: victim, expected, ok: (said || recopied) && rejoined, detail });
  }

  /** Waits for a serving cluster until `deadline` or the end of the run, whichever comes first. */
  private async waitServing(deadline: number): Promise<boolean> {
    for (let i = 0; i < 1000 && this.clock() < deadline && !this.stopped(); i++) {
      if (await this.cluster.waitHealthy(1000, 'serving').then(() => true, () => false)) return true;
    }
    return false;
  }

  /** A random bridge member, and the others shuffled into two halves of equal size. */
  private bridgeHalves(): { bridge: string; halves: [string[], string[]] } {
    const rest = [...this.cluster.metaIds];
    const bridge = rest.splice(Math.floor(this.rand() * rest.length), 1)[0]!;
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    }
    const half = Math.floor(rest.length / 2);
    return { bridge, halves: [rest.slice(0, half), rest.slice(half)] };
  }

  /** kill -9 of several processes at the same instant; the heal restarts them together. */
  private async crash(f: Fault & { kind: 'crash' }): Promise<Heal | null> {
    const c = this.cluster;
    const live = (ids: readonly string[]): string[] => ids.filter((id) => c.processes.get(id)?.proc != null);
    const group: CrashGroup = f.group;
    const ids = group === 'all'
      ? live([...c.processes.keys()])
      : [this.pick(live(c.metaIds)), this.pick(live(NODE_IDS))].filter((id): id is string => id !== undefined);
    if (ids.length === 0) {
      this.log('skip', f, [], 'no live target');
      return null;
    }
    this.log('start', f, ids);
    await Promise.all(ids.map((id) => c.kill(id)));
    return async () => {
      for (const id of ids) c.start(id);
      // Booting many processes at once can take long on a loaded machine; the next fault
      // should hit a cluster that serves again, or crashes only ever hit booting processes.
      const started = this.clock();
      const serving = await this.waitServing(started + CRASH_RECOVERY_MS);
      const waited = Math.round(this.clock() - started);
      this.log('heal', f, ids, serving ? `restarted; serving after ${waited} ms` : `restarted; not serving after ${waited} ms`);
    };
  }

  private async partitionProxies(shape: PartitionShape): Promise<{
    targets: string[];
    links: { proxy: FaultProxy; block: Direction[] }[];
  } | null> {
    const links = this.cluster.links;
    const both: Direction[] = ['forward', 'backward'];
    switch (shape) {
      case 'isolate-meta-leader':
      case 'isolate-meta-follower':
      case 'meta-leader-mute':
      case 'meta-leader-deaf': {
        const leader = await this.cluster.metaLeader();
        const who = shape === 'isolate-meta-follower' ? this.pick(this.cluster.metaIds.filter((id) => id !== leader)) : leader ?? undefined;
        if (who === undefined) return null;
        const others = this.cluster.metaIds.filter((id) => id !== who);
        // A Raft link carries one member's messages to another: blocking "who->x" mutes who, "x->who" deafens it.
        const out = shape === 'meta-leader-deaf' ? [] : others.map((x) => links.metaLink(who, x));
        const inn = shape === 'meta-leader-mute' ? [] : others.map((x) => links.metaLink(x, who));
        return { targets: [who], links: [...out, ...inn].map((proxy) => ({ proxy, block: both })) };
      }
      case 'meta-delay':
        return { targets: this.cluster.metaIds.slice(), links: [...links.meta.values()].map((proxy) => ({ proxy, block: both })) };
      case 'isolate-primary':
      case 'node-delay': {
        const id = await this.processTarget('primary');
        if (id === null) return null;
        return { targets: [id], links: [{ proxy: links.nodeLink(id), block: both }] };
      }
    }
  }
}

/** What a log file gained since byte `from`. */
async function readFrom(file: string, from: number): Promise<string> {
  const fh = await open(file, 'r').catch(() => null);
  if (fh === null) return '';
  try {
    const { size } = await fh.stat();
    if (size <= from) return '';
    const buf = Buffer.alloc(Math.min(size - from, 8 * 1024 * 1024));
    await fh.read(buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}
