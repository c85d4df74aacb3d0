// An in-memory driver for the Raft core (not a test file itself): members with "disks"
// that persist each Ready synchronously, a message queue delivered one message at a time
// or until quiet, filters that drop or hold messages, and helpers to elect, propose and
// build members from a given log. It checks the driver contract as it goes: a granted
// vote or a successful append reply never leaves before what it promises is on disk,
// and committed entries are applied in order without gaps.
import { RaftNode, type RaftBoot, type RaftOptions } from '../../src/raft/node.js';
import { Rng } from '../../src/raft/sim/rng.js';
import type {
  Config, Entry, HardState, MemberId, Message, MessageType, ReadState, Ready, Snapshot,
} from '../../src/raft/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

export type NodeOptions = Partial<Omit<RaftOptions, 'id' | 'random'>>;

export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;

export interface Disk {
  hard: HardState;
  snapshot: Snapshot;
  entries: Entry[];
}

export function cfg(voters: MemberId[], learners: MemberId[] = []): Config {
  return { voters, learners };
}

/** Command entries 1..n with the given terms; the payload names index and term. */
export function entriesFromTerms(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => ({ index: i + 1, term, type: 'command', data: bytes(`i${i + 1}t${term}`) }));
}

/** What a member with this log (one term per entry) and hard state recovers from disk. */
export function bootFromTerms(terms: readonly number[], config: Config, hard: Partial<HardState> = {}): RaftBoot {
  return {
    hardState: { term: hard.term ?? terms[terms.length - 1] ?? 0, vote: hard.vote ?? null, commit: hard.commit ?? 0 },
    snapshot: { meta: { index: 0, term: 0, config }, data: new Uint8Array(0) },
    entries: entriesFromTerms(terms),
  };
}

/** The terms of a node's log from its first to its last index. */
export function termsOf(node: RaftNode): number[] {
  const out: number[] = [];
  for (let i = node.log.firstIndex(); i <= node.log.lastIndex(); i++) out.push(node.log.termAt(i)!);
  return out;
}

function decodeState(data: Uint8Array): string[] {
  return data.byteLength === 0 ? [] : (JSON.parse(text(data)) as string[]);
}

export class Member {
  up = true;
  node: RaftNode;
  disk: Disk;
  /** The toy state machine: command payloads applied in order (restored from snapshots). */
  state: string[] = [];
  /** Index of the last entry applied (or covered by an installed snapshot). */
  appliedIndex: number;
  /** Every entry handed out in Ready.committed since the last (re)start. */
  applied: Entry[] = [];
  readies: Ready[] = [];
  readStates: ReadState[] = [];
  failedReads: number[] = [];

  constructor(readonly id: MemberId, readonly options: RaftOptions, boot: RaftBoot) {
    this.disk = { hard: boot.hardState, snapshot: boot.snapshot, entries: boot.entries.slice() };
    this.node = new RaftNode(options, { ...boot, entries: boot.entries.slice() });
    this.state = decodeState(boot.snapshot.data);
    this.appliedIndex = boot.snapshot.meta.index;
  }
}

export interface MessageMatch {
  from?: MemberId | MemberId[];
  to?: MemberId | MemberId[];
  type?: MessageType | MessageType[];
  where?: (m: Message) => boolean;
}

export interface Filter extends MessageMatch {
  action: 'drop' | 'hold';
}

const oneOf = <T>(want: T | T[] | undefined, got: T): boolean =>
  want === undefined || (Array.isArray(want) ? want.includes(got) : want === got);

export function matches(f: MessageMatch, m: Message): boolean {
  return oneOf(f.from, m.from) && oneOf(f.to, m.to) && oneOf(f.type, m.type) && (f.where === undefined || f.where(m));
}

export class Cluster {
  readonly members = new Map<MemberId, Member>();
  queue: Message[] = [];
  held: Message[] = [];
  /** Every message handed out by a Ready, in order. */
  readonly sent: Message[] = [];
  private filters: Filter[] = [];
  /** Messages put back by release(): delivered without looking at the filters again. */
  private released = new WeakSet<Message>();
  private readonly rng: Rng;

  constructor(readonly seed: number, readonly defaults: NodeOptions = {}) {
    this.rng = new Rng(seed);
  }

  /** A freshly bootstrapped group whose voters are `ids`. */
  static fresh(ids: MemberId[], seed: number, opts: NodeOptions = {}): Cluster {
    const c = new Cluster(seed, opts);
    for (const id of ids) c.add(id, bootFromTerms([], cfg(ids)));
    return c;
  }

