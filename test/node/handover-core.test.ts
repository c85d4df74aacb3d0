// The pure side of a graceful handover: the core's gating (writes refused from the start,
// no lease once released, never back), when the lease may be given up, whom to hand to
// (placement's preferred replica for balance; the most caught-up one for a drain), and a
// successor's replicas not waiting for promises made to a primary that released its lease.
// Ends with seeded random schedules checking that a released core never serves again.
import t from 'tap';
import type { NodeRecord, PartitionRecord } from '../../src/meta/types.js';
import { placeReplicas } from '../../src/meta/placement.js';
import { balanceTarget, drainSuccessor, handoverReadiness, placementOf, preferredPrimary } from '../../src/node/replication/handover-core.js';
import { ReplicationInvariantError } from '../../src/node/replication/invariant.js';
import { PrimaryCore } from '../../src/node/replication/primary-core.js';
import { ReplicaLeases } from '../../src/node/replication/replica-core.js';
import type { ReplicationTiming } from '../../src/node/replication/timing.js';
import { prng, seedFor } from './store/helpers.js';

const timing: ReplicationTiming = { leaseMs: 1000, graceMs: 250, timeoutMs: 750, beaconMs: 250 };

function activeCore(self = 'a', members = ['b', 'c'], localSeq = 10): PrimaryCore {
  const c = new PrimaryCore({ partition: 3, epoch: 5, self, members, minInsync: 2, localSeq, now: 0, timing, notBefore: 0 });
  for (const id of members) c.onFenced(id, { lastSeq: localSeq, promiseMs: 0 }, 0);
  for (const id of members) c.onBeaconAck(id, 5, 5);
  c.tick(10);
  return c;
}

function node(id: string, state: NodeRecord['state'] = 'up'): NodeRecord {
  return { id, url: `http://${id}`, publicKey: 'k', zone: null, capacity: 100, state, since: 0, lastHeartbeat: 0 };
}

function table(ids: string[]): Record<string, NodeRecord> {
  return Object.fromEntries(ids.map((id) => [id, node(id)]));
}

t.test('a handover refuses writes at once, keeps the lease until released, and never comes back', async (t) => {
  const c = activeCore();
  t.ok(c.leaseValid(100));
  c.beginHandover('b');
  t.equal(c.writeRefusal()?.code, 'handing-over');
  t.ok(c.leaseValid(100), 'reads go on under the lease while writes settle');
  c.cancelHandover();
  t.equal(c.writeRefusal(), null, 'a cancelled handover gives writes back');
  c.beginHandover('b');
  c.releaseLease('b');
  t.ok(c.leaseReleased);
  t.notOk(c.leaseValid(100), 'no lease once released');
  c.onBeaconAck('b', 200, 200);
  c.onBeaconAck('c', 200, 200);
  t.notOk(c.leaseValid(210), 'beacon acknowledgements do not bring it back');
  t.equal(c.writeRefusal()?.code, 'handing-over');
  t.throws(() => c.cancelHandover(), ReplicationInvariantError, 'a released lease cannot be taken back');
  t.throws(() => c.beginHandover('c'), ReplicationInvariantError, 'one handover at a time');
});

t.test('handover preconditions are asserted', async (t) => {
  const activating = new PrimaryCore({ partition: 3, epoch: 5, self: 'a', members: ['b'], minInsync: 1, localSeq: 0, now: 0, timing, notBefore: 0 });
  t.throws(() => activating.beginHandover('b'), ReplicationInvariantError, 'not while activating');
  const c = activeCore();
  t.throws(() => c.beginHandover('z'), ReplicationInvariantError, 'only to an in-sync replica');
  t.throws(() => c.releaseLease('b'), ReplicationInvariantError, 'no release without a handover');
  c.onLocalCommit(11, 20);
  c.beginHandover('b');
  t.throws(() => c.releaseLease('b'), ReplicationInvariantError, 'no release while a write is not on every replica');
});

