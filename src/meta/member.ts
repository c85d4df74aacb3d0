// One meta member: the thin shell around the Raft core. It owns the clock (ticks), the
// disk (RaftStorage), the network (the Raft transport) and the meta machine, and runs
// the Ready loop: persist, send, apply, serve reads, advance.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadClusterSecrets, type ClusterSecrets } from '../crypto/secrets.js';
import { ProposalError } from '../raft/errors.js';
import { RaftNode } from '../raft/node.js';
import { RaftStorage } from '../raft/storage/raft-storage.js';
import type { ConfigChange, Message, Ready } from '../raft/types.js';
import { startRaftTransport, type RaftTransport } from './transport/transport.js';
import { encodeAddressContext, encodeLoggedCommand, MetaMachine, type MemberAddress } from './machine.js';
import { lockMemberDir, RAFT_DIR, readMemberFile, raftTransportSecret, SECRETS_FILE, type MemberFile } from './member-files.js';
import { MetaMetrics } from './metrics.js';
import type { ApplyResult } from './state.js';
import { diskFaultsFromEnv } from '../common/fault-disk.js';

export interface MetaMemberOptions {
  readonly dir: string;
  readonly log: Logger;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /** fdatasync the log (default true). */
  readonly sync?: boolean;
  /** Take a snapshot and compact after this many applied entries. */
  readonly snapshotEvery?: number;
  /**
   * Where this member dials some peers' Raft ports instead of their recorded addresses
   * (`--peer-raft`): for NAT, or a test's fault-injecting proxy on each link.
   */
  readonly peerRaft?: ReadonlyMap<string, string>;
}

/** Thrown when this member cannot serve a request because another member leads. */
export class NotLeaderError extends Error {
  constructor(readonly leader: string | null, readonly leaderApi: string | null) {
    super(leader ? `not the leader; the leader is ${leader}` : 'no leader is known (the group has no quorum or is electing)');
    this.name = 'NotLeaderError';
  }
}

export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}

interface Waiter {
  term: number;
  resolve: (r: ApplyResult | null) => void;
  reject: (e: Error) => void;
}

export class MetaMember extends EventEmitter {
  readonly id: string;
  readonly file: MemberFile;
  readonly secrets: ClusterSecrets;
  readonly metrics = new MetaMetrics();
  machine: MetaMachine;
  private core!: RaftNode;
  private storage!: RaftStorage;
  private transport!: RaftTransport;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private again = false;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private waiters = new Map<number, Waiter>();
  private readWaiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readsAt: { index: number; resolve: () => void }[] = [];
  private readCtx = 0;
  private lastLeader: string | null = null;
  private lastSnapshotIndex = 0;
  private readonly opts: Required<Omit<MetaMemberOptions, 'log'>> & { log: Logger };

  private constructor(file: MemberFile, secrets: ClusterSecrets, opts: MetaMemberOptions) {
    super();
    this.setMaxListeners(0);
    this.id = file.id;
    this.file = file;
    this.secrets = secrets;
    this.opts = { tickMs: 50, electionTicks: 20, sync: true, snapshotEvery: 2000, peerRaft: new Map(), ...opts };
    this.machine = MetaMachine.empty();
  }

  static async start(opts: MetaMemberOptions): Promise<MetaMember> {
    const file = await readMemberFile(opts.dir);
    const secrets = await loadClusterSecrets(join(opts.dir, SECRETS_FILE));
    const m = new MetaMember(file, secrets, opts);
    await m.open();
    return m;
  }

  private unlock: () => Promise<void> = async () => {};

  private async open(): Promise<void> {
    const log = this.opts.log;
    this.unlock = await lockMemberDir(this.opts.dir);
    const disk = diskFaultsFromEnv(process.env, (msg, details) => log.warn(details ?? {}, msg));
    this.storage = await RaftStorage.open(join(this.opts.dir, RAFT_DIR), {
      sync: this.opts.sync,
      ...(disk ? { beforeSync: () => disk.beforeSync() } : {}),
      onSync: (ms) => this.metrics.fsync(ms),
      onWarn: (msg: string) => log.warn({ dir: this.opts.dir }, msg),
    });
    const stored = this.storage.load();
    if (!stored.snapshot) throw new Error(`${this.opts.dir} has no initial snapshot: it was not made by \`opera meta bootstrap\` or \`opera meta add\``);
    this.machine = MetaMachine.restore(stored.snapshot.data, stored.snapshot.meta.index);
    this.lastSnapshotIndex = stored.snapshot.meta.index;
    this.core = new RaftNode(
      { id: this.id, electionTicks: this.opts.electionTicks, heartbeatTicks: 2, random: Math.random },
      { hardState: stored.hardState, snapshot: stored.snapshot, entries: stored.entries },
    );
    const [host, port] = splitHostPort(this.file.address.raft);
    this.transport = await startRaftTransport({
      id: this.id,
      clusterId: this.file.clusterId,
      host,
      port,
      secret: raftTransportSecret(this.secrets),
      peers: this.peerMap(),
      onMessages: (batch) => this.onMessages(batch),
      log: (level, msg, fields) => log[level]({ ...fields, component: 'raft-transport' }, msg),
    });
    this.timer = setInterval(() => this.onTick(), this.opts.tickMs);
    log.info({ id: this.id, term: stored.hardState.term, snapshot: stored.snapshot.meta.index, entries: stored.entries.length }, 'meta member started');
    this.kick();
  }

