// Plans end to end: join, down, repair, drain, remove, cancellation, failure.

import t from 'tap';
import { placeReplicas } from '../../src/meta/placement.js';
import type { MetaState } from '../../src/meta/types.js';
import { Driver, replicaMap } from './helpers.js';

const nodesOf = (s: MetaState) =>
  Object.values(s.nodes)
    .filter((n) => n.state === 'up' || n.state === 'joining')
    .map((n) => ({ id: n.id, weight: n.capacity }));
const lastPlan = (d: Driver) => d.state.plans[d.state.plans.length - 1]!;

t.test('the first nodes fill the map; a later join moves only what placement assigns to it', async (t) => {
  const d = new Driver().init(64, 3).cluster(['n1', 'n2', 'n3']);
  t.ok(d.state.partitions.every((p) => p.replicas.length === 3 && p.learners.length === 0), 'three nodes, R=3: everyone holds everything');
  const before = replicaMap(d.state);
  const epochs = d.state.partitions.map((p) => p.epoch);
  const version = d.state.version;

  const r = d.join('n4');
  const plan = lastPlan(d);
  t.match(plan, { id: r.planId, reason: 'node-join', node: 'n4', state: 'active', notBefore: d.now });
  const assigned = d.state.partitions.map((_, p) => p).filter((p) => placeReplicas(p, nodesOf(d.state), 3).includes('n4'));
  t.same(plan.moves.map((m) => m.partition), assigned, 'exactly the partitions placement gives n4');
  t.ok(plan.moves.every((m) => m.target === 'n4' && m.source !== null && m.state === 'pending'));
  t.ok(plan.moves.every((m) => d.state.partitions[m.partition]!.learners.includes('n4')), 'targets are learners');
  t.ok(d.state.version > version, 'version bumped');

  d.finish(r.planId!);
  t.equal(lastPlan(d).state, 'done');
  const want = d.state.partitions.map((_, p) => placeReplicas(p, nodesOf(d.state), 3).sort());
  t.same(replicaMap(d.state), want, 'the map is now the placement over four nodes');
  d.state.partitions.forEach((p, i) => {
    const moved = assigned.includes(i);
    t.equal(p.epoch, epochs[i]! + (moved ? 1 : 0), `partition ${i} epoch`);
    if (!moved) t.same(replicaMap(d.state)[i], before[i]);
  });
});