t.test('readiness: no write streaming, every write everywhere, successor healthy', async (t) => {
  const c = activeCore();
  c.onLocalCommit(11, 20);
  c.beginHandover('b');
  t.match(handoverReadiness(c, 'b', 1), { kind: 'wait', reason: /streaming/ });
  t.match(handoverReadiness(c, 'b', 0), { kind: 'wait', reason: /11\.\.11/ });
  c.onAck('b', 11, 30);
  t.match(handoverReadiness(c, 'b', 0), { kind: 'wait' }, 'c still lacks 11');
  c.onAck('c', 11, 30);
  t.same(handoverReadiness(c, 'b', 0), { kind: 'ready' });
  t.match(handoverReadiness(c, 'c', 0), { kind: 'abort' }, 'not the successor under way');
  c.fail('b', 'test');
  t.match(handoverReadiness(c, 'b', 0), { kind: 'abort', reason: /failed/ });
  const s = activeCore();
  s.beginHandover('b');
  s.markStale();
  t.match(handoverReadiness(s, 'b', 0), { kind: 'abort', reason: /stale/ });
});

t.test('balance goes to the placement\'s preferred replica once it is in sync and caught up', async (t) => {
  const ids = ['a', 'b', 'c'];
  const nodes = table(ids);
  // A partition whose preferred primary is not a.
  let partition = 0;
  while (preferredPrimary(partition, nodes, 3) === 'a') partition++;
  const preferred = preferredPrimary(partition, nodes, 3)!;
  t.equal(preferred, placeReplicas(partition, placementOf(nodes), 3)[0]);
  const members = ids.filter((id) => id !== 'a');
  const c = new PrimaryCore({ partition, epoch: 5, self: 'a', members, minInsync: 2, localSeq: 10, now: 0, timing, notBefore: 0 });
  const record: PartitionRecord = { epoch: 5, primary: 'a', replicas: ids, learners: [] };
  const input = { partition, record, nodes, replication: 3, self: 'a', core: c, activeForMs: 5000, settleMs: 1000 };
  t.equal(balanceTarget(input), null, 'not while activating');
  for (const id of members) c.onFenced(id, { lastSeq: id === preferred ? 9 : 10, promiseMs: 0 }, 0);
  c.tick(10);
  t.equal(c.phase, 'active');
  t.equal(balanceTarget(input), null, 'the preferred replica lacks sequence 10');
  c.onAck(preferred, 10, 20);
  t.equal(balanceTarget(input), preferred);
  t.equal(balanceTarget({ ...input, activeForMs: 10 }), null, 'a fresh primary settles first');
  t.equal(balanceTarget({ ...input, record: { ...record, learners: ['d'] } }), null, 'not while a learner copies from us');
  t.equal(balanceTarget({ ...input, record: { ...record, epoch: 6 } }), null, 'not for another epoch');
  t.equal(balanceTarget({ ...input, nodes: { ...nodes, [preferred]: node(preferred, 'suspect') } }), null, 'only to an up node');
  t.equal(balanceTarget({ ...input, record: { ...record, replicas: ['a', members.find((m) => m !== preferred)!] } }), null, 'only to an in-sync replica');
  c.beginHandover(preferred);
  t.equal(balanceTarget(input), null, 'one handover at a time');

  // The preferred primary leads already: nothing to do.
  const own = new PrimaryCore({ partition, epoch: 5, self: preferred, members: ids.filter((id) => id !== preferred), minInsync: 2, localSeq: 0, now: 0, timing, notBefore: 0 });
  for (const id of own.members) own.onFenced(id, { lastSeq: 0, promiseMs: 0 }, 0);
  own.tick(1);
  t.equal(balanceTarget({ ...input, self: preferred, core: own, record: { ...record, primary: preferred } }), null);
});