  /** Peer Raft addresses: those we were created with, then whatever the log says, then local overrides. */
  private peerMap(): Map<string, string> {
    const peers = new Map<string, string>();
    for (const [id, a] of Object.entries(this.file.peers)) if (id !== this.id) peers.set(id, a.raft);
    for (const [id, a] of this.machine.addresses) if (id !== this.id) peers.set(id, a.raft);
    for (const [id, raft] of this.opts.peerRaft) if (peers.has(id)) peers.set(id, raft);
    return peers;
  }

  addressOf(id: string | null): MemberAddress | null {
    if (id === null) return null;
    return this.machine.addresses.get(id) ?? this.file.peers[id] ?? (id === this.id ? this.file.address : null);
  }

  private onTick(): void {
    this.core.tick();
    if (this.core.role === 'leader') this.promoteCaughtUpLearners();
    this.kick();
  }

  private onMessages(batch: Message[]): void {
    for (const m of batch) {
      if (m.to !== this.id) continue;
      this.core.step(m);
    }
    this.kick();
  }

  /** Runs the Ready loop soon; one pass at a time, re-run if work arrived meanwhile. */
  private kick(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = new Promise<void>((r) => setImmediate(r))
      .then(() => this.loop())
      .catch((err: Error) => {
        // Storage failures and broken invariants end the process: a restart recovers from disk.
        this.opts.log.fatal({ err }, 'meta member failed; stopping to protect the cluster');
        process.exit(70);
      });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      while (!this.stopped && this.core.hasReady()) await this.handle(this.core.ready());
    } while (this.again && !this.stopped);
    this.busy = false;
  }

  private async handle(rd: Ready): Promise<void> {
    await this.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    if (this.stopped) return;
    this.transport.send(rd.messages);
    if (rd.snapshot) {
      this.machine = MetaMachine.restore(rd.snapshot.data, rd.snapshot.meta.index);
      this.lastSnapshotIndex = rd.snapshot.meta.index;
      this.transport.setPeers(this.peerMap());
      this.emit('applied');
    }
    let membershipChanged = false;
    for (const e of rd.committed) {
      const result = this.machine.applyEntry(e);
      if (e.type === 'config') membershipChanged = true;
      const w = this.waiters.get(e.index);
      if (w) {
        this.waiters.delete(e.index);
        if (w.term === e.term) w.resolve(result);
        else w.reject(new UnavailableError('the command lost its place in the log to a new leader; retry it'));
      }
    }
    if (rd.committed.length > 0) this.emit('applied');
    if (membershipChanged) this.transport.setPeers(this.peerMap());
    for (const rs of rd.readStates) {
      const w = this.readWaiters.get(rs.ctx);
      if (!w) continue;
      this.readWaiters.delete(rs.ctx);
      this.readsAt.push({ index: rs.index, resolve: w.resolve });
    }
    for (const ctx of rd.failedReads) {
      const w = this.readWaiters.get(ctx);
      this.readWaiters.delete(ctx);
      w?.reject(new NotLeaderError(this.core.leader, this.addressOf(this.core.leader)?.api ?? null));
    }
    this.readsAt = this.readsAt.filter((r) => {
      if (this.machine.applied < r.index) return true;
      r.resolve();
      return false;
    });
    this.observeLeadership(rd);
    this.core.advance();
    this.metrics.observe(this.core.term, this.core.log.committed, this.machine.applied);
    await this.maybeSnapshot();
  }

  private observeLeadership(rd: Ready): void {
    const leader = rd.softState.leader;
    if (leader !== this.lastLeader) {
      if (leader !== null) this.metrics.leaderChanged();
      this.opts.log.info({ leader, term: rd.softState.term, role: rd.softState.role }, 'leader changed');
      this.lastLeader = leader;
    }
    if (rd.softState.role !== 'leader' && this.waiters.size > 0) {
      // The outcome of these proposals is unknown: they may still commit. Clients retry
      // with the same session sequence, so a retry never applies twice.
      for (const w of this.waiters.values()) w.reject(new UnavailableError('leadership changed before the command was applied; retry it'));
      this.waiters.clear();
    }
  }

  private async maybeSnapshot(): Promise<void> {
    const applied = this.machine.applied;
    if (applied - this.lastSnapshotIndex < this.opts.snapshotEvery) return;
    const data = this.machine.snapshot();
    const term = this.core.log.termAt(applied);
    if (term === undefined) return;
    const meta = { index: applied, term, config: this.core.log.configAt(applied) };
    await this.storage.saveSnapshot({ meta, data });
    this.core.compact(applied, data);
    this.lastSnapshotIndex = applied;
    this.opts.log.info({ index: applied, bytes: data.byteLength }, 'snapshot taken, log compacted');
  }

  // ---- requests ----------------------------------------------------------------------

  private notLeader(): NotLeaderError {
    const leader = this.core.leader === this.id ? null : this.core.leader;
    return new NotLeaderError(leader, this.addressOf(leader)?.api ?? null);
  }

  isLeader(): boolean {
    return this.core.role === 'leader';
  }

  /** Proposes a command; resolves with its result once applied here. */
  propose(command: unknown, clientId: string = randomUUID(), seq = 1, timeoutMs = 10_000): Promise<ApplyResult> {
    if (this.core.role !== 'leader') return Promise.reject(this.notLeader());
    let placed: { index: number; term: number };
    try {
      placed = this.core.propose(encodeLoggedCommand(clientId, seq, { nowMs: Date.now(), command }));
    } catch (err) {
      return Promise.reject(err instanceof ProposalError ? new UnavailableError(err.message) : err);
    }
    this.kick();
    return this.waitFor(placed, timeoutMs).then((r) => r ?? { ok: false, code: 'invalid', message: 'no result' } as ApplyResult);
  }

  private waitFor(placed: { index: number; term: number }, timeoutMs: number): Promise<ApplyResult | null> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(placed.index);
        reject(new UnavailableError('the command was not committed in time; retry it'));
      }, timeoutMs);
      this.waiters.set(placed.index, {
        term: placed.term,
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  /** A linearizable read barrier (ReadIndex): after it resolves, the machine is current. */
  readBarrier(timeoutMs = 5_000): Promise<void> {
    if (this.core.role !== 'leader') return Promise.reject(this.notLeader());
    const ctx = ++this.readCtx;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readWaiters.delete(ctx);
        reject(new UnavailableError('the read could not be confirmed by a quorum in time'));
      }, timeoutMs);
      this.readWaiters.set(ctx, {
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.core.readIndex(ctx);
      this.kick();
    });
  }

  /** Membership changes, one server at a time; a new member joins as a learner. */
  async changeMembership(change: ConfigChange, timeoutMs = 10_000): Promise<void> {
    if (this.core.role !== 'leader') throw this.notLeader();
    let placed;
    try {
      placed = this.core.proposeConfigChange(change);
    } catch (err) {
      if (err instanceof ProposalError) throw new UnavailableError(err.message);
      throw err;
    }
    this.kick();
    await this.waitFor(placed, timeoutMs);
  }

  addLearner(id: string, address: MemberAddress): Promise<void> {
    return this.changeMembership({ op: 'add-learner', id, context: encodeAddressContext(address) });
  }

  transferLeadership(to: string): void {
    if (this.core.role !== 'leader') throw this.notLeader();
    try {
      this.core.transferLeadership(to);
    } catch (err) {
      if (err instanceof ProposalError) throw new UnavailableError(err.message);
      throw err;
    }
    this.kick();
  }

  private promoting = false;
  private promoteCaughtUpLearners(): void {
    if (this.promoting) return;
    for (const id of this.core.config.learners) {
      if (!this.core.isCaughtUp(id, 5)) continue;
      this.promoting = true;
      this.changeMembership({ op: 'promote', id })
        .then(() => this.opts.log.info({ id }, 'learner promoted to voter'))
        .catch((err: Error) => this.opts.log.debug({ id, err: err.message }, 'promotion deferred'))
        .finally(() => { this.promoting = false; });
      return;
    }
  }

  status(): MemberStatus {
    const c = this.core;
    const members = [...c.config.voters.map((id) => ({ id, voter: true })), ...c.config.learners.map((id) => ({ id, voter: false }))];
    return {
      id: this.id,
      clusterId: this.file.clusterId,
      role: c.role,
      term: c.term,
      leader: c.leader,
      commitIndex: c.log.committed,
      appliedIndex: this.machine.applied,
      lastIndex: c.log.lastIndex(),
      snapshotIndex: c.log.base.index,
      members: members.map(({ id, voter }) => ({
        id,
        url: this.addressOf(id) ? `http://${this.addressOf(id)!.api}` : null,
        raft: this.addressOf(id)?.raft ?? null,
        role: voter ? 'voter' : 'learner',
        matchIndex: c.role === 'leader' ? c.matchIndexOf(id) ?? null : null,
        healthy: c.role === 'leader' ? c.isRecentlyActive(id) : null,
      })),
      transport: this.transport.stats(),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.transport.close();
    await this.storage.close();
    await this.unlock();
    for (const w of this.waiters.values()) w.reject(new UnavailableError('member is shutting down'));
    for (const w of this.readWaiters.values()) w.reject(new UnavailableError('member is shutting down'));
  }
}

export interface MemberStatus {
  id: string;
  clusterId: string;
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  members: { id: string; url: string | null; raft: string | null; role: 'voter' | 'learner'; matchIndex: number | null; healthy: boolean | null }[];
  transport: ReturnType<RaftTransport['stats']>;
}

export function splitHostPort(value: string): [string, number] {
  const i = value.lastIndexOf(':');
  return [value.slice(0, i), Number(value.slice(i + 1))];
}