t.test('node down: a repair plan after the grace period, most endangered first', async (t) => {
  const d = new Driver().init(32, 3).cluster(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
  const held = (id: string) => d.state.partitions.map((p, i) => (p.replicas.includes(id) ? i : -1)).filter((i) => i >= 0);
  const heldBy1 = held('n1');

  const down1 = d.ok({ type: 'node-state', nodeId: 'n1', state: 'down' }, 10_000);
  const plan1 = lastPlan(d);
  t.match(plan1, { id: down1.planId, reason: 'node-down', node: 'n1', created: 10_000, notBefore: 11_000 });
  t.same(plan1.moves.map((m) => m.partition).sort((a, b) => a - b), heldBy1, 'one move per partition n1 held');
  for (const m of plan1.moves) {
    t.equal(m.source, 'n1');
    t.notOk(d.state.partitions[m.partition]!.replicas.includes(m.target), 'target is new to the partition');
    t.not(m.target, 'n1');
  }
  t.ok(d.state.partitions.every((p, i) => !heldBy1.includes(i) || p.replicas.includes('n1')), 'the map keeps n1 until the data plane or the move drops it');

  // A second failure: partitions that lost both replicas come first in its plan.
  d.ok({ type: 'node-state', nodeId: 'n2', state: 'down' }, 10_500);
  const plan2 = lastPlan(d);
  const live = (p: number) => d.state.partitions[p]!.replicas.filter((id) => id !== 'n1' && id !== 'n2').length;
  const order = plan2.moves.map((m) => [live(m.partition), m.partition] as const);
  const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  t.same(order, sorted, 'ordered by live replicas, then partition');
  t.ok(order.length > 0 && order[0]![0] === 1, 'a partition down to one live replica leads');

  // Copying waits for the grace period.
  const m = plan1.moves[0]!;
  const early = d.run({ type: 'move-progress', planId: plan1.id, partition: m.partition, target: m.target, bytesDone: 1, bytesTotal: 10 }, { expectReject: true });
  t.match(early, { ok: false, code: 'too-early' });
  d.ok({ type: 'move-progress', planId: plan1.id, partition: m.partition, target: m.target, bytesDone: 4, bytesTotal: 10 }, 11_000);
  t.match(lastPlanById(d, plan1.id).moves[0], { state: 'copying', bytesDone: 4, bytesTotal: 10 });

  const epoch = d.state.partitions[m.partition]!.epoch;
  d.ok({ type: 'move-done', planId: plan1.id, partition: m.partition, target: m.target });
  const part = d.state.partitions[m.partition]!;
  t.equal(part.epoch, epoch + 1, 'promotion bumps the epoch');
  t.ok(part.replicas.includes(m.target) && !part.learners.includes(m.target), 'learner promoted');
  t.notOk(part.replicas.includes('n1'), 'the lost replica left the map');
  t.ok(part.primary !== null && part.primary !== 'n1' && part.replicas.includes(part.primary), 'a live primary');
  t.match(lastPlanById(d, plan1.id).moves[0], { state: 'done', bytesDone: 10 });
  const again = d.run({ type: 'move-done', planId: plan1.id, partition: m.partition, target: m.target }, { expectReject: true });
  t.match(again, { ok: false, code: 'move-finished' });

  d.finish(plan1.id);
  d.finish(plan2.id);
  t.ok(d.state.partitions.every((p) => p.replicas.length === 3 && !p.replicas.includes('n1') && !p.replicas.includes('n2')));
  t.ok(d.state.plans.every((p) => p.state === 'done'));
});

t.test('a node back before its repair copied anything cancels the repair', async (t) => {
  const d = new Driver().init(16, 3).cluster(['n1', 'n2', 'n3', 'n4']);
  const map = replicaMap(d.state);
  const r = d.ok({ type: 'node-state', nodeId: 'n2', state: 'down' });
  t.ok(d.state.partitions.some((p) => p.learners.length > 0));
  d.ok({ type: 'node-state', nodeId: 'n2', state: 'up' });
  t.equal(lastPlanById(d, r.planId!).state, 'cancelled');
  t.ok(d.state.partitions.every((p) => p.learners.length === 0), 'learners withdrawn');
  t.same(replicaMap(d.state), map);
});

t.test('a node back after the primary dropped it: that repair goes on', async (t) => {
  const d = new Driver().init(8, 3).cluster(['n1', 'n2', 'n3', 'n4']);
  const p = d.state.partitions.findIndex((x) => x.replicas.includes('n2') && x.primary !== 'n2');
  const r = d.ok({ type: 'node-state', nodeId: 'n2', state: 'down' });
  d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: d.state.partitions[p]!.epoch, remove: ['n2'] });
  d.ok({ type: 'node-state', nodeId: 'n2', state: 'up' });
  const plan = lastPlanById(d, r.planId!);
  const kept = plan.moves.filter((m) => m.state === 'pending');
  t.same(kept.map((m) => m.partition), [p], 'only the move for the partition that no longer counts n2 survives');
  d.finish(plan.id);
  t.equal(d.state.partitions[p]!.replicas.length, 3);
});

t.test('drain then remove: the node ends up holding nothing', async (t) => {
  const d = new Driver().init(16, 2).cluster(['n1', 'n2', 'n3', 'n4']);
  const r = d.ok({ type: 'node-state', nodeId: 'n3', state: 'draining' });
  const plan = lastPlanById(d, r.planId!);
  t.match(plan, { reason: 'node-remove', node: 'n3', notBefore: d.now });
  t.ok(plan.moves.every((m) => m.source === 'n3' && m.target !== 'n3'));
  d.finish(plan.id);
  t.ok(d.state.partitions.every((p) => !p.replicas.includes('n3') && p.replicas.length === 2));
  d.ok({ type: 'node-state', nodeId: 'n3', state: 'removed' });
  t.equal(d.state.nodes['n3']?.state, 'removed');
});

