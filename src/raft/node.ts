// The Raft core: a deterministic state machine with no I/O and no clock of its own.
// It is driven by tick() and step(message); ready() hands back what to persist, send,
// apply and serve, in the shape of etcd's raft Ready. Follows Ongaro's dissertation.
import { applyChange, changeError, encodeConfigEntry, isMember, isVoter, members, quorum, quorumIndex } from './config.js';
import { ProposalError } from './errors.js';
import { invariant } from './invariant.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { ReadIndexQueue } from './read-index.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type {
  Config, ConfigChange, Entry, HardState, MemberId, Message, ReadState, Ready, Role, Snapshot, SoftState,
} from './types.js';

export interface RaftOptions {
  readonly id: MemberId;
  /** Ticks without a leader before an election; randomized in [electionTicks, 2·electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Deterministic randomness in [0, 1), injected so that simulations replay. */
  readonly random: () => number;
  readonly maxMsgBytes?: number;
  readonly maxInflightMsgs?: number;
  readonly maxInflightBytes?: number;
  readonly snapshotChunkBytes?: number;
  /** Deliberate bugs, reachable only from tests, to prove the simulator catches them. */
  readonly unsafeTestFaults?: { readonly doubleCountVotes?: boolean; readonly commitOldTerms?: boolean };
}

/** What a member recovered from its disk. */
export interface RaftBoot {
  readonly hardState: HardState;
  /** Holds the initial configuration (index 0) for a freshly bootstrapped member. */
  readonly snapshot: Snapshot;
  readonly entries: Entry[];
}

export class RaftNode {
  readonly id: MemberId;
  private readonly opts: Required<Omit<RaftOptions, 'unsafeTestFaults'>> & Pick<RaftOptions, 'unsafeTestFaults'>;
  term: number;
  vote: MemberId | null;
  role: Role = 'follower';
  leader: MemberId | null = null;
  readonly log: RaftLog;
  config: Config;
  private snapshot: Snapshot;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedTimeout = 0;
  private votes = new Map<MemberId, boolean>();
  private voteCount = 0; // only used by the doubleCountVotes fault
  private progress = new Map<MemberId, Progress>();
  private msgs: Message[] = [];
  private readonly reads = new ReadIndexQueue();
  private readStates: ReadState[] = [];
  private failedReads: number[] = [];
  private pendingConfigIndex = 0;
  private transferee: MemberId | null = null;
  private transferElapsed = 0;
  private receiver = new SnapshotReceiver();
  private pendingSnapshot: Snapshot | null = null;
  private appliedHandedOut: number;
  private prevHard: HardState;
  private prevSoft: SoftState;
  private outstanding: { entries: Entry[]; snapshot: Snapshot | null; appliedTo: number } | null = null;

  constructor(options: RaftOptions, boot: RaftBoot) {
    this.id = options.id;
    this.opts = {
      maxMsgBytes: 1 << 20,
      maxInflightMsgs: 256,
      maxInflightBytes: 32 << 20,
      snapshotChunkBytes: 256 << 10,
      ...options,
    };
    invariant(this.opts.electionTicks > this.opts.heartbeatTicks, 'election timeout must exceed heartbeat');
    this.snapshot = boot.snapshot;
    this.log = new RaftLog(boot.snapshot.meta, boot.entries, boot.hardState.commit);
    this.term = boot.hardState.term;
    this.vote = boot.hardState.vote;
    this.config = this.log.lastConfig();
    this.appliedHandedOut = this.log.applied;
    this.prevHard = { term: this.term, vote: this.vote, commit: this.log.committed };
    this.becomeFollower(this.term, null);
    this.prevSoft = this.softState();
  }

  // ---- public API ------------------------------------------------------------------

  softState(): SoftState {
    return { role: this.role, leader: this.leader, term: this.term };
  }

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Propose a command; returns where it was placed. Commit is observed through ready(). */
  propose(data: Uint8Array): { index: number; term: number } {
    this.checkCanPropose();
    return this.appendOwn('command', data);
  }

