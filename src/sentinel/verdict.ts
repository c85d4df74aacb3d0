// What a sentinel asks meta to do about one node: a pure function of meta's state of
// the node, this sentinel's own view, and what every live sentinel currently reports.
//
// It follows meta's transition rules (docs/meta-state.md) instead of fighting them:
// - down: only when this sentinel sees the node down AND at least `quorum` sentinels
//   do. Any state but removed may go down (a failing draining node goes down).
// - suspect: only an `up` node, and only when a quorum sees it suspect or down (one
//   sentinel cut off from a node must not flip it back and forth against the others).
//   Draining nodes are never made suspect (meta refuses it: it would end the drain),
//   nor are joining nodes (their first heartbeat is what makes them up).
// - up: a suspect or down node that this sentinel sees up, while fewer than a quorum
//   see it suspect or down. Draining and joining nodes are left alone: `up` would end
//   a drain, and a joining node becomes up by its own heartbeat.

import type { NodeState } from '../meta/types.js';
import type { NodeHealth, SentinelObservation } from '../gateway/live-store/index.js';

export interface VerdictInput {
  /** The node's state in meta. */
  readonly meta: NodeState;
  /** This sentinel's view of the node. */
  readonly local: NodeHealth;
  /** The live observations of every sentinel (this one's included). */
  readonly observations: readonly Pick<SentinelObservation, 'sentinelId' | 'state'>[];
  readonly quorum: number;
}

export interface Verdict {
  readonly state: 'up' | 'suspect' | 'down';
  readonly reason: string;
}

export interface Votes {
  /** Sentinels that see the node down. */
  readonly down: number;
  /** Sentinels that see it suspect or down. */
  readonly failing: number;
}

/** One vote per sentinel: a store lists each sentinel once, but be strict anyway. */
export function countVotes(observations: VerdictInput['observations']): Votes {
  const latest = new Map<string, NodeHealth>();
  for (const o of observations) latest.set(o.sentinelId, o.state);
  let down = 0;
  let failing = 0;
  for (const state of latest.values()) {
    if (state === 'down') down++;
    if (state !== 'up') failing++;
  }
  return { down, failing };
}

const MAY_GO_DOWN: ReadonlySet<NodeState> = new Set(['joining', 'up', 'suspect', 'draining']);

export function verdict(input: VerdictInput): Verdict | null {
  const { meta, local, quorum } = input;
  if (!Number.isSafeInteger(quorum) || quorum < 1) throw new RangeError(`quorum must be a positive integer, got ${quorum}`);
  const votes = countVotes(input.observations);
  const seen = `${votes.down} of quorum ${quorum} see it down, ${votes.failing} failing`;
  if (local === 'down' && MAY_GO_DOWN.has(meta) && votes.down >= quorum) {
    return { state: 'down', reason: `confirmed down: ${seen}` };
  }
  if (local !== 'up' && meta === 'up' && votes.failing >= quorum) {
    return { state: 'suspect', reason: `suspected: ${seen}` };
  }
  if (local === 'up' && (meta === 'suspect' || meta === 'down') && votes.failing < quorum) {
    return { state: 'up', reason: `answering again: ${seen}` };
  }
  return null;
}