t.test('removing the only copy needs force; a rebalance re-creates lost partitions', async (t) => {
  const d = new Driver().init(8, 1).cluster(['n1', 'n2']);
  const lost = d.state.partitions.map((p, i) => (p.replicas.includes('n1') ? i : -1)).filter((i) => i >= 0);
  const no = d.run({ type: 'node-state', nodeId: 'n1', state: 'removed' }, { expectReject: true });
  t.match(no, { ok: false, code: 'data-loss', message: /only copy/ });
  d.ok({ type: 'node-state', nodeId: 'n1', state: 'removed', force: true });
  for (const p of lost) t.match(d.state.partitions[p], { primary: null, replicas: [], learners: [] });
  d.ok({ type: 'rebalance' });
  t.ok(d.state.partitions.every((p) => p.replicas.join() === 'n2' && p.primary === 'n2'));
});

t.test('removing a down node when no repair was possible: with no target drops at once', async (t) => {
  const d = new Driver().init(8, 3).cluster(['n1', 'n2', 'n3']);
  const down = d.ok({ type: 'node-state', nodeId: 'n3', state: 'down' });
  t.equal(down.planId, undefined, 'no fourth node: nothing to repair onto');
  t.same(down.unplaced, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.equal(d.state.plans.filter((p) => p.reason === 'node-down').length, 0, 'an empty plan is not recorded');
  const r = d.ok({ type: 'node-state', nodeId: 'n3', state: 'removed' });
  t.same(r.unplaced, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.ok(d.state.partitions.every((p) => p.replicas.length === 2 && !p.replicas.includes('n3')), 'dropped from the map');
});

t.test('join after an under-replicated period fills the gaps', async (t) => {
  const d = new Driver().init(8, 3).cluster(['n1', 'n2', 'n3']);
  d.ok({ type: 'node-state', nodeId: 'n3', state: 'removed' });
  const r = d.join('n4');
  const plan = lastPlanById(d, r.planId!);
  t.equal(plan.moves.length, 8);
  t.ok(plan.moves.every((m) => m.source === null && m.target === 'n4'), 'additions, nothing displaced');
});

t.test('partition-reconfigure', async (t) => {
  const d = new Driver().init(4, 3).cluster(['n1', 'n2', 'n3', 'n4']);
  const p = d.state.partitions.findIndex((x) => x.replicas.length === 3);
  const part = () => d.state.partitions[p]!;
  const [primary, a, b] = [part().primary!, ...part().replicas.filter((x) => x !== part().primary)] as [string, string, string];
  const epoch = part().epoch;
  const stale = d.run({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch - 1, remove: [a] }, { expectReject: true });
  t.match(stale, { ok: false, code: 'stale-epoch' });
  const bad = [
    [{ remove: ['n9'] }, 'conflict'],
    [{ remove: [primary] }, 'conflict'],
    [{ remove: [primary, a, b], primary: a }, 'data-loss'],
    [{ primary: primary }, 'conflict'],
    [{ primary: 'n9' }, 'conflict'],
  ] as const;
  for (const [extra, code] of bad) {
    t.match(d.run({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch, ...extra }, { expectReject: true }), { ok: false, code });
  }
  t.match(d.run({ type: 'partition-reconfigure', partition: 99, expectedEpoch: 0, primary: a }, { expectReject: true }), { ok: false, code: 'invalid' });

  d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch, primary: a });
  t.match(part(), { epoch: epoch + 1, primary: a });
  const r = d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch + 1, remove: [b] });
  t.equal(part().epoch, epoch + 2);
  t.notOk(part().replicas.includes(b));
  const plan = lastPlanById(d, r.planId!);
  t.equal(plan.moves.length, 1, 'the dropped replica is replaced');
  t.match(plan.moves[0], { source: null, target: b }, 'the dropped node is still up and placement still wants it: it catches up as a learner');
  t.equal(plan.notBefore, d.now, 'its own catch-up need not wait');
  d.finish(plan.id);
  t.ok(part().replicas.includes(b) && part().replicas.length === 3);
  t.same(d.run({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch + 1, primary: b }, { expectReject: true }).ok, false, 'an old epoch is refused');
});

