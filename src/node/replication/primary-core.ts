// The primary's side of one partition at one epoch, as a deterministic state machine with
// no I/O: the shell (primary.ts) feeds it replies and the time, and asks it what is
// committed, whether writes and linearizable reads are allowed, and which replicas must
// be removed. A new epoch is a new PrimaryCore.
//
// Activation (docs/data-plane.md): every other in-sync replica is fenced at the new epoch
// (it answers with its lastSeq and how long it still promised an older primary); ops a
// replica holds beyond ours are adopted; the core turns active only once every promise to
// an older primary has run out. Then writes are acknowledged when every in-sync replica
// has them, and reads are served while every replica acknowledged a beacon sent within
// the lease period (or, with no other replica, while meta confirmed the map that recently).
import { invariant } from './invariant.js';
import type { ReplicationTiming } from './timing.js';

export type PrimaryPhase = 'activating' | 'active' | 'stale';

interface Member {
  readonly id: string;
  fenced: boolean;
  /** Highest sequence the replica is known to hold (-1 until fenced). */
  ackedSeq: number;
  /** Its lastSeq when fenced (what adoption compares with). */
  reportedSeq: number;
  /** Last acknowledgement or streaming progress. */
  lastProgressAt: number;
  /** When it last fell behind our lastSeq (null while caught up). */
  behindSince: number | null;
  /** Send time of the latest beacon it acknowledged. */
  beaconSentAt: number;
  /** Receive time of the latest beacon acknowledgement. */
  beaconAckAt: number;
  /** Why the core wants it removed (null while healthy). */
  failed: string | null;
  /** The removal was handed to the shell. */
  reported: boolean;
}

export interface PrimaryInit {
  readonly partition: number;
  readonly epoch: number;
  readonly self: string;
  /** The other in-sync replicas of this epoch. */
  readonly members: readonly string[];
  readonly minInsync: number;
  /** Our store's lastSeq. */
  readonly localSeq: number;
  readonly now: number;
  readonly timing: ReplicationTiming;
  /** The earliest time the shell knows no older lease can still be held (restart guard, own promises). */
  readonly notBefore: number;
}

export type WriteRefusal =
  | { readonly code: 'activating'; readonly message: string }
  | { readonly code: 'handing-over'; readonly message: string }
  | { readonly code: 'reconfiguring'; readonly message: string }
  | { readonly code: 'not-enough-replicas'; readonly message: string }
  | { readonly code: 'stale-epoch'; readonly message: string };

export interface AdoptionRequest {
  /** The replica holding ops beyond ours. */
  readonly from: string;
  readonly afterSeq: number;
  readonly upToSeq: number;
}

export class PrimaryCore {
  readonly partition: number;
  readonly epoch: number;
  readonly self: string;
  readonly minInsync: number;
  readonly #timing: ReplicationTiming;
  readonly #members = new Map<string, Member>();
  readonly #activatedAt: number;
  #notBefore: number;
  #localSeq: number;
  #phase: PrimaryPhase = 'activating';
  #adopting: string | null = null;
  #metaConfirmedAt = -Infinity;
  /** A graceful handover under way (handover.ts): new writes refused; once released, no lease either. */
  #handover: { to: string; released: boolean } | null = null;

