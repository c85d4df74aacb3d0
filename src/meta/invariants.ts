// Invariants of the meta state, checked after every applied command. A break is a bug
// in this package (or a corrupt snapshot) and throws InvariantViolation.

import type { MetaState } from './types.js';
import { NODE_STATES } from './types.js';
import { invariant } from './errors.js';
import { findNode, isUnfinished } from './view.js';
import { checkCounterTransition, checkCounters } from './counters.js';

export function checkInvariants(state: MetaState): void {
  const s = state.settings;
  invariant(Number.isSafeInteger(state.version) && state.version >= 0, 'version must be a non-negative integer');
  checkCounters(state);
  if (s === null) {
    invariant(state.partitions.length === 0, 'an uninitialized cluster has no partitions');
    invariant(Object.keys(state.nodes).length === 0 && state.plans.length === 0, 'an uninitialized cluster has no nodes or plans');
    return;
  }
  invariant(state.partitions.length === s.partitions, `expected ${s.partitions} partitions, found ${state.partitions.length}`);
  invariant(s.minInsync >= 1 && s.minInsync <= s.replication, `minInsync ${s.minInsync} outside [1, ${s.replication}]`);

  for (const [id, node] of Object.entries(state.nodes)) {
    invariant(node.id === id, `node record ${id} carries id ${node.id}`);
    invariant(NODE_STATES.includes(node.state), `node ${id} has unknown state ${String(node.state)}`);
    invariant(node.capacity > 0 && Number.isFinite(node.capacity), `node ${id} has capacity ${node.capacity}`);
  }

  // Each learner is the target of exactly one unfinished move; each unfinished move's target is a learner.
  const arriving = new Map<string, number>();
  const leaving = new Set<string>();
  for (const plan of state.plans) {
    const open = plan.moves.filter(isUnfinished);
    invariant((plan.state === 'active') === (open.length > 0), `plan ${plan.id} is ${plan.state} with ${open.length} unfinished moves`);
    for (const m of plan.moves) {
      invariant(m.source !== m.target, `plan ${plan.id}: a move of partition ${m.partition} from ${m.target} to itself`);
      invariant(m.bytesDone >= 0 && m.bytesDone <= m.bytesTotal, `plan ${plan.id}: bytes ${m.bytesDone}/${m.bytesTotal}`);
      invariant(m.partition >= 0 && m.partition < s.partitions, `plan ${plan.id}: partition ${m.partition} out of range`);
    }
    for (const m of open) {
      const key = `${m.partition}/${m.target}`;
      arriving.set(key, (arriving.get(key) ?? 0) + 1);
      if (m.source !== null) leaving.add(`${m.partition}/${m.source}`);
    }
  }
  for (const [key, count] of arriving) invariant(count === 1, `${count} unfinished moves bring ${key}`);

  state.partitions.forEach((p, partition) => {
    const where = `partition ${partition}`;
    invariant(Number.isSafeInteger(p.epoch) && p.epoch >= 0, `${where}: epoch ${p.epoch}`);
    invariant(new Set(p.replicas).size === p.replicas.length, `${where}: replicas repeat: ${p.replicas.join(',')}`);
    invariant(new Set(p.learners).size === p.learners.length, `${where}: learners repeat: ${p.learners.join(',')}`);
    invariant(p.replicas.length <= s.replication, `${where}: ${p.replicas.length} replicas exceed R = ${s.replication}`);
    invariant(p.learners.every((id) => !p.replicas.includes(id)), `${where}: a node is both replica and learner`);
    invariant((p.primary === null) === (p.replicas.length === 0), `${where}: primary ${p.primary} with ${p.replicas.length} replicas`);
    invariant(p.primary === null || p.replicas.includes(p.primary), `${where}: primary ${p.primary} is not a replica`);
    if (p.handover !== undefined) {
      invariant(p.handover.epoch === p.epoch, `${where}: handover of epoch ${p.handover.epoch} kept at epoch ${p.epoch}`);
      invariant(p.handover.from !== p.primary, `${where}: ${p.handover.from} handed the partition over to itself`);
    }
    for (const id of [...p.replicas, ...p.learners]) {
      const node = findNode(state, id);
      invariant(node !== undefined, `${where}: unknown node ${id}`);
      if (node.state === 'removed') {
        invariant(p.replicas.includes(id) && leaving.has(`${partition}/${id}`), `${where}: removed node ${id} holds a replica no move is replacing`);
      }
    }
    for (const id of p.learners) {
      invariant(arriving.get(`${partition}/${id}`) === 1, `${where}: learner ${id} has no unfinished move`);
      const st = findNode(state, id)?.state;
      invariant(st === 'joining' || st === 'up' || st === 'suspect', `${where}: learner ${id} is ${st}`);
    }
  });
  for (const key of arriving.keys()) {
    const [partition, target] = splitKey(key);
    invariant(state.partitions[partition]?.learners.includes(target) === true, `unfinished move ${key} has no learner`);
  }
}

/** What may never go backwards from one state to the next. */
export function checkTransition(before: MetaState, after: MetaState): void {
  invariant(after.version >= before.version, `version went back from ${before.version} to ${after.version}`);
  invariant(after.clock >= before.clock, `clock went back from ${before.clock} to ${after.clock}`);
  invariant(after.nextPlan >= before.nextPlan, 'plan sequence went back');
  if (before.settings !== null) {
    invariant(after.settings !== null, 'settings disappeared');
    invariant(
      after.settings.clusterId === before.settings.clusterId &&
        after.settings.partitions === before.settings.partitions &&
        after.settings.replication === before.settings.replication,
      'cluster id, partition count and replication are fixed at bootstrap',
    );
  }
  before.partitions.forEach((p, i) => {
    const next = after.partitions[i];
    invariant(next !== undefined, `partition ${i} disappeared`);
    invariant(next.epoch >= p.epoch, `partition ${i}: epoch went back from ${p.epoch} to ${next.epoch}`);
    const changed = next.primary !== p.primary || next.replicas.join() !== p.replicas.join();
    invariant(!changed || next.epoch > p.epoch, `partition ${i}: in-sync set or primary changed without a new epoch`);
  });
  for (const id of Object.keys(before.nodes)) invariant(Object.hasOwn(after.nodes, id), `node ${id} disappeared`);
  checkCounterTransition(before, after);
}

function splitKey(key: string): [number, string] {
  const slash = key.indexOf('/');
  return [Number(key.slice(0, slash)), key.slice(slash + 1)];
}