t.test('failures: a move fails, a target dies, a plan is cancelled', async (t) => {
  const d = new Driver().init(16, 2).cluster(['n1', 'n2', 'n3']);
  const r = d.join('n4');
  const plan = lastPlanById(d, r.planId!);
  const [m0, m1] = plan.moves as [(typeof plan.moves)[0], (typeof plan.moves)[0]];
  d.ok({ type: 'move-failed', planId: plan.id, partition: m0.partition, target: m0.target, reason: 'disk full' });
  t.equal(plan.moves[0]!.state, 'pending', 'old state objects are never mutated');
  t.equal(lastPlanById(d, plan.id).moves[0]!.state, 'failed');
  t.notOk(d.state.partitions[m0.partition]!.learners.includes('n4'));
  t.match(d.run({ type: 'move-done', planId: plan.id, partition: m0.partition, target: 'n4' }, { expectReject: true }), { code: 'move-finished' });
  t.match(d.run({ type: 'move-done', planId: 'plan-999', partition: 0, target: 'n4' }, { expectReject: true }), { code: 'unknown-plan' });
  t.match(d.run({ type: 'move-done', planId: plan.id, partition: m1.partition, target: 'n3' }, { expectReject: true }), { code: 'unknown-move' });

  // The target dies: its moves fail; they only rebalanced healthy replicas, so nothing is re-aimed.
  const down = d.ok({ type: 'node-state', nodeId: 'n4', state: 'down' });
  t.equal(down.planId, undefined);
  t.ok(lastPlanById(d, plan.id).moves.every((m) => m.state === 'failed'));
  t.equal(lastPlanById(d, plan.id).state, 'done');
  t.ok(d.state.partitions.every((p) => !p.learners.includes('n4')));

  const r2 = d.ok({ type: 'rebalance' });
  t.equal(r2.planId, undefined, 'nothing to rebalance onto while n4 is down');
  d.ok({ type: 'node-state', nodeId: 'n4', state: 'up' });
  const r3 = d.ok({ type: 'rebalance' });
  const rb = lastPlanById(d, r3.planId!);
  t.match(rb, { reason: 'rebalance', node: null });
  t.ok(rb.moves.every((m) => m.target === 'n4'), 'the rebalance retries what n4 should hold');
  d.ok({ type: 'plan-cancel', planId: rb.id });
  t.equal(lastPlanById(d, rb.id).state, 'cancelled');
  t.ok(d.state.partitions.every((p) => p.learners.length === 0));
  t.match(d.run({ type: 'plan-cancel', planId: rb.id }, { expectReject: true }), { code: 'move-finished' });
});

t.test('a repair whose target dies is re-aimed at another node', async (t) => {
  const d = new Driver().init(16, 3).cluster(['n1', 'n2', 'n3', 'n4', 'n5']);
  const r = d.ok({ type: 'node-state', nodeId: 'n1', state: 'down' });
  const repair = lastPlanById(d, r.planId!);
  const victim = repair.moves[0]!.target;
  const aimedAtVictim = repair.moves.filter((m) => m.target === victim).map((m) => m.partition);
  const r2 = d.ok({ type: 'node-state', nodeId: victim, state: 'down' });
  const second = lastPlanById(d, r2.planId!);
  for (const p of aimedAtVictim) {
    const again = second.moves.find((m) => m.partition === p && m.source === 'n1');
    t.ok(again !== undefined && again.target !== victim && again.target !== 'n1', `partition ${p}: n1's copy re-aimed`);
  }
  d.finish(repair.id);
  d.finish(second.id);
  t.ok(d.state.partitions.every((p) => p.replicas.length === 3 && !p.replicas.includes('n1') && !p.replicas.includes(victim)));
});

t.test('zones: repairs keep replicas in distinct zones', async (t) => {
  const zone = (id: string) => ({ zone: `z${Number(id.slice(1)) % 3}` });
  const d = new Driver().init(32, 3).cluster(['n0', 'n1', 'n2', 'n3', 'n4', 'n5'], zone);
  const zoneOf = (id: string) => d.state.nodes[id]!.zone;
  const distinct = () => d.state.partitions.every((p) => new Set(p.replicas.map(zoneOf)).size === p.replicas.length);
  t.ok(distinct());
  const r = d.ok({ type: 'node-state', nodeId: 'n4', state: 'down' });
  d.finish(r.planId!);
  t.ok(distinct(), 'after repair, still one replica per zone');
});

