// One simulated Raft cluster: members with disks that lose unsynced writes on a crash,
// a faulty network, clients with sessions, and a clock that only moves between events.
import { decodeConfigEntry } from '../config.js';
import { ProposalError } from '../errors.js';
import { RaftNode, type RaftOptions } from '../node.js';
import { encodeSessionCommand } from '../sessions.js';
import type { Config, Entry, HardState, Message, Ready, Snapshot } from '../types.js';
import { KvMachine } from './kv-machine.js';
import { SimNetwork } from './network.js';
import { Rng } from './rng.js';
import { SafetyChecker } from './safety.js';
import { EventQueue } from './event-queue.js';

export const TICK_MS = 10;

interface Disk {
  hard: HardState;
  snapshot: Snapshot;
  entries: Entry[];
}

export class SimMember {
  alive = true;
  retired = false;
  incarnation = 0;
  persisting = false;
  core!: RaftNode;
  sm!: KvMachine;
  /** Proposals and reads waiting on this member, by log index / read context. */
  waiters = new Map<number, { term: number; done: (ok: boolean, writeIndex: number) => void }>();
  reads = new Map<number, (index: number | null) => void>();
  readsAt: { index: number; done: () => void }[] = [];
  wasLeader = false;
  compactEvery: number;
  constructor(readonly id: string, public disk: Disk, compactEvery: number) {
    this.compactEvery = compactEvery;
  }
}

export interface WorldOptions {
  readonly seed: number;
  readonly members: number;
  readonly unsafeTestFaults?: RaftOptions['unsafeTestFaults'];
}

export class World {
  readonly rng: Rng;
  readonly net: SimNetwork;
  readonly safety = new SafetyChecker();
  readonly members = new Map<string, SimMember>();
  readonly queue = new EventQueue();
  now = 0;
  steps = 0;
  nextId: number;
  private readonly nodeRng: Rng;
  private readCtx = 0;
  /** Set on the first violation: the step and time it was seen. */
  firstViolationAt: { step: number; time: number } | null = null;

  constructor(readonly opts: WorldOptions) {
    this.rng = new Rng(opts.seed);
    this.net = new SimNetwork(this.rng.fork());
    this.nodeRng = this.rng.fork();
    const voters = Array.from({ length: opts.members }, (_, i) => `m${i + 1}`);
    this.nextId = opts.members + 1;
    for (const id of voters) this.addMember(id, { voters, learners: [] });
    this.queue.push(TICK_MS, () => this.tickAll());
  }

  addMember(id: string, config: Config): SimMember {
    const disk: Disk = {
      hard: { term: 0, vote: null, commit: 0 },
      snapshot: { meta: { index: 0, term: 0, config }, data: new Uint8Array(0) },
      entries: [],
    };
    const m = new SimMember(id, disk, this.rng.int(5, 120));
    this.members.set(id, m);
    this.boot(m);
    return m;
  }

  private boot(m: SimMember): void {
    const r = this.nodeRng.fork();
    m.core = new RaftNode(
      {
        id: m.id, electionTicks: 10, heartbeatTicks: 2, random: () => r.next(),
        maxMsgBytes: 2048, maxInflightMsgs: 4, snapshotChunkBytes: 512,
        unsafeTestFaults: this.opts.unsafeTestFaults,
      },
      { hardState: m.disk.hard, snapshot: m.disk.snapshot, entries: m.disk.entries.slice() },
    );
    m.sm = KvMachine.restore(m.disk.snapshot.data, m.disk.snapshot.meta.index);
    m.alive = true;
    m.persisting = false;
    m.wasLeader = false;
    m.incarnation++;
  }

  crash(m: SimMember): void {
    if (!m.alive) return;
    m.alive = false;
    m.incarnation++; // the outstanding Ready never reaches the disk: unsynced writes are lost
    for (const w of m.waiters.values()) w.done(false, 0);
    m.waiters.clear();
    for (const r of m.reads.values()) r(null);
    m.reads.clear();
    m.readsAt = [];
  }

  restart(m: SimMember): void {
    if (m.alive || m.retired) return;
    this.boot(m);
  }

  run(until: number): void {
    while (this.queue.size() > 0 && this.queue.peekTime() <= until) {
      const ev = this.queue.pop()!;
      this.now = ev.time;
      this.steps++;
      ev.fn();
      if (this.safety.violations.length > 0 && !this.firstViolationAt) this.firstViolationAt = { step: this.steps, time: this.now };
    }
    this.now = Math.max(this.now, until);
  }

