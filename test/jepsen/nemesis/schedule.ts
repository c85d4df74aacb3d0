// The nemesis schedule: which fault starts when and how long it holds, drawn from a seed
// alone, so a run is replayed by its seed. Targets are named by role ("the meta leader",
// "a partition's primary"); which process that is gets resolved when the fault starts.
import { prng, randomInt } from '../../helpers/prng.js';
import { NODE_LEASE_MS } from '../cluster/cluster.js';

export type FaultKind = 'kill' | 'pause' | 'partition' | 'crash' | 'flap' | 'reorder' | 'bridge' | 'clock' | 'slow-disk' | 'storage' | 'duplicate' | 'links';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition', 'crash', 'flap', 'reorder', 'bridge', 'clock', 'slow-disk', 'storage', 'duplicate', 'links'];
/** What a run uses unless told otherwise: the kinds whose seeds have been replayed since the start. */
export const DEFAULT_FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition'];

/** minority: one meta member and one storage node at the same instant; all: every process. */
export type CrashGroup = 'minority' | 'all';
const CRASH_GROUPS: readonly CrashGroup[] = ['minority', 'all'];
export type FlapTarget = 'meta-leader' | 'primary';
const FLAP_TARGETS: readonly FlapTarget[] = ['meta-leader', 'primary'];
/** primary: the inbound link of a partition's primary; nodes: every node's inbound link. */
export type ReorderTarget = 'primary' | 'nodes';
const REORDER_TARGETS: readonly ReorderTarget[] = ['primary', 'nodes'];

/**
 * skew: the process's clock steps by offsetMs and stays there until the heal steps it back.
 * drift: the process's clock runs at `rate` times real time until the heal.
 */
export type ClockMode = 'skew' | 'drift';
/** Storage nodes drift only within the lease protocol's documented bound (docs/data-plane.md, "Timing assumption"). */
export const NODE_DRIFT_RATES: readonly number[] = [0.8, 1.25];
export const DRIFT_RATES: readonly number[] = [0.5, 0.75, 1.5, 2];
/** Beyond the node lease (2.4 s) and meta's election timeout (1–2 s). */
export const SKEW_MS: [number, number] = [1000, 15_000];

/** one: a single process's fsyncs; meta: every meta member's; all: every meta member's and node's. */
export type SlowDiskTarget = 'meta-leader' | 'meta-follower' | 'primary' | 'replica' | 'meta' | 'all';
const SLOW_DISK_TARGETS: readonly SlowDiskTarget[] = ['meta-leader', 'meta-follower', 'primary', 'replica', 'meta', 'all'];
/** From a few fsyncs' worth of latency to beyond meta's election timeout and the node lease. */
export const SLOW_DISK_MS: readonly number[] = [20, 50, 200, 800, 2500, 4000];

/**
 * What a storage fault does to the files of a process killed -9, before it restarts:
 * - tear-tail: garbage (zeros or random bytes) after the last record of a meta member's
 *   active WAL segment: a torn append that was never synced. Cut on restart.
 * - tear-last: the active segment cut inside its last record (the member alone was
 *   killed, so the rest of the group holds whatever that record carried). Cut on restart.
 * - flip-meta: one bit flipped in a meta member's synced, committed data (a record that is
 *   not the last, or the snapshot file). The member must refuse to start.
 * - flip-node: one bit flipped in a stored value in a storage node's LevelDB tables. The
 *   node must never serve it, and must report it.
 */
export type StorageDamage = 'tear-tail' | 'tear-last' | 'flip-meta' | 'flip-node';
const STORAGE_DAMAGE: readonly StorageDamage[] = ['tear-tail', 'tear-last', 'flip-meta', 'flip-node'];

export type ProcessTarget = 'meta-leader' | 'meta-follower' | 'primary' | 'replica' | 'gateway' | 'sentinel';
const PROCESS_TARGETS: readonly ProcessTarget[] = ['meta-leader', 'meta-follower', 'primary', 'replica', 'gateway', 'sentinel'];

export type PartitionShape =
  /** every Raft link to and from the leader blocked: a minority of one against a majority */
  | 'isolate-meta-leader'
  | 'isolate-meta-follower'
  /** the leader's messages are lost, it still hears the others */
  | 'meta-leader-mute'
  /** the leader cannot hear the others, its own messages get through */
  | 'meta-leader-deaf'
  /** every Raft link slowed down */
  | 'meta-delay'
  /** nobody reaches the primary of a partition (clients, gateway, peers, sentinel) */
  | 'isolate-primary'
  /** a node answers slowly */
  | 'node-delay';