function lastPlanById(d: Driver, id: string) {
  const plan = d.state.plans.find((p) => p.id === id);
  if (plan === undefined) throw new Error(`no plan ${id}`);
  return plan;
}

t.test('a node that comes back restores partitions left below R with nowhere else to go', async (t) => {
  // Three nodes, R = 3: when n2 is dropped from in-sync sets and then goes down, no other
  // node can take its copies; when it is up again, a node-up plan copies them back to it.
  const d = new Driver().init(8, 3).cluster(['n1', 'n2', 'n3']);
  const dropped = [0, 3, 5];
  for (const p of dropped) {
    const r = d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: d.state.partitions[p]!.epoch, remove: ['n2'] });
    if (r.planId !== undefined) {
      const plan = d.state.plans.find((x) => x.id === r.planId)!;
      t.ok(plan.moves.every((m) => m.target === 'n2'), `partition ${p}: the only candidate is n2 itself, catching up`);
    }
  }
  d.ok({ type: 'node-state', nodeId: 'n2', state: 'down' }, 10_000);
  t.ok(dropped.every((p) => d.state.partitions[p]!.replicas.length === 2 && d.state.partitions[p]!.learners.length === 0), 'below R, nothing arriving');
  t.equal(d.state.plans.filter((p) => p.state === 'active').length, 0, 'no plan can run while n2 is down');

  const up = d.ok({ type: 'node-state', nodeId: 'n2', state: 'up' }, 20_000);
  const plan = d.state.plans.find((p) => p.id === up.planId);
  t.match(plan, { reason: 'node-up', node: 'n2', state: 'active', notBefore: 20_000 });
  t.same(plan!.moves.map((m) => m.partition), dropped, 'exactly the partitions below R');
  t.ok(plan!.moves.every((m) => m.target === 'n2' && m.source === null));
  d.finish(up.planId!);
  t.ok(d.state.partitions.every((p) => p.replicas.length === 3), 'every partition is back to R');

  const again = d.ok({ type: 'node-state', nodeId: 'n1', state: 'suspect' }, 30_000);
  t.equal(again.planId, undefined);
  t.equal(d.ok({ type: 'node-state', nodeId: 'n1', state: 'up' }, 31_000).planId, undefined, 'nothing below R: no plan');
});

t.test('a failed repair move is planned again after a delay while its partition is below R', async (t) => {
  const d = new Driver().init(8, 3).cluster(['n1', 'n2', 'n3', 'n4']);
  const down = d.ok({ type: 'node-state', nodeId: 'n1', state: 'down' }, 10_000);
  const plan = lastPlanById(d, down.planId!);
  const m = plan.moves[0]!;
  d.now = plan.notBefore;
  const before = d.state.plans.length;
  d.ok({ type: 'move-failed', planId: plan.id, partition: m.partition, target: m.target, reason: 'copy failed five times' }, 20_000);
  t.equal(d.state.plans.length, before + 1, 'one retry plan');
  const retry = d.state.plans[d.state.plans.length - 1]!;
  t.match(retry, { reason: 'node-down', node: 'n1', state: 'active', created: 20_000, notBefore: 30_000 });
  t.same(retry.moves.map((x) => [x.partition, x.source]), [[m.partition, 'n1']], 'the same partition, still replacing n1');
  t.ok(d.state.partitions[m.partition]!.learners.includes(retry.moves[0]!.target), 'its target is a learner again');
  t.match(d.run({ type: 'move-progress', planId: retry.id, partition: m.partition, target: retry.moves[0]!.target, bytesDone: 1, bytesTotal: 2 }, { expectReject: true, at: 25_000 }), { code: 'too-early' });

  // A move of a partition that is whole again (a rebalance swap) is not retried.
  const join = d.join('n5');
  if (join.planId !== undefined) {
    const swap = lastPlanById(d, join.planId).moves[0]!;
    const count = d.state.plans.length;
    d.ok({ type: 'move-failed', planId: join.planId, partition: swap.partition, target: swap.target });
    t.equal(d.state.plans.length, count, 'no retry for a partition that has R replicas');
  }
});
