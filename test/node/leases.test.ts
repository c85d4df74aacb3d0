// The replica side of leases (promises, campaigns), the choice of a new primary, the
// commit waiters and the repair throttle: all pure, driven with explicit times.
import t from 'tap';
import { ReplicaLeases } from '../../src/node/replication/replica-core.js';
import { chooseCandidate } from '../../src/node/replication/candidate.js';
import { CommitWaiters, WriteUnconfirmedError } from '../../src/node/replication/commit-waiters.js';
import { ReplicationInvariantError } from '../../src/node/replication/invariant.js';
import { checkTiming, timingFromLease } from '../../src/node/replication/timing.js';
import { TokenBucket } from '../../src/node/throttle.js';

const timing = { leaseMs: 1000, graceMs: 250, timeoutMs: 750, beaconMs: 250 };
const view = { epoch: 4, primary: 'a', replicas: ['a', 'b', 'c'] };

t.test('a beacon acknowledged is a promise to that primary only', async (t) => {
  const l = new ReplicaLeases('b', timing, -10_000);
  l.observe(0, 4, 'a', 0);
  t.equal(l.onBeacon(0, 4, 'a', 100), 'ok');
  t.equal(l.promiseRemaining(0, 'c', 100), 1250, 'a new primary c must wait lease + grace');
  t.equal(l.promiseRemaining(0, 'a', 100), 0, 'the same primary need not wait for its own lease');
  t.equal(l.promiseRemaining(0, 'c', 2000), 0);
  t.equal(l.promiseRemaining(7, 'c', 100), 0, 'no promise for an unknown partition');
  t.equal(l.sinceBeacon(0, 300), 200);
});

t.test('a restarted node behaves as if it promised at start-up', async (t) => {
  const l = new ReplicaLeases('b', timing, 1000);
  t.equal(l.promiseRemaining(0, 'c', 1000), 1250);
  t.equal(l.promiseRemaining(0, 'c', 2000), 250);
  t.equal(l.promiseRemaining(0, 'c', 2250), 0);
});

t.test('beacons from old epochs or the wrong primary are refused', async (t) => {
  const l = new ReplicaLeases('b', timing, -10_000);
  l.observe(0, 4, 'a', 0);
  t.equal(l.onBeacon(0, 3, 'a', 10), 'stale-epoch');
  t.equal(l.onBeacon(0, 4, 'c', 10), 'wrong-primary');
  t.equal(l.onBeacon(0, 5, 'c', 10), 'ok', 'a newer epoch from its primary is news, not an error');
  t.equal(l.knownEpoch(0), 5);
  l.observe(0, 4, 'a', 20);
  t.equal(l.knownEpoch(0), 5, 'epochs never move back');
});

t.test('a replica campaigns after a lease and its grace without beacons, staggered by rank', async (t) => {
  const b = new ReplicaLeases('b', timing, -10_000);
  const c = new ReplicaLeases('c', timing, -10_000);
  for (const l of [b, c]) {
    l.observe(0, 4, 'a', 0);
    l.onBeacon(0, 4, 'a', 100);
  }
  t.notOk(b.shouldCampaign(0, view, 1350), 'b: promise still running');
  t.ok(b.shouldCampaign(0, view, 1351), 'b is first');
  t.notOk(c.shouldCampaign(0, view, 1351), 'c waits half a lease more');
  t.ok(c.shouldCampaign(0, view, 1851));
  b.startCampaign(0, 4, 1351);
  t.equal(b.onBeacon(0, 4, 'a', 1400), 'campaigning', 'no more promises to the old primary');
  t.notOk(b.shouldCampaign(0, view, 5000), 'one campaign at a time');
  t.throws(() => b.startCampaign(0, 4, 1400), ReplicationInvariantError);
  b.abortCampaign(0, 1500);
  t.notOk(b.shouldCampaign(0, view, 2400), 'backs off for a lease');
  t.ok(b.shouldCampaign(0, view, 2751));
  b.startCampaign(0, 4, 2751);
  b.observe(0, 5, 'b', 2800);
  t.notOk(b.campaigning(0), 'a new epoch ends the campaign');
});