  add(id: MemberId, boot: RaftBoot, opts: NodeOptions = {}): Member {
    const r = this.rng.fork();
    const options: RaftOptions = {
      electionTicks: ELECTION_TICKS, heartbeatTicks: HEARTBEAT_TICKS, ...this.defaults, ...opts, id, random: () => r.next(),
    };
    const m = new Member(id, options, boot);
    this.members.set(id, m);
    return m;
  }

  member(id: MemberId): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: MemberId): RaftNode {
    return this.member(id).node;
  }

  ids(): MemberId[] {
    return [...this.members.keys()];
  }

  upIds(): MemberId[] {
    return this.ids().filter((id) => this.member(id).up);
  }

  // ---- driving a member -------------------------------------------------------------------

  /** Drains every Ready of `id`: persist, check the contract, send, apply, advance. */
  process(id: MemberId): void {
    const m = this.member(id);
    while (m.up && m.node.hasReady()) {
      const rd = m.node.ready();
      m.readies.push(rd);
      this.persist(m, rd);
      for (const msg of rd.messages) {
        this.checkDurable(m, msg);
        this.sent.push(msg);
        this.queue.push(msg);
      }
      if (rd.snapshot) {
        m.state = decodeState(rd.snapshot.data);
        m.appliedIndex = rd.snapshot.meta.index;
      }
      for (const e of rd.committed) {
        if (e.index !== m.appliedIndex + 1) throw new Error(`${id} applied ${e.index} after ${m.appliedIndex}`);
        m.appliedIndex = e.index;
        m.applied.push(e);
        if (e.type === 'command') m.state.push(text(e.data));
      }
      m.readStates.push(...rd.readStates);
      m.failedReads.push(...rd.failedReads);
      m.node.advance();
    }
  }

  processAll(): void {
    for (const id of this.ids()) this.process(id);
  }

  private persist(m: Member, rd: Ready): void {
    const d = m.disk;
    if (rd.snapshot) {
      d.snapshot = rd.snapshot;
      d.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      d.entries = d.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) d.hard = rd.hardState;
  }

  private checkDurable(m: Member, msg: Message): void {
    const d = m.disk;
    if (msg.type === 'VoteResp' && msg.granted && (d.hard.term !== msg.term || d.hard.vote !== msg.to)) {
      throw new Error(`${m.id} granted a vote to ${msg.to} in term ${msg.term} that is not on disk`);
    }
    const diskLast = d.entries.length > 0 ? d.entries[d.entries.length - 1]!.index : d.snapshot.meta.index;
    if (msg.type === 'AppendResp' && msg.success && diskLast < msg.index) {
      throw new Error(`${m.id} acknowledged index ${msg.index} with only ${diskLast} on disk`);
    }
  }

  tick(ids: MemberId[] = this.upIds()): void {
    for (const id of ids) {
      const m = this.member(id);
      if (!m.up) continue;
      m.node.tick();
      this.process(id);
    }
  }

  /** `n` rounds of: tick `ids`, then deliver until quiet. */
  ticks(n: number, ids?: MemberId[]): void {
    for (let i = 0; i < n; i++) {
      this.tick(ids);
      this.deliverAll();
    }
  }

  /** Ticks `ids` round by round (delivering everything) until `pred` holds; returns the rounds taken. */
  tickUntil(pred: () => boolean, max: number, ids?: MemberId[]): number {
    for (let i = 0; i <= max; i++) {
      if (pred()) return i;
      if (i === max) break;
      this.tick(ids);
      this.deliverAll();
    }
    throw new Error(`condition not reached within ${max} ticks (seed ${this.seed})`);
  }

  // ---- the network ---------------------------------------------------------------------------

  /** Delivers the next queued message (unless a filter drops or holds it); returns it, or null. */
  deliverOne(): Message | null {
    const msg = this.queue.shift();
    if (!msg) return null;
    const f = this.released.has(msg) ? undefined : this.filters.find((x) => matches(x, msg));
    if (f?.action === 'drop') return msg;
    if (f?.action === 'hold') {
      this.held.push(msg);
      return msg;
    }
    const to = this.members.get(msg.to);
    if (!to || !to.up) return msg;
    to.node.step(msg);
    this.process(msg.to);
    return msg;
  }

  /** Processes every member, then delivers until no message is left. */
  deliverAll(max = 100_000): void {
    this.processAll();
    for (let n = 0; this.queue.length > 0; n++) {
      if (n >= max) throw new Error(`still busy after ${max} messages (seed ${this.seed})`);
      this.deliverOne();
    }
  }

  /** Steps a hand-made message into its recipient and drains its Ready. */
  inject(msg: Message): void {
    this.node(msg.to).step(msg);
    this.process(msg.to);
  }

  drop(match: MessageMatch): Filter {
    const f: Filter = { ...match, action: 'drop' };
    this.filters.push(f);
    return f;
  }

  hold(match: MessageMatch): Filter {
    const f: Filter = { ...match, action: 'hold' };
    this.filters.push(f);
    return f;
  }

  unfilter(...fs: Filter[]): void {
    this.filters = this.filters.filter((f) => !fs.includes(f));
  }

  /** Cuts `id` off from everyone (both directions). */
  isolate(id: MemberId): Filter[] {
    return [this.drop({ from: id }), this.drop({ to: id })];
  }

  heal(): void {
    this.filters = [];
  }

  /**
   * Puts held messages matching `match` (all by default) back at the end of the queue;
   * they are then delivered whatever the filters say.
   */
  release(match: MessageMatch = {}): number {
    const out = this.held.filter((m) => matches(match, m));
    this.held = this.held.filter((m) => !matches(match, m));
    for (const m of out) this.released.add(m);
    this.queue.push(...out);
    return out.length;
  }

  /** Messages sent so far that match. */
  sentWhere(match: MessageMatch): Message[] {
    return this.sent.filter((m) => matches(match, m));
  }

  // ---- members going down and up -----------------------------------------------------------

  crash(id: MemberId): void {
    this.member(id).up = false;
  }

  /** Boots `id` again from what its disk holds. */
  restart(id: MemberId): void {
    const m = this.member(id);
    const d = m.disk;
    m.node = new RaftNode(m.options, { hardState: d.hard, snapshot: d.snapshot, entries: d.entries.slice() });
    m.state = decodeState(d.snapshot.data);
    m.appliedIndex = d.snapshot.meta.index;
    m.applied = [];
    m.up = true;
  }

  // ---- leaders and proposals -------------------------------------------------------------------

  leaders(): MemberId[] {
    return this.upIds().filter((id) => this.node(id).role === 'leader');
  }

  /** The up leader of the highest term (among `ids` when given), if any. */
  leader(ids?: MemberId[]): MemberId | undefined {
    let best: MemberId | undefined;
    for (const id of this.leaders()) {
      if (ids && !ids.includes(id)) continue;
      if (!best || this.node(id).term > this.node(best).term) best = id;
    }
    return best;
  }

  /** Ticks `ids` (everyone up by default) until one of them leads; returns it. */
  waitLeader(max = 10 * ELECTION_TICKS, ids?: MemberId[]): MemberId {
    this.tickUntil(() => this.leader(ids) !== undefined, max, ids);
    return this.leader(ids)!;
  }

  /** Ticks only `id` (delivering everything between ticks) until it is leader. */
  elect(id: MemberId, max = 6 * ELECTION_TICKS): void {
    this.tickUntil(() => this.node(id).role === 'leader', max, [id]);
    this.deliverAll();
  }

  propose(id: MemberId, payload: string): { index: number; term: number } {
    const placed = this.node(id).propose(bytes(payload));
    this.process(id);
    return placed;
  }

  /** Proposes on `id` and delivers until quiet; throws unless the entry committed there. */
  proposeAndCommit(id: MemberId, payload: string): { index: number; term: number } {
    const placed = this.propose(id, payload);
    this.deliverAll();
    const log = this.node(id).log;
    if (log.committed < placed.index || log.termAt(placed.index) !== placed.term) {
      throw new Error(`${payload} at ${placed.index} did not commit (seed ${this.seed})`);
    }
    return placed;
  }

  /** The application snapshots its state at its applied index and the core compacts. */
  compact(id: MemberId): Snapshot {
    const m = this.member(id);
    const node = m.node;
    const index = node.log.applied;
    const data = bytes(JSON.stringify(m.state));
    const meta = { index, term: node.log.termAt(index)!, config: node.log.configAt(index) };
    node.compact(index, data);
    m.disk.snapshot = { meta, data };
    m.disk.entries = m.disk.entries.filter((e) => e.index > index);
    return m.disk.snapshot;
  }
}