const PARTITION_SHAPES: readonly PartitionShape[] = [
  'isolate-meta-leader', 'isolate-meta-follower', 'meta-leader-mute', 'meta-leader-deaf', 'meta-delay', 'isolate-primary', 'node-delay',
];

/**
 * The link faults of the `links` kind (a kind of its own, so that seeds drawn from the
 * partition shapes above replay the same schedules):
 * - primary-replica-cut: a partition's primary cannot reach one of its replicas (one way:
 *   the primary's connections to the replica hold; both ways: the replica's to the
 *   primary too), while meta, the gateway, the sentinel and clients reach both.
 * - primary-replica-delay: the primary's connections to one replica (both ways: and back)
 *   slowed down.
 * - node-meta-cut: one storage node (a partition's primary) cannot reach meta's API: its
 *   heartbeats, lease renewals, map watches and commands stop (one way: its requests get
 *   through and are applied, their answers never come back).
 * - gateway-meta-cut, sentinel-meta-cut: the same for the gateway or the sentinel.
 */
export type LinkShape = 'primary-replica-cut' | 'primary-replica-delay' | 'node-meta-cut' | 'gateway-meta-cut' | 'sentinel-meta-cut';
export const LINK_SHAPES: readonly LinkShape[] = ['primary-replica-cut', 'primary-replica-delay', 'node-meta-cut', 'gateway-meta-cut', 'sentinel-meta-cut'];
export type LinkWays = 'one' | 'both';

export type Fault =
  | { readonly kind: 'kill'; readonly target: ProcessTarget }
  | { readonly kind: 'pause'; readonly target: ProcessTarget }
  | { readonly kind: 'partition'; readonly shape: PartitionShape; readonly delayMs: number }
  | { readonly kind: 'links'; readonly shape: LinkShape; readonly ways: LinkWays; readonly delayMs: number }
  | { readonly kind: 'crash'; readonly group: CrashGroup }
  /** The target is cut off for cutMs, reachable for openMs, again and again while the fault holds. */
  | { readonly kind: 'flap'; readonly target: FlapTarget; readonly cutMs: number; readonly openMs: number }
  /** Each chunk delayed by a random 0..jitterMs: requests on different connections overtake each other. */
  | { readonly kind: 'reorder'; readonly target: ReorderTarget; readonly jitterMs: number }
  /**
   * Meta split in two halves that cannot hear each other, joined by one member that hears
   * both (with 5 members each half plus the bridge is a majority; with 3, a chain x–b–y).
   */
  | { readonly kind: 'bridge' }
  /** Every meta Raft link sends each message frame twice with this probability (the handshake never). */
  | { readonly kind: 'duplicate'; readonly probability: number }
  | { readonly kind: 'clock'; readonly target: ProcessTarget; readonly mode: ClockMode; readonly offsetMs: number; readonly rate: number }
  | { readonly kind: 'slow-disk'; readonly target: SlowDiskTarget; readonly delayMs: number }
  /** kill -9 of every process (crash 'all') or the victim alone ('one'), damage to the victim's files, restart. */
  | { readonly kind: 'storage'; readonly damage: StorageDamage; readonly crash: 'all' | 'one'; readonly seed: number };

export interface Step {
  /** ms after the start of the run */
  readonly at: number;
  readonly fault: Fault;
  /** how long the fault holds before it is healed */
  readonly holdMs: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly kinds: readonly FaultKind[];
  readonly durationMs: number;
  /**
   * The first steps take every kind once, in an order drawn from the seed, before kinds are
   * drawn freely: a short run (the quick passes of `npm test`) then exercises each kind it
   * names. Off by default, so seeds reported without it replay the same schedule.
   */
  readonly cover?: boolean;
}

/** Pauses outlast a node's lease and meta's election timeout (1–2 s), so a paused leader comes back stale. */
const PAUSE_MS: [number, number] = [NODE_LEASE_MS + 1000, NODE_LEASE_MS + 3500];
const KILL_DOWN_MS: [number, number] = [500, 4000];
const PARTITION_MS: [number, number] = [2500, 7000];
const GAP_MS: [number, number] = [1000, 3000];
/** Each cut is shorter than meta's election timeout (1–2 s) and the node lease: nobody should time out, yet messages stall. */
const FLAP_CUT_MS: [number, number] = [100, 800];
const FLAP_OPEN_MS: [number, number] = [100, 600];
/** Quiet time at the end of the run, after the last heal. */
const TAIL_MS = 1000;