  /** One-server-at-a-time change; refused while another change is uncommitted. */
  proposeConfigChange(change: ConfigChange): { index: number; term: number } {
    this.checkCanPropose();
    if (this.pendingConfigIndex > this.log.committed || !this.committedInTerm()) {
      throw new ProposalError('config-pending', 'a configuration change is still in progress', this.leader);
    }
    const err = changeError(this.config, change);
    if (err) throw new ProposalError('invalid-config-change', err, this.leader);
    const config = applyChange(this.config, change);
    const placed = this.appendOwn('config', encodeConfigEntry({ change, config }));
    this.pendingConfigIndex = placed.index;
    return placed;
  }

  /** Linearizable read: confirmed through ready().readStates with the same ctx. */
  readIndex(ctx: number): void {
    if (this.role !== 'leader') throw new ProposalError('not-leader', 'not the leader', this.leader);
    if (!this.committedInTerm()) {
      this.reads.waitForCommit(ctx);
      return;
    }
    const seq = this.reads.add(ctx, this.log.committed);
    if (this.config.voters.length === 1 && isVoter(this.config, this.id)) {
      this.readStates.push(...this.reads.drainAll());
      return;
    }
    for (const peer of this.config.voters) if (peer !== this.id) this.sendHeartbeat(peer, seq);
  }

