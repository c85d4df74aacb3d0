// Placement: which partition a key lives in, and which nodes hold a partition.
//
// Both functions decide where data lives on disk, so their definitions are frozen:
// changing a byte of either silently relocates every key. The hash is SHA-256 from
// node:crypto (no I/O, identical on every platform and Node version, and needs no
// hand-written 64-bit arithmetic), with a domain prefix per use so the two hashes can
// never correlate:
//
//   partitionOf(key, P)   = uint64_be(sha256("space-opera/key/v1\0" ‖ utf8(key))[0..8]) mod P
//   u(partition, node)    = (uint52_be(sha256("space-opera/hrw/v1\0" ‖ dec(partition) ‖ "\0" ‖ utf8(node.id))[0..7]) + 0.5) / 2^52
//   score(partition,node) = -node.weight / ln(u)          (weighted rendezvous, logarithmic method)
//
// u lies strictly inside (0, 1): 52 bits plus one half keep it away from both ends
// even after rounding to a double, so ln(u) is finite and negative and every score is
// a finite positive number. Ties (astronomically unlikely) break on the node id.

import { createHash } from 'node:crypto';

export interface PlacementNode {
  readonly id: string;
  /** Relative capacity; a node with twice the weight gets about twice the replicas. */
  readonly weight: number;
  /** Failure domain. Nodes without a zone share one unnamed zone. */
  readonly zone?: string | undefined;
}

/** One replica changing hands. `source: null` adds a replica; `target: null` drops one. */
export interface ReplicaMove {
  readonly partition: number;
  readonly source: string | null;
  readonly target: string | null;
}

const KEY_DOMAIN = 'space-opera/key/v1\0';
const HRW_DOMAIN = 'space-opera/hrw/v1\0';
const TWO_POW_20 = 2 ** 20;
const TWO_POW_52 = 2 ** 52;

/** The partition a key belongs to, in [0, partitions). */
export function partitionOf(key: string, partitions: number): number {
  if (typeof key !== 'string') throw new TypeError('partitionOf: key must be a string');
  assertPartitionCount(partitions);
  const digest = createHash('sha256').update(KEY_DOMAIN + key, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(partitions));
}

/** The HRW score of a node for a partition: higher wins. */
export function hrwScore(partition: number, node: PlacementNode): number {
  const digest = createHash('sha256').update(`${HRW_DOMAIN}${partition}\0${node.id}`, 'utf8').digest();
  const bits52 = digest.readUInt32BE(0) * TWO_POW_20 + (digest.readUInt32BE(4) >>> 12);
  const u = (bits52 + 0.5) / TWO_POW_52;
  return -node.weight / Math.log(u);
}

/** Every node, best first, for this partition (score descending, then id ascending). */
export function rankNodes(partition: number, nodes: readonly PlacementNode[]): PlacementNode[] {
  assertPartition(partition);
  assertNodes(nodes);
  return rank(partition, nodes);
}

/**
 * The R nodes that should hold a partition, best first; the first is the preferred
 * primary. When nodes span several zones, the best node of each zone is taken first
 * (so R replicas land in R distinct zones whenever there are at least R zones), then
 * the remaining slots are filled by score. Fewer than R nodes: all of them.
 */
export function placeReplicas(partition: number, nodes: readonly PlacementNode[], r: number): string[] {
  assertPartition(partition);
  assertNodes(nodes);
  assertReplication(r);
  const ranked = rank(partition, nodes);
  if (ranked.length <= r) return ranked.map((n) => n.id);

  const chosen = new Set<string>();
  const zonesSeen = new Set<string>();
  for (const node of ranked) {
    if (chosen.size === r) break;
    const zone = node.zone ?? '';
    if (zonesSeen.has(zone)) continue;
    zonesSeen.add(zone);
    chosen.add(node.id);
  }
  for (const node of ranked) {
    if (chosen.size === r) break;
    chosen.add(node.id);
  }
  return ranked.filter((n) => chosen.has(n.id)).map((n) => n.id);
}

/**
 * The moves that turn `before` (before[p] = the nodes holding partition p) into the
 * placement over `after`. Per partition, nodes leaving the set are paired with nodes
 * entering it (best-ranked target first; departed nodes, then the worst-ranked, give
 * way first); unpaired targets are additions, unpaired sources are drops. Only the
 * partitions whose top-R set changed appear, and each appears with the fewest moves.
 */
export function planMoves(
  before: readonly (readonly string[])[],
  after: readonly PlacementNode[],
  r: number,
): ReplicaMove[] {
  if (!Array.isArray(before)) throw new TypeError('planMoves: before must be an array indexed by partition');
  assertNodes(after);
  assertReplication(r);
  const moves: ReplicaMove[] = [];
  before.forEach((current, partition) => {
    if (!Array.isArray(current)) throw new TypeError(`planMoves: before[${partition}] must be an array of node ids`);
    if (new Set(current).size !== current.length) {
      throw new Error(`planMoves: partition ${partition} lists a node twice: ${current.join(', ')}`);
    }
    const desired = placeReplicas(partition, after, r);
    const targets = desired.filter((id) => !current.includes(id));
    const leaving = current.filter((id) => !desired.includes(id));
    const sources = orderSources(partition, leaving, after);
    const n = Math.max(targets.length, sources.length);
    for (let i = 0; i < n; i++) {
      moves.push({ partition, source: sources[i] ?? null, target: targets[i] ?? null });
    }
  });
  return moves;
}

/** Departed nodes first (in their listed order), then present ones worst score first. */
function orderSources(partition: number, leaving: readonly string[], after: readonly PlacementNode[]): string[] {
  const present = new Map(after.map((n) => [n.id, n]));
  const gone = leaving.filter((id) => !present.has(id));
  const stay = leaving.filter((id) => present.has(id)).map((id) => present.get(id) as PlacementNode);
  return [...gone, ...rank(partition, stay).reverse().map((n) => n.id)];
}

function rank(partition: number, nodes: readonly PlacementNode[]): PlacementNode[] {
  return nodes
    .map((node) => ({ node, score: hrwScore(partition, node) }))
    .sort((a, b) => b.score - a.score || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0))
    .map((s) => s.node);
}

function assertPartitionCount(partitions: number): void {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${String(partitions)}`);
  }
}

function assertPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new RangeError(`partition must be a non-negative integer, got ${String(partition)}`);
  }
}

function assertReplication(r: number): void {
  if (!Number.isSafeInteger(r) || r < 1) {
    throw new RangeError(`replication factor must be a positive integer, got ${String(r)}`);
  }
}

function assertNodes(nodes: readonly PlacementNode[]): void {
  if (!Array.isArray(nodes)) throw new TypeError('nodes must be an array');
  const seen = new Set<string>();
  for (const node of nodes) {
    if (node === null || typeof node !== 'object') throw new TypeError('each node must be an object');
    if (typeof node.id !== 'string' || node.id.length === 0) throw new TypeError('node id must be a non-empty string');
    if (seen.has(node.id)) throw new Error(`node ${node.id} is listed twice`);
    seen.add(node.id);
    if (typeof node.weight !== 'number' || !Number.isFinite(node.weight) || node.weight <= 0) {
      throw new RangeError(`node ${node.id}: weight must be a finite number > 0, got ${String(node.weight)}`);
    }
    if (node.zone !== undefined && (typeof node.zone !== 'string' || node.zone.length === 0)) {
      throw new TypeError(`node ${node.id}: zone must be a non-empty string when given`);
    }
  }
}