  /** Runs one member operation, turning a thrown invariant into a recorded violation. */
  guard(m: SimMember, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof ProposalError) throw err;
      this.safety.invariant(m.id, err as Error);
      this.crash(m);
      m.retired = true; // a member that broke an invariant stays down
    }
  }

  private tickAll(): void {
    for (const m of this.members.values()) {
      if (!m.alive) continue;
      this.guard(m, () => m.core.tick());
      this.process(m);
    }
    this.queue.push(this.now + TICK_MS, () => this.tickAll());
  }

  private observeRole(m: SimMember): void {
    const c = m.core;
    if (c.role === 'leader') {
      this.safety.leader(c.term, m.id);
      if (!m.wasLeader) this.safety.newLeader(m.id, c.log.base.index, (i) => c.log.termAt(i));
    }
    m.wasLeader = c.role === 'leader';
  }

  /** Hands the member's Ready to its "disk", which syncs after a short random delay. */
  process(m: SimMember): void {
    if (!m.alive) return;
    this.observeRole(m);
    if (m.persisting || !m.core.hasReady()) return;
    const rd = m.core.ready();
    for (const e of rd.entries) this.safety.appended(m.id, e, m.core.log.termAt(e.index - 1));
    m.persisting = true;
    const inc = m.incarnation;
    this.queue.push(this.now + this.rng.int(0, 3), () => {
      if (m.incarnation !== inc) return;
      this.guard(m, () => this.persisted(m, rd));
      this.process(m);
    });
  }

  private persisted(m: SimMember, rd: Ready): void {
    const d = m.disk;
    if (rd.snapshot) {
      d.snapshot = rd.snapshot;
      d.entries = [];
      m.sm = KvMachine.restore(rd.snapshot.data, rd.snapshot.meta.index);
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      d.entries = d.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) d.hard = rd.hardState;
    for (const msg of rd.messages) this.send(msg);
    for (const e of rd.committed) this.apply(m, e);
    for (const rs of rd.readStates) {
      const done = m.reads.get(rs.ctx);
      if (done) {
        m.reads.delete(rs.ctx);
        done(rs.index);
      }
    }
    for (const ctx of rd.failedReads) {
      const done = m.reads.get(ctx);
      m.reads.delete(ctx);
      done?.(null);
    }
    m.core.advance();
    m.persisting = false;
    this.maybeCompact(m);
  }

  private apply(m: SimMember, e: Entry): void {
    this.safety.committed(m.id, e);
    const result = m.sm.apply(e, (op) => this.safety.appliedTwice(m.id, op));
    if (e.type === 'config') this.retireRemoved(e);
    const w = m.waiters.get(e.index);
    if (w) {
      m.waiters.delete(e.index);
      w.done(w.term === e.term && result !== null, result?.writeIndex ?? 0);
    }
    m.readsAt = m.readsAt.filter((r) => {
      if (m.sm.applied < r.index) return true;
      r.done();
      return false;
    });
  }

  /** Once a removal is committed, the removed member is shut down for good. */
  private retireRemoved(e: Entry): void {
    const { change } = decodeConfigEntry(e.data);
    if (change.op !== 'remove') return;
    const gone = this.members.get(change.id);
    if (gone && !gone.retired) {
      this.crash(gone);
      gone.retired = true;
    }
  }

  private maybeCompact(m: SimMember): void {
    const c = m.core;
    if (c.log.applied - c.log.base.index < m.compactEvery) return;
    const index = c.log.applied;
    const data = m.sm.snapshot();
    const meta = { index, term: c.log.termAt(index)!, config: c.log.configAt(index) };
    c.compact(index, data);
    m.disk.snapshot = { meta, data };
    m.disk.entries = m.disk.entries.filter((e) => e.index > index);
  }

  private send(msg: Message): void {
    for (const delay of this.net.deliveries(msg)) {
      this.queue.push(this.now + delay, () => {
        const to = this.members.get(msg.to);
        if (!to || !to.alive || !this.net.open(msg.from, msg.to)) return;
        this.guard(to, () => to.core.step(msg));
        this.process(to);
      });
    }
  }

  // ---- client operations -----------------------------------------------------------

  /** Proposes a session command on `m`; `done` learns whether it committed there. */
  propose(m: SimMember, clientId: string, seq: number, key: string, value: string, done: (ok: boolean, writeIndex: number) => void): void {
    const payload = new TextEncoder().encode(JSON.stringify({ key, value }));
    const placed = m.core.propose(encodeSessionCommand({ clientId, seq, payload }));
    m.waiters.set(placed.index, { term: placed.term, done });
    this.process(m);
  }

  /** A ReadIndex read of `key` on `m`; `done` gets the write index seen, or null. */
  read(m: SimMember, key: string, done: (writeIndex: number | null) => void): void {
    const ctx = ++this.readCtx;
    m.reads.set(ctx, (index) => {
      if (index === null) return done(null);
      const serve = () => done(m.sm.data.get(key)?.index ?? 0);
      if (m.sm.applied >= index) serve();
      else m.readsAt.push({ index, done: serve });
    });
    m.core.readIndex(ctx);
    this.process(m);
  }

  liveMembers(): SimMember[] {
    return [...this.members.values()].filter((m) => m.alive);
  }

  leader(): SimMember | undefined {
    let best: SimMember | undefined;
    for (const m of this.liveMembers()) {
      if (m.core.role === 'leader' && (!best || m.core.term > best.core.term)) best = m;
    }
    return best;
  }
}