t.test('spread: with 3 nodes and 12 partitions every node is preferred for some', async (t) => {
  const nodes = table(['n1', 'n2', 'n3']);
  const counts = new Map<string, number>();
  for (let p = 0; p < 12; p++) {
    const id = preferredPrimary(p, nodes, 3)!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  t.equal(counts.size, 3, `preferred primaries: ${JSON.stringify([...counts])}`);
});

t.test('drain successor: the most caught-up healthy replica, then placement order', async (t) => {
  const nodes = table(['a', 'b', 'c', 'd']);
  const c = new PrimaryCore({ partition: 1, epoch: 5, self: 'a', members: ['b', 'c', 'd'], minInsync: 2, localSeq: 10, now: 0, timing, notBefore: 0 });
  c.onFenced('b', { lastSeq: 8, promiseMs: 0 }, 0);
  c.onFenced('c', { lastSeq: 10, promiseMs: 0 }, 0);
  t.equal(drainSuccessor(1, nodes, 3, c), 'c', 'd is not fenced; c holds more than b');
  c.onFenced('d', { lastSeq: 10, promiseMs: 0 }, 0);
  const order = placeReplicas(1, placementOf(nodes), 4).filter((id) => id === 'c' || id === 'd');
  t.equal(drainSuccessor(1, nodes, 3, c), order[0], 'a tie goes by placement order');
  t.equal(drainSuccessor(1, { ...nodes, c: node('c', 'suspect'), d: node('d', 'down') }, 3, c), 'b', 'only up nodes');
  const solo = new PrimaryCore({ partition: 1, epoch: 5, self: 'a', members: [], minInsync: 1, localSeq: 0, now: 0, timing, notBefore: 0 });
  t.equal(drainSuccessor(1, nodes, 3, solo), null, 'a single replica has no one to hand to');
});

t.test('a promise to a primary that released its lease does not hold up its successor', async (t) => {
  const leases = new ReplicaLeases('c', timing, -10_000);
  leases.observe(3, 5, 'a', 0);
  t.equal(leases.onBeacon(3, 5, 'a', 100), 'ok');
  t.equal(leases.promiseRemaining(3, 'b', 200), 1150, 'a takeover waits for the promise to a');
  t.equal(leases.promiseRemaining(3, 'b', 200, 'a'), 0, 'unless a released its lease');
  t.equal(leases.promiseRemaining(3, 'b', 200, 'x'), 1150, 'a release by someone else changes nothing');
  const fresh = new ReplicaLeases('c', timing, 150);
  t.equal(fresh.promiseRemaining(3, 'b', 200, 'a'), 1200, 'the restart guard still counts');
});

t.test('random schedules: a released core never serves nor writes again', async (t) => {
  const seed = seedFor(t);
  const rand = prng(seed);
  for (let run = 0; run < 200; run++) {
    const c = activeCore('a', ['b', 'c'], 0);
    let now = 10;
    let seq = 0;
    let released = false;
    for (let step = 0; step < 60; step++) {
      now += Math.floor(rand() * 50);
      const r = rand();
      if (r < 0.25 && c.writeRefusal() === null) c.onLocalCommit(++seq, now);
      else if (r < 0.5) {
        const id = rand() < 0.5 ? 'b' : 'c';
        c.onAck(id, Math.max(c.ackedSeq(id), Math.min(seq, c.ackedSeq(id) + Math.floor(rand() * 3))), now);
      } else if (r < 0.7) for (const id of ['b', 'c']) c.onBeaconAck(id, now, now);
      else if (r < 0.8 && c.handingOverTo === null && c.phase === 'active' && c.fencedMembers().includes('b')) c.beginHandover('b');
      else if (r < 0.9 && c.handingOverTo !== null && !c.leaseReleased) {
        if (handoverReadiness(c, 'b', 0).kind === 'ready') {
          c.releaseLease('b');
          released = true;
        } else if (rand() < 0.3) c.cancelHandover();
      } else c.tick(now);
      if (released) {
        t.notOk(c.leaseValid(now), `seed ${seed} run ${run}: no lease after the release`);
        t.not(c.writeRefusal(), null, `seed ${seed} run ${run}: no write after the release`);
        t.equal(c.committedSeq(), c.localSeq, `seed ${seed} run ${run}: everything was on every replica at the release`);
      }
    }
  }
});