t.test('no campaign by the primary, a non-member, or on an old view', async (t) => {
  const a = new ReplicaLeases('a', timing, -10_000);
  a.observe(0, 4, 'a', 0);
  t.notOk(a.shouldCampaign(0, view, 100_000), 'the primary itself');
  const d = new ReplicaLeases('d', timing, -10_000);
  d.observe(0, 4, 'a', 0);
  t.notOk(d.shouldCampaign(0, view, 100_000), 'not in the in-sync set');
  const b = new ReplicaLeases('b', timing, -10_000);
  b.observe(0, 5, 'c', 0);
  t.notOk(b.shouldCampaign(0, view, 100_000), 'the view is older than what b knows');
  const fresh = new ReplicaLeases('b', timing, 50_000);
  fresh.observe(0, 4, 'a', 50_000);
  t.notOk(fresh.shouldCampaign(0, view, 51_000), 'a restarted node waits too');
  t.notOk(fresh.shouldCampaign(0, { ...view, primary: null }, 100_000), 'no primary to replace');
});

t.test('the candidate is the replica with the highest sequence', async (t) => {
  const base = { self: 'b', selfSeq: 10, epoch: 4, oldPrimary: 'a', leaseMs: 1000 };
  t.same(chooseCandidate({ ...base, peers: [{ id: 'c', answered: true, epoch: 4, lastSeq: 12, sinceBeaconMs: 5000 }] }), { kind: 'propose', primary: 'c', remove: ['a'] });
  t.same(chooseCandidate({ ...base, peers: [{ id: 'c', answered: true, epoch: 4, lastSeq: 10, sinceBeaconMs: 5000 }] }), { kind: 'propose', primary: 'b', remove: ['a'] }, 'a tie goes to the campaigner');
  t.same(chooseCandidate({ ...base, selfSeq: 1, peers: [
    { id: 'd', answered: true, epoch: 4, lastSeq: 7, sinceBeaconMs: Infinity },
    { id: 'c', answered: true, epoch: 4, lastSeq: 7, sinceBeaconMs: Infinity },
  ] }), { kind: 'propose', primary: 'c', remove: ['a'] }, 'then the lowest id');
  t.same(chooseCandidate({ ...base, peers: [{ id: 'c', answered: false }] }), { kind: 'propose', primary: 'b', remove: ['a', 'c'] }, 'silent peers leave with the old primary');
  t.match(chooseCandidate({ ...base, peers: [{ id: 'c', answered: true, epoch: 4, lastSeq: 1, sinceBeaconMs: 200 }] }), { kind: 'abort', reason: /still hears/ });
  t.match(chooseCandidate({ ...base, peers: [{ id: 'c', answered: true, epoch: 5, lastSeq: 1, sinceBeaconMs: 5000 }] }), { kind: 'abort', reason: /epoch 5/ });
  t.same(chooseCandidate({ ...base, peers: [] }), { kind: 'propose', primary: 'b', remove: ['a'] });
});

t.test('commit waiters', async (t) => {
  const w = new CommitWaiters();
  const order: number[] = [];
  const p5 = w.wait(5).then(() => order.push(5));
  const p3 = w.wait(3).then(() => order.push(3));
  const p9 = w.wait(9);
  w.settle(4);
  await p3;
  t.same(order, [3]);
  w.settle(6);
  await p5;
  t.equal(w.size, 1);
  await w.wait(2); // already committed: resolves at once
  w.rejectAll(new WriteUnconfirmedError('stale-epoch', 'epoch over'));
  await t.rejects(p9, WriteUnconfirmedError);
  w.reset();
  let late = false;
  void w.wait(3).then(() => (late = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(late, 'after a reset nothing counts as committed');
  w.settle(3);
  await new Promise((r) => setImmediate(r));
  t.ok(late);
});

t.test('timings', async (t) => {
  t.doesNotThrow(() => checkTiming(timingFromLease(4000)));
  t.doesNotThrow(() => checkTiming(timingFromLease(100)));
  t.throws(() => checkTiming({ leaseMs: 1000, graceMs: 100, timeoutMs: 100, beaconMs: 600 }));
  t.throws(() => checkTiming({ leaseMs: 1000, graceMs: 0, timeoutMs: 700, beaconMs: 250 }));
});

t.test('the token bucket keeps the rate over time, in debt if need be', async (t) => {
  const b = new TokenBucket(1000, 500, 0);
  t.equal(b.take(500, 0), 0, 'the burst goes at once');
  t.equal(b.take(250, 0), 250, 'then 250 bytes cost 250 ms at 1000 B/s');
  t.equal(b.take(0, 250), 0, 'paid back');
  t.equal(b.take(5000, 250), 5000, 'a large piece is delayed, never refused');
  t.equal(b.take(0, 100_000), 0);
  t.equal(b.take(500, 100_000), 0, 'refills to the burst only');
  t.equal(b.take(1, 100_000), 1);
  t.throws(() => new TokenBucket(0, 1, 0));
});