  transferLeadership(to: MemberId): void {
    if (this.role !== 'leader') throw new ProposalError('not-leader', 'not the leader', this.leader);
    if (to === this.id) return;
    if (!isVoter(this.config, to)) throw new ProposalError('invalid-config-change', `${to} is not a voter`, this.leader);
    this.transferee = to;
    this.transferElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'TimeoutNow', to });
    else this.sendAppend(to);
  }

  /** The application took a snapshot of its state at `index` (<= applied): compact the log. */
  compact(index: number, data: Uint8Array): void {
    invariant(index <= this.log.applied, () => `snapshot at ${index} beyond applied ${this.log.applied}`);
    if (index <= this.log.base.index) return;
    const term = this.log.termAt(index)!;
    const config = this.log.configAt(index);
    this.log.compact(index, term, config);
    this.snapshot = { meta: { index, term, config }, data };
  }

  /** Has the follower's log caught up with ours (for promoting a learner)? */
  isCaughtUp(id: MemberId, slack = 0): boolean {
    const pr = this.progress.get(id);
    return this.role === 'leader' && pr !== undefined && pr.match + slack >= this.log.lastIndex();
  }

  matchIndexOf(id: MemberId): number | undefined {
    if (id === this.id) return this.log.stable;
    return this.progress.get(id)?.match;
  }

  isRecentlyActive(id: MemberId): boolean {
    return id === this.id || this.progress.get(id)?.recentActive === true;
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    return (
      this.msgs.length > 0 ||
      this.log.unstableFrom <= this.log.lastIndex() ||
      this.pendingSnapshot !== null ||
      this.hardChanged() ||
      this.log.committed > this.appliedHandedOut ||
      this.readStates.length > 0 ||
      this.failedReads.length > 0 ||
      this.softChanged()
    );
  }

  ready(): Ready {
    invariant(!this.outstanding, 'ready() called before advance()');
    const snapshot = this.pendingSnapshot;
    this.pendingSnapshot = null;
    const entries = this.log.takeUnstable();
    const hardState = this.hardChanged() ? { term: this.term, vote: this.vote, commit: this.log.committed } : null;
    if (hardState) this.prevHard = hardState;
    const appliedFrom = snapshot ? Math.max(snapshot.meta.index, this.appliedHandedOut) : this.appliedHandedOut;
    const committed = this.log.committedAfter(appliedFrom);
    const appliedTo = committed.length > 0 ? committed[committed.length - 1]!.index : appliedFrom;
    this.appliedHandedOut = appliedTo;
    const rd: Ready = {
      hardState,
      snapshot,
      entries,
      messages: this.msgs,
      committed,
      readStates: this.readStates,
      failedReads: this.failedReads,
      softState: this.softState(),
    };
    this.prevSoft = rd.softState;
    this.msgs = [];
    this.readStates = [];
    this.failedReads = [];
    this.outstanding = { entries, snapshot, appliedTo };
    return rd;
  }

  /** The driver persisted, sent and applied the last Ready. */
  advance(): void {
    const done = this.outstanding;
    invariant(done, 'advance() without ready()');
    this.outstanding = null;
    if (done.snapshot) this.log.stable = Math.max(this.log.stable, done.snapshot.meta.index);
    const last = done.entries[done.entries.length - 1];
    if (last) this.log.stableTo(last.index, last.term);
    this.log.applied = Math.max(this.log.applied, done.appliedTo);
    if (this.role === 'leader') this.maybeCommit();
    if (this.role === 'leader' && this.pendingConfigIndex <= this.log.committed && !isMember(this.config, this.id)) {
      // Our own removal is committed: hand the group over by stepping down.
      this.becomeFollower(this.term, null);
    }
  }

  // ---- stepping ------------------------------------------------------------------------

  step(m: Message): void {
    invariant(m.to === this.id, () => `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.term) {
      if (m.type === 'PreVote' || m.type === 'Vote') {
        const inLease = this.leader !== null && this.electionElapsed < this.opts.electionTicks;
        if (inLease && !(m.type === 'Vote' && m.transfer)) return; // a live leader exists: ignore disruptors
      }
      if (m.type === 'PreVote' || (m.type === 'PreVoteResp' && m.granted)) {
        // Pre-votes never change terms.
      } else {
        const fromLeader = m.type === 'Append' || m.type === 'Heartbeat' || m.type === 'Snapshot';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term) {
      if (m.type === 'Append' || m.type === 'Heartbeat' || m.type === 'Snapshot') {
        // A deposed leader learns our term and steps down.
        this.send({ type: 'AppendResp', to: m.from, success: false, index: 0, hintTerm: 0, hintIndex: 0 });
      } else if (m.type === 'PreVote') {
        this.send({ type: 'PreVoteResp', to: m.from, granted: false });
      }
      return;
    }

    switch (m.type) {
      case 'PreVote':
      case 'Vote':
        return this.handleVoteRequest(m);
      case 'PreVoteResp':
      case 'VoteResp':
        return this.handleVoteResponse(m);
      case 'TimeoutNow':
        if (isVoter(this.config, this.id) && this.role !== 'leader') this.campaign('election', true);
        return;
      default:
        break;
    }
    if (this.role === 'leader') this.stepLeader(m);
    else this.stepFollower(m);
  }

  private handleVoteRequest(m: Extract<Message, { type: 'PreVote' | 'Vote' }>): void {
    const pre = m.type === 'PreVote';
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (pre && m.term > this.term);
    const granted = canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm);
    if (pre) {
      // A grant carries the candidate's future term so that it counts; a refusal carries ours.
      this.msgs.push({ type: 'PreVoteResp', from: this.id, to: m.from, term: granted ? m.term : this.term, granted });
      return;
    }
    if (granted) {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
    this.send({ type: 'VoteResp', to: m.from, granted });
  }

  private handleVoteResponse(m: Extract<Message, { type: 'PreVoteResp' | 'VoteResp' }>): void {
    const pre = m.type === 'PreVoteResp';
    if ((pre && this.role !== 'pre-candidate') || (!pre && this.role !== 'candidate')) return;
    if (this.opts.unsafeTestFaults?.doubleCountVotes) {
      // Deliberate bug: every granting reply counts, duplicates included.
      if (m.granted) this.voteCount++;
    } else if (!this.votes.has(m.from)) {
      this.votes.set(m.from, m.granted);
    }
    const { granted, rejected } = this.tally();
    const q = quorum(this.config);
    if (granted >= q) {
      if (pre) this.campaign('election', false);
      else this.becomeLeader();
    } else if (rejected >= q) {
      this.becomeFollower(this.term, null);
    }
  }

  private tally(): { granted: number; rejected: number } {
    let granted = this.opts.unsafeTestFaults?.doubleCountVotes ? this.voteCount : 0;
    let rejected = 0;
    for (const v of this.config.voters) {
      const g = this.votes.get(v);
      if (g === true && !this.opts.unsafeTestFaults?.doubleCountVotes) granted++;
      if (g === false) rejected++;
    }
    return { granted, rejected };
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'Append':
        if (this.role !== 'follower') this.becomeFollower(m.term, m.from);
        this.hearFromLeader(m.from);
        return this.handleAppend(m);
      case 'Heartbeat':
        if (this.role !== 'follower') this.becomeFollower(m.term, m.from);
        this.hearFromLeader(m.from);
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send({ type: 'HeartbeatResp', to: m.from, readCtx: m.readCtx });
        return;
      case 'Snapshot':
        if (this.role !== 'follower') this.becomeFollower(m.term, m.from);
        this.hearFromLeader(m.from);
        return this.handleSnapshotChunk(m);
      default:
        return; // responses meant for a leader we no longer are
    }
  }

  private hearFromLeader(from: MemberId): void {
    this.electionElapsed = 0;
    this.leader = from;
  }

  private handleAppend(m: Extract<Message, { type: 'Append' }>): void {
    if (m.prevIndex < this.log.committed) {
      // Our committed prefix is in the leader's log too (Leader Completeness): skip it,
      // but check the one entry where the two overlap at our commit index.
      const atCommit = m.entries.find((e) => e.index === this.log.committed);
      invariant(
        atCommit === undefined || this.log.termAt(atCommit.index) === undefined || this.log.termAt(atCommit.index) === atCommit.term,
        () => `leader ${m.from} disagrees with committed entry ${this.log.committed}`,
      );
      this.appendAndAck(m, m.entries.filter((e) => e.index > this.log.committed));
      return;
    }
    if (this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      this.appendAndAck(m, m.entries);
      return;
    }
    const last = this.log.lastIndex();
    const hintTerm = m.prevIndex > last ? 0 : this.log.termAt(m.prevIndex)!;
    const hintIndex = m.prevIndex > last ? last + 1 : this.log.firstIndexOfTermAt(m.prevIndex);
    this.send({ type: 'AppendResp', to: m.from, success: false, index: m.prevIndex, hintTerm, hintIndex });
  }

  private appendAndAck(m: Extract<Message, { type: 'Append' }>, entries: Entry[]): void {
    const changed = this.log.appendFromLeader(entries);
    if (changed !== null) this.config = this.log.lastConfig();
    const lastNew = entries.length > 0 ? entries[entries.length - 1]!.index : Math.max(m.prevIndex, this.log.committed);
    this.log.commitTo(Math.min(m.commit, lastNew));
    this.send({ type: 'AppendResp', to: m.from, success: true, index: lastNew, hintTerm: 0, hintIndex: 0 });
  }

  private handleSnapshotChunk(m: Extract<Message, { type: 'Snapshot' }>): void {
    if (m.meta.index <= this.log.committed) {
      this.receiver.reset();
      this.send({ type: 'SnapshotResp', to: m.from, index: this.log.committed, offset: 0, accepted: false });
      return;
    }
    const result = this.receiver.accept(m.meta, m.offset, m.chunk, m.total, m.done);
    if (result.complete) {
      const snap: Snapshot = { meta: m.meta, data: result.complete };
      this.log.restore(m.meta);
      this.snapshot = snap;
      this.pendingSnapshot = snap;
      this.config = m.meta.config;
      this.receiver.reset();
    }
    this.send({ type: 'SnapshotResp', to: m.from, index: m.meta.index, offset: result.offset, accepted: true });
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (!pr) return; // not (or no longer) a member
    pr.recentActive = true;
    switch (m.type) {
      case 'AppendResp':
        return this.handleAppendResp(m, pr);
      case 'HeartbeatResp': {
        pr.probeSent = false;
        if (pr.match < this.log.lastIndex()) {
          // No progress for two heartbeats: appends were probably lost, so probe from the match.
          if (pr.state === 'replicate' && pr.stallTicks >= 2 * this.opts.heartbeatTicks) pr.becomeProbe();
          this.sendAppend(m.from);
        }
        const confirmed = this.reads.ack(m.from, m.readCtx, this.config.voters, this.id, quorum(this.config));
        this.readStates.push(...confirmed);
        return;
      }
      case 'SnapshotResp':
        return this.handleSnapshotResp(m, pr);
      case 'Append':
      case 'Heartbeat':
      case 'Snapshot':
        invariant(false, () => `two leaders in term ${this.term}: ${this.id} and ${m.from}`);
        return;
      default:
        return;
    }
  }

  private handleAppendResp(m: Extract<Message, { type: 'AppendResp' }>, pr: Progress): void {
    if (m.success) {
      if (pr.maybeUpdate(m.index)) {
        if (pr.state === 'probe') pr.becomeReplicate();
        this.maybeCommit();
        if (this.transferee === m.from && pr.match === this.log.lastIndex()) this.send({ type: 'TimeoutNow', to: m.from });
      }
      pr.probeSent = false;
      this.sendAppend(m.from);
      return;
    }
    if (m.index < pr.match || (pr.state === 'probe' && m.index !== pr.next - 1) || pr.state === 'snapshot') return; // stale
    let next = m.hintIndex;
    if (m.hintTerm > 0) {
      const j = this.log.lastIndexOfTerm(m.hintTerm, m.index);
      if (j !== undefined) next = j + 1;
    }
    pr.becomeProbe();
    pr.next = Math.max(pr.match + 1, Math.min(next, m.index));
    this.sendAppend(m.from);
  }

  private handleSnapshotResp(m: Extract<Message, { type: 'SnapshotResp' }>, pr: Progress): void {
    if (pr.state !== 'snapshot') return;
    if (!m.accepted) {
      // The follower already had everything up to m.index committed.
      pr.maybeUpdate(m.index);
      pr.becomeProbe();
      this.sendAppend(m.from);
      return;
    }
    if (m.index !== pr.snapshotIndex) return; // reply about an older snapshot
    pr.snapshotIdleTicks = 0;
    if (m.offset >= this.snapshot.data.byteLength && m.index === this.snapshot.meta.index) {
      pr.maybeUpdate(m.index);
      pr.becomeProbe();
      this.sendAppend(m.from);
      return;
    }
    pr.snapshotOffset = m.offset;
    this.sendSnapshotChunk(m.from, pr);
  }

  // ---- roles -----------------------------------------------------------------------------

  private becomeFollower(term: number, leader: MemberId | null): void {
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = 'follower';
    this.leader = leader;
    this.resetTimers();
    this.progress.clear();
    this.transferee = null;
    this.failedReads.push(...this.reads.reset());
  }

  private campaign(kind: 'pre-vote' | 'election', transfer: boolean): void {
    this.votes.clear();
    // The doubleCountVotes fault counts the candidate's own vote twice.
    this.voteCount = 2;
    if (kind === 'pre-vote') {
      this.role = 'pre-candidate';
      this.leader = null;
    } else {
      this.term += 1;
      this.vote = this.id;
      this.role = 'candidate';
      this.leader = null;
    }
    this.resetTimers();
    this.votes.set(this.id, true);
    if (quorum(this.config) <= 1) {
      if (kind === 'pre-vote') return this.campaign('election', false);
      return this.becomeLeader();
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const peer of this.config.voters) {
      if (peer === this.id) continue;
      if (kind === 'pre-vote') {
        this.msgs.push({ type: 'PreVote', from: this.id, to: peer, term: this.term + 1, lastIndex, lastTerm });
      } else {
        this.send({ type: 'Vote', to: peer, lastIndex, lastTerm, transfer });
      }
    }
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', 'only a candidate becomes leader');
    this.role = 'leader';
    this.leader = this.id;
    this.resetTimers();
    this.progress.clear();
    for (const peer of members(this.config)) {
      if (peer !== this.id) this.progress.set(peer, new Progress(this.log.lastIndex() + 1));
    }
    // Entries of earlier terms commit only through one of our own (§5.4.2): start with a no-op.
    this.pendingConfigIndex = this.log.lastIndex();
    this.appendOwn('noop', new Uint8Array(0));
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedTimeout && isVoter(this.config, this.id)) {
      this.campaign('pre-vote', false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.transferee !== null && ++this.transferElapsed >= this.opts.electionTicks) this.transferee = null;
    if (this.electionElapsed >= this.opts.electionTicks) {
      this.electionElapsed = 0;
      if (!this.hasActiveQuorum()) {
        // CheckQuorum: a leader that cannot hear a majority stops acting as one.
        this.becomeFollower(this.term, null);
        return;
      }
      for (const pr of this.progress.values()) pr.recentActive = false;
    }
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      for (const peer of this.progress.keys()) this.sendHeartbeat(peer, this.reads.currentSeq());
    }
    for (const [peer, pr] of this.progress) {
      // Stalled only while there is something to replicate and the match does not move.
      if (pr.match < this.log.lastIndex()) pr.stallTicks++;
      else pr.stallTicks = 0;
      if (pr.state === 'snapshot' && ++pr.snapshotIdleTicks >= this.opts.electionTicks) {
        pr.snapshotIdleTicks = 0;
        this.sendSnapshotChunk(peer, pr); // the chunk or its reply was lost: resend
      }
    }
  }

  private hasActiveQuorum(): boolean {
    let active = 0;
    for (const v of this.config.voters) if (this.isRecentlyActive(v)) active++;
    return active >= quorum(this.config);
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const et = this.opts.electionTicks;
    this.randomizedTimeout = et + Math.floor(this.opts.random() * et);
  }

  // ---- leader replication ----------------------------------------------------------------

  private checkCanPropose(): void {
    if (this.role !== 'leader') throw new ProposalError('not-leader', 'not the leader', this.leader);
    if (this.transferee !== null) throw new ProposalError('transferring', 'leadership transfer in progress', this.leader);
  }

  private committedInTerm(): boolean {
    return this.log.termAt(this.log.committed) === this.term;
  }

  private appendOwn(type: Entry['type'], data: Uint8Array): { index: number; term: number } {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data };
    this.log.append([entry]);
    if (type === 'config') this.applyLeaderConfig();
    for (const peer of this.progress.keys()) this.sendAppend(peer);
    this.maybeCommit();
    return { index: entry.index, term: entry.term };
  }

  private applyLeaderConfig(): void {
    this.config = this.log.lastConfig();
    for (const peer of members(this.config)) {
      if (peer !== this.id && !this.progress.has(peer)) this.progress.set(peer, new Progress(this.log.lastIndex()));
    }
    for (const peer of [...this.progress.keys()]) if (!isMember(this.config, peer)) this.progress.delete(peer);
  }

  private maybeCommit(): void {
    const idx = quorumIndex(this.config, (id) => this.matchIndexOf(id) ?? 0);
    if (idx <= this.log.committed) return;
    // Only entries of the current term are committed by counting replicas (§5.4.2, figure 8).
    if (this.log.termAt(idx) !== this.term && !this.opts.unsafeTestFaults?.commitOldTerms) return;
    this.log.commitTo(idx);
    for (const ctx of this.reads.takeWaiting()) this.readIndex(ctx);
  }

  /** Send what the follower is missing (or an empty probe), within the flow-control window. */
  private sendAppend(to: MemberId): void {
    const pr = this.progress.get(to);
    if (!pr) return;
    if (pr.isPaused(this.opts.maxInflightMsgs, this.opts.maxInflightBytes)) return;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === undefined) {
      pr.becomeSnapshot(this.snapshot.meta.index);
      this.sendSnapshotChunk(to, pr);
      return;
    }
    const entries = this.log.lastIndex() >= pr.next ? this.log.slice(pr.next, this.log.lastIndex(), this.opts.maxMsgBytes) : [];
    // In replicate state an empty append only spreads the commit index; heartbeats do that too.
    if (entries.length === 0 && pr.state === 'replicate') return;
    const bytes = entries.reduce((n, e) => n + e.data.byteLength, 0);
    this.send({ type: 'Append', to, prevIndex, prevTerm, entries, commit: this.log.committed });
    if (entries.length > 0) pr.sent(entries[entries.length - 1]!.index, bytes);
    else if (pr.state === 'probe') pr.probeSent = true;
  }

  private sendHeartbeat(to: MemberId, readCtx: number): void {
    const pr = this.progress.get(to);
    // Never let a follower commit beyond what it is known to match.
    const commit = Math.min(pr?.match ?? 0, this.log.committed);
    this.send({ type: 'Heartbeat', to, commit, readCtx });
  }

  private sendSnapshotChunk(to: MemberId, pr: Progress): void {
    if (pr.snapshotIndex !== this.snapshot.meta.index) pr.becomeSnapshot(this.snapshot.meta.index);
    const data = this.snapshot.data;
    const offset = Math.min(pr.snapshotOffset, data.byteLength);
    const end = Math.min(offset + this.opts.snapshotChunkBytes, data.byteLength);
    this.send({
      type: 'Snapshot', to, meta: this.snapshot.meta, offset, chunk: data.subarray(offset, end),
      total: data.byteLength, done: end === data.byteLength,
    });
  }

  private send(m: DistributiveOmit<Message, 'from' | 'term'>): void {
    this.msgs.push({ ...m, from: this.id, term: this.term } as Message);
  }

  private softChanged(): boolean {
    return this.prevSoft.role !== this.role || this.prevSoft.leader !== this.leader || this.prevSoft.term !== this.term;
  }

  private hardChanged(): boolean {
    return this.prevHard.term !== this.term || this.prevHard.vote !== this.vote || this.prevHard.commit !== this.log.committed;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