export function nemesisSchedule(opts: ScheduleOptions): Step[] {
  if (opts.kinds.length === 0) return [];
  const rand = prng(opts.seed ^ 0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const steps: Step[] = [];
  let at = randomInt(rand, ...GAP_MS);
  const first = opts.cover === true ? shuffled(opts.kinds, rand) : [];
  for (let i = 0; i < 10_000; i++) {
    const kind = i < first.length ? first[i]! : pick(opts.kinds);
    let fault: Fault;
    let holdMs: number;
    if (kind === 'partition') {
      const shape = pick(PARTITION_SHAPES);
      fault = { kind, shape, delayMs: shape === 'meta-delay' ? randomInt(rand, 50, 400) : shape === 'node-delay' ? randomInt(rand, 100, 1500) : 0 };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'links') {
      const shape = pick(LINK_SHAPES);
      fault = { kind, shape, ways: pick(['one', 'both'] as const), delayMs: shape === 'primary-replica-delay' ? randomInt(rand, 100, 1500) : 0 };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'crash') {
      fault = { kind, group: pick(CRASH_GROUPS) };
      holdMs = randomInt(rand, ...KILL_DOWN_MS);
    } else if (kind === 'flap') {
      fault = { kind, target: pick(FLAP_TARGETS), cutMs: randomInt(rand, ...FLAP_CUT_MS), openMs: randomInt(rand, ...FLAP_OPEN_MS) };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'bridge') {
      fault = { kind };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'duplicate') {
      fault = { kind, probability: randomInt(rand, 10, 60) / 100 };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'reorder') {
      fault = { kind, target: pick(REORDER_TARGETS), jitterMs: randomInt(rand, 50, 1000) };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'clock') {
      const target = pick(PROCESS_TARGETS);
      const node = target === 'primary' || target === 'replica';
      const mode: ClockMode = node ? 'drift' : pick(['skew', 'drift'] as const);
      const offsetMs = mode === 'skew' ? (rand() < 0.5 ? -1 : 1) * randomInt(rand, ...SKEW_MS) : 0;
      fault = { kind, target, mode, offsetMs, rate: mode === 'drift' ? pick(node ? NODE_DRIFT_RATES : DRIFT_RATES) : 1 };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'slow-disk') {
      fault = { kind, target: pick(SLOW_DISK_TARGETS), delayMs: pick(SLOW_DISK_MS) };
      holdMs = randomInt(rand, ...PARTITION_MS);
    } else if (kind === 'storage') {
      const damage = pick(STORAGE_DAMAGE);
      // A cut inside the last record may drop a synced vote or entry: only when the rest of the group kept theirs.
      fault = { kind, damage, crash: damage === 'tear-last' ? 'one' : pick(['all', 'one'] as const), seed: randomInt(rand, 1, 0x7fffffff) };
      holdMs = randomInt(rand, ...KILL_DOWN_MS);
    } else {
      fault = { kind, target: pick(PROCESS_TARGETS) };
      holdMs = randomInt(rand, ...(kind === 'pause' ? PAUSE_MS : KILL_DOWN_MS));
    }
    if (at + holdMs + TAIL_MS > opts.durationMs) break;
    steps.push({ at, fault, holdMs });
    at += holdMs + randomInt(rand, ...GAP_MS);
  }
  return steps;
}

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return f.delayMs > 0 ? `${f.shape} ${f.delayMs}ms` : f.shape;
    case 'links':
      return `${f.shape} ${f.ways === 'one' ? 'one way' : 'both ways'}${f.delayMs > 0 ? ` ${f.delayMs}ms` : ''}`;
    case 'crash':
      return `crash ${f.group}`;
    case 'flap':
      return `flap ${f.target} cut ${f.cutMs}ms open ${f.openMs}ms`;
    case 'reorder':
      return `reorder ${f.target} jitter ${f.jitterMs}ms`;
    case 'bridge':
      return 'bridge';
    case 'duplicate':
      return `duplicate meta frames p=${f.probability}`;
    case 'clock':
      return f.mode === 'skew' ? `clock ${f.target} skew ${f.offsetMs > 0 ? '+' : ''}${f.offsetMs}ms` : `clock ${f.target} drift x${f.rate}`;
    case 'slow-disk':
      return `slow-disk ${f.target} ${f.delayMs}ms`;
    case 'storage':
      return `storage ${f.damage} (crash ${f.crash})`;
    default:
      return `${f.kind} ${f.target}`;
  }
}