  constructor(init: PrimaryInit) {
    invariant(Number.isSafeInteger(init.epoch) && init.epoch >= 1, `epoch ${init.epoch} must be a positive integer`);
    invariant(Number.isSafeInteger(init.localSeq) && init.localSeq >= 0, `localSeq ${init.localSeq} must be a non-negative integer`);
    invariant(new Set(init.members).size === init.members.length, 'members must be distinct');
    invariant(!init.members.includes(init.self), 'the primary is not one of its own members');
    invariant(init.minInsync >= 1, 'minInsync must be at least 1');
    this.partition = init.partition;
    this.epoch = init.epoch;
    this.self = init.self;
    this.minInsync = init.minInsync;
    this.#timing = init.timing;
    this.#activatedAt = init.now;
    this.#notBefore = init.notBefore;
    this.#localSeq = init.localSeq;
    for (const id of init.members) {
      this.#members.set(id, {
        id, fenced: false, ackedSeq: -1, reportedSeq: -1, lastProgressAt: init.now, behindSince: null,
        beaconSentAt: -Infinity, beaconAckAt: init.now, failed: null, reported: false,
      });
    }
  }

  get phase(): PrimaryPhase {
    return this.#phase;
  }

  get localSeq(): number {
    return this.#localSeq;
  }

  get members(): string[] {
    return [...this.#members.keys()];
  }

  /** The in-sync set's size, primary included. */
  get inSync(): number {
    return this.#members.size + 1;
  }

  /** Every sequence up to this one is on every in-sync replica. */
  committedSeq(): number {
    let committed = this.#localSeq;
    for (const m of this.#members.values()) committed = Math.min(committed, m.ackedSeq);
    return committed;
  }

  /** Acknowledged writes need minInsync copies: below it, nothing this epoch commits counts. */
  belowMinInsync(): boolean {
    return this.inSync < this.minInsync;
  }

  /** Where the sender to `id` starts: null until fenced, or once it failed. */
  sendFrom(id: string): number | null {
    const m = this.#member(id);
    return m.fenced && m.failed === null ? m.ackedSeq : null;
  }

  ackedSeq(id: string): number {
    return this.#member(id).ackedSeq;
  }

  /** Replicas that answered the epoch start (beacons and ops go only to them). */
  fencedMembers(): string[] {
    return [...this.#members.values()].filter((m) => m.fenced && m.failed === null).map((m) => m.id);
  }

  onFenced(id: string, reply: { lastSeq: number; promiseMs: number }, now: number): void {
    const m = this.#member(id);
    if (m.fenced || m.failed !== null || this.#phase === 'stale') return;
    invariant(Number.isSafeInteger(reply.lastSeq) && reply.lastSeq >= 0, `replica ${id} reported lastSeq ${reply.lastSeq}`);
    m.fenced = true;
    m.reportedSeq = reply.lastSeq;
    m.ackedSeq = Math.min(reply.lastSeq, this.#localSeq);
    m.lastProgressAt = now;
    m.beaconAckAt = now;
    m.behindSince = m.ackedSeq < this.#localSeq ? now : null;
    // The old primary's lease needed this replica's acknowledgements; it ends with its promise.
    this.#notBefore = Math.max(this.#notBefore, now + Math.max(0, reply.promiseMs));
  }

  /** A replica that did not take the new epoch, or failed for good (full copy needed, went backwards). */
  fail(id: string, reason: string): void {
    const m = this.#member(id);
    if (m.failed === null) m.failed = reason;
  }

  /** The next adoption to run, once every replica is fenced: ops a replica holds beyond ours. */
  adoptionNeeded(): AdoptionRequest | null {
    if (this.#phase !== 'activating' || this.#adopting !== null) return null;
    const all = [...this.#members.values()];
    if (!all.every((m) => m.fenced && m.failed === null)) return null;
    const ahead = all.filter((m) => m.reportedSeq > this.#localSeq).sort((a, b) => b.reportedSeq - a.reportedSeq || (a.id < b.id ? -1 : 1));
    const best = ahead[0];
    if (best === undefined) return null;
    this.#adopting = best.id;
    return { from: best.id, afterSeq: this.#localSeq, upToSeq: best.reportedSeq };
  }

  /** Adopted ops were applied locally; our lastSeq is now `localSeq`. */
  onAdopted(localSeq: number): void {
    invariant(this.#adopting !== null, 'adoption finished without one running');
    this.#adopting = null;
    this.#advanceLocal(localSeq);
    // Replicas hold a prefix of one history: what they reported is now below our lastSeq.
    for (const m of this.#members.values()) {
      if (!m.fenced) continue;
      m.ackedSeq = Math.min(m.reportedSeq, this.#localSeq);
      m.behindSince = m.ackedSeq < this.#localSeq ? (m.behindSince ?? m.lastProgressAt) : null;
    }
  }

  /** Ops may flow to replicas: every one is fenced and nobody holds ops we lack. */
  replicating(): boolean {
    if (this.#phase === 'active') return true;
    if (this.#phase === 'stale' || this.#adopting !== null) return false;
    return [...this.#members.values()].every((m) => m.fenced && m.failed === null && m.reportedSeq <= this.#localSeq);
  }

  onAdoptFailed(id: string, reason: string): void {
    invariant(this.#adopting === id, `adoption from ${id} was not running`);
    this.#adopting = null;
    this.fail(id, `adoption failed: ${reason}`);
  }

  /** Our store committed `seq` (a client write). */
  onLocalCommit(seq: number, now: number): void {
    invariant(seq > this.#localSeq, `local commit ${seq} does not follow ${this.#localSeq}`);
    this.#localSeq = seq;
    for (const m of this.#members.values()) if (m.behindSince === null && m.ackedSeq < seq) m.behindSince = now;
  }

  onAck(id: string, lastSeq: number, now: number): void {
    const m = this.#member(id);
    if (!m.fenced || m.failed !== null) return;
    if (lastSeq < m.ackedSeq) {
      this.fail(id, `went backwards from ${m.ackedSeq} to ${lastSeq}`);
      return;
    }
    if (lastSeq > this.#localSeq) {
      this.fail(id, `holds sequence ${lastSeq}, beyond the primary's ${this.#localSeq}`);
      return;
    }
    m.ackedSeq = lastSeq;
    m.lastProgressAt = now;
    m.behindSince = lastSeq < this.#localSeq ? now : null;
  }

  /** Bytes of a long value are flowing to `id`: it is slow, not dead. */
  onProgress(id: string, now: number): void {
    const m = this.#member(id);
    m.lastProgressAt = Math.max(m.lastProgressAt, now);
  }

  onBeaconAck(id: string, sentAt: number, now: number): void {
    const m = this.#member(id);
    if (!m.fenced || m.failed !== null) return;
    m.beaconSentAt = Math.max(m.beaconSentAt, sentAt);
    m.beaconAckAt = now;
  }

  /** Meta answered, after `sentAt`, with a map in which we are still this epoch's primary. */
  onMetaConfirm(sentAt: number): void {
    this.#metaConfirmedAt = Math.max(this.#metaConfirmedAt, sentAt);
  }

  /** The successor of a handover under way, or null. */
  get handingOverTo(): string | null {
    return this.#handover?.to ?? null;
  }

  /** The lease was given up for a handover: this epoch never serves a read again. */
  get leaseReleased(): boolean {
    return this.#handover?.released === true;
  }

  /** Starts a handover to `to`: new client writes are refused from now on; reads go on under the lease. */
  beginHandover(to: string): void {
    invariant(this.#phase === 'active', `partition ${this.partition}: a handover needs an active primary, not ${this.#phase}`);
    invariant(this.#handover === null, `partition ${this.partition}: a handover to ${this.#handover?.to} is already under way`);
    const m = this.#member(to);
    invariant(m.fenced && m.failed === null, `partition ${this.partition}: successor ${to} is not a healthy fenced replica`);
    this.#handover = { to, released: false };
  }

  /** The handover did not happen (nothing was released): writes resume. */
  cancelHandover(): void {
    invariant(this.#handover !== null && !this.#handover.released, `partition ${this.partition}: only an unreleased handover can be cancelled`);
    this.#handover = null;
  }

  /** Gives the read lease up for good, before meta is asked to appoint the successor. */
  releaseLease(to: string): void {
    invariant(this.#handover !== null, `partition ${this.partition}: releasing the lease without a handover`);
    invariant(this.#writesDone(), `partition ${this.partition}: releasing with writes not on every replica (${this.committedSeq()} < ${this.#localSeq})`);
    this.#handover = { to, released: true };
  }

  /** A newer epoch exists: nothing more is served or committed under this one. */
  markStale(): void {
    this.#phase = 'stale';
  }

  /** Advances timers; returns replicas newly judged failed, for the shell to remove. */
  tick(now: number): string[] {
    if (this.#phase === 'stale') return [];
    const { timeoutMs } = this.#timing;
    for (const m of this.#members.values()) {
      if (m.failed !== null) continue;
      if (!m.fenced) {
        if (now - this.#activatedAt > timeoutMs) m.failed = 'did not answer the epoch start';
        continue;
      }
      if (m.behindSince !== null && now - Math.max(m.behindSince, m.lastProgressAt) > timeoutMs) m.failed = 'replication timed out';
      else if (now - m.beaconAckAt > timeoutMs) m.failed = 'beacons unanswered';
    }
    if (this.#phase === 'activating' && this.#readyToActivate(now)) this.#phase = 'active';
    const out: string[] = [];
    for (const m of this.#members.values()) {
      if (m.failed !== null && !m.reported) {
        m.reported = true;
        out.push(m.id);
      }
    }
    return out;
  }

  failedMembers(): { id: string; reason: string }[] {
    return [...this.#members.values()].filter((m) => m.failed !== null).map((m) => ({ id: m.id, reason: m.failed as string }));
  }

  /** Null when a new client write may start now, else why not. */
  writeRefusal(): WriteRefusal | null {
    if (this.#phase === 'stale') return { code: 'stale-epoch', message: `partition ${this.partition}: epoch ${this.epoch} is over` };
    if (this.belowMinInsync()) {
      return { code: 'not-enough-replicas', message: `partition ${this.partition} has ${this.inSync} in-sync replicas; writes need ${this.minInsync}` };
    }
    if (this.failedMembers().length > 0) return { code: 'reconfiguring', message: `partition ${this.partition} is removing an unresponsive replica` };
    if (this.#phase === 'activating') return { code: 'activating', message: `partition ${this.partition}: the primary of epoch ${this.epoch} is still taking over` };
    if (this.#handover !== null) return { code: 'handing-over', message: `partition ${this.partition}: the primary is handing over to ${this.#handover.to}` };
    return null;
  }

  /** Whether a linearizable read may be answered now. */
  leaseValid(now: number): boolean {
    return this.leaseUntil() > now && this.#phase === 'active';
  }

  /** The end of the current read lease (-Infinity without one). */
  leaseUntil(): number {
    if (this.#phase !== 'active' || this.leaseReleased) return -Infinity;
    if (this.#members.size === 0) return this.#metaConfirmedAt + this.#timing.leaseMs;
    let oldest = Infinity;
    for (const m of this.#members.values()) oldest = Math.min(oldest, m.failed === null ? m.beaconSentAt : -Infinity);
    return oldest + this.#timing.leaseMs;
  }

  /** Replication lag per replica, in sequence numbers (for metrics). */
  lag(): { id: string; lag: number }[] {
    return [...this.#members.values()].map((m) => ({ id: m.id, lag: this.#localSeq - Math.max(0, m.ackedSeq) }));
  }

  #writesDone(): boolean {
    return this.committedSeq() === this.#localSeq;
  }

  #readyToActivate(now: number): boolean {
    const all = [...this.#members.values()];
    if (!all.every((m) => m.fenced && m.failed === null)) return false;
    if (this.#adopting !== null || all.some((m) => m.reportedSeq > this.#localSeq)) return false;
    return now >= this.#notBefore;
  }

  #advanceLocal(seq: number): void {
    invariant(seq >= this.#localSeq, `local sequence went backwards from ${this.#localSeq} to ${seq}`);
    this.#localSeq = seq;
  }

  #member(id: string): Member {
    const m = this.#members.get(id);
    invariant(m !== undefined, `${id} is not an in-sync replica of partition ${this.partition} at epoch ${this.epoch}`);
    return m;
  }
}
