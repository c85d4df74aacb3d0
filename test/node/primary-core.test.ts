// PrimaryCore: activation (fencing, promises, adoption), commits, timeouts that remove
// replicas, leases, fencing by a newer epoch; then seeded random schedules that check the
// invariants after every step.
import t from 'tap';
import { PrimaryCore, type PrimaryInit } from '../../src/node/replication/primary-core.js';
import { ReplicationInvariantError } from '../../src/node/replication/invariant.js';
import type { ReplicationTiming } from '../../src/node/replication/timing.js';
import { prng, seedFor } from './store/helpers.js';

const timing: ReplicationTiming = { leaseMs: 1000, graceMs: 250, timeoutMs: 750, beaconMs: 250 };

function core(over: Partial<PrimaryInit> = {}): PrimaryCore {
  return new PrimaryCore({ partition: 3, epoch: 5, self: 'a', members: ['b', 'c'], minInsync: 2, localSeq: 10, now: 0, timing, notBefore: 0, ...over });
}

/** Fences every member at `now` with the given lastSeq and no promise. */
function fenceAll(c: PrimaryCore, now: number, lastSeq = c.localSeq): void {
  for (const id of c.members) c.onFenced(id, { lastSeq, promiseMs: 0 }, now);
}

t.test('activation waits for every replica to be fenced', async (t) => {
  const c = core();
  t.equal(c.phase, 'activating');
  t.same(c.writeRefusal()?.code, 'activating');
  c.onFenced('b', { lastSeq: 10, promiseMs: 0 }, 10);
  c.tick(20);
  t.equal(c.phase, 'activating', 'c is not fenced yet');
  t.notOk(c.replicating(), 'no ops flow before every replica is fenced');
  c.onFenced('c', { lastSeq: 8, promiseMs: 0 }, 30);
  t.ok(c.replicating());
  c.tick(40);
  t.equal(c.phase, 'active');
  t.equal(c.writeRefusal(), null);
  t.equal(c.committedSeq(), 8, 'c is behind');
  t.equal(c.sendFrom('c'), 8);
});

t.test('a reported promise delays activation until it runs out', async (t) => {
  const c = core({ notBefore: 100 });
  c.onFenced('b', { lastSeq: 10, promiseMs: 500 }, 50);
  c.onFenced('c', { lastSeq: 10, promiseMs: 200 }, 60);
  c.tick(100);
  t.equal(c.phase, 'activating');
  c.tick(549);
  t.equal(c.phase, 'activating', 'b promised the old primary until 550');
  c.tick(550);
  t.equal(c.phase, 'active');
});

t.test('the shell\'s own hold-off (restart guard) counts too', async (t) => {
  const c = core({ notBefore: 1000 });
  fenceAll(c, 600);
  c.tick(999);
  t.equal(c.phase, 'activating');
  c.tick(1000);
  t.equal(c.phase, 'active');
});

t.test('a replica that does not answer the epoch start is removed, once', async (t) => {
  const c = core();
  c.onFenced('b', { lastSeq: 10, promiseMs: 0 }, 10);
  c.onBeaconAck('b', 700, 700);
  t.same(c.tick(750), [], 'not yet past the timeout');
  t.same(c.tick(751), ['c']);
  t.same(c.tick(800), [], 'reported once');
  t.same(c.failedMembers(), [{ id: 'c', reason: 'did not answer the epoch start' }]);
  t.equal(c.writeRefusal()?.code, 'reconfiguring');
  t.equal(c.phase, 'activating', 'never active with a failed member');
  c.onFenced('c', { lastSeq: 10, promiseMs: 0 }, 900);
  t.equal(c.sendFrom('c'), null, 'a late answer does not revive it');
});

t.test('writes commit when every in-sync replica has them', async (t) => {
  const c = core();
  fenceAll(c, 0);
  c.tick(1);
  c.onLocalCommit(11, 10);
  c.onLocalCommit(12, 11);
  t.equal(c.committedSeq(), 10);
  c.onAck('b', 12, 20);
  t.equal(c.committedSeq(), 10, 'c still lacks 11 and 12');
  c.onAck('c', 11, 21);
  t.equal(c.committedSeq(), 11);
  c.onAck('c', 12, 22);
  t.equal(c.committedSeq(), 12);
  t.same(c.lag(), [{ id: 'b', lag: 0 }, { id: 'c', lag: 0 }]);
  t.throws(() => c.onLocalCommit(12, 30), ReplicationInvariantError, 'local commits only move forward');
});

t.test('a replica that stops acknowledging is removed after the timeout; progress keeps it', async (t) => {
  const c = core();
  fenceAll(c, 0);
  c.tick(1);
  c.onBeaconAck('b', 0, 0);
  c.onBeaconAck('c', 0, 0);
  c.onLocalCommit(11, 100);
  c.onAck('b', 11, 150);
  for (let now = 200; now <= 800; now += 100) {
    c.onBeaconAck('b', now, now);
    c.onBeaconAck('c', now, now);
    c.onProgress('c', now); // a long value is streaming to c
    t.same(c.tick(now), []);
  }
  c.onBeaconAck('b', 1700, 1700);
  c.onBeaconAck('c', 1700, 1700);
  t.same(c.tick(1700), ['c'], 'no progress since 800: replication timed out');
  t.match(c.failedMembers(), [{ id: 'c', reason: 'replication timed out' }]);
  t.equal(c.committedSeq(), 10, 'writes do not go on without it until meta removes it');
});

t.test('unanswered beacons remove a replica even when nothing is written', async (t) => {
  const c = core();
  fenceAll(c, 0);
  c.tick(1);
  c.onBeaconAck('b', 700, 700);
  t.same(c.tick(751), ['c']);
  t.match(c.failedMembers(), [{ id: 'c', reason: 'beacons unanswered' }]);
});

t.test('the read lease needs a recent beacon acknowledged by every replica', async (t) => {
  const c = core();
  fenceAll(c, 0);
  c.tick(1);
  t.notOk(c.leaseValid(2), 'no beacon acknowledged yet');
  c.onBeaconAck('b', 100, 120);
  t.notOk(c.leaseValid(130), 'c has not acknowledged');
  c.onBeaconAck('c', 200, 210);
  t.ok(c.leaseValid(210));
  t.equal(c.leaseUntil(), 1100, 'from the older send time');
  t.ok(c.leaseValid(1099));
  t.notOk(c.leaseValid(1100), 'a lease runs from the send time, never the receive time');
  c.onBeaconAck('b', 50, 1200);
  t.equal(c.leaseUntil(), 1100, 'an older beacon never shortens or extends it');
});

t.test('a primary without replicas leans on meta\'s confirmations', async (t) => {
  const c = core({ members: [], minInsync: 1 });
  c.tick(0);
  t.equal(c.phase, 'active');
  t.notOk(c.leaseValid(1));
  c.onMetaConfirm(500);
  t.ok(c.leaseValid(1499));
  t.notOk(c.leaseValid(1500));
  t.equal(c.writeRefusal(), null);
});

t.test('below minInsync nothing is written', async (t) => {
  const c = core({ members: ['b'], minInsync: 3 });
  fenceAll(c, 0);
  c.tick(1);
  t.ok(c.belowMinInsync());
  t.equal(c.writeRefusal()?.code, 'not-enough-replicas');
});

t.test('adoption: ops a replica holds beyond ours are fetched before activation', async (t) => {
  const c = core();
  c.onFenced('b', { lastSeq: 14, promiseMs: 0 }, 1);
  c.onFenced('c', { lastSeq: 12, promiseMs: 0 }, 1);
  t.notOk(c.replicating());
  const req = c.adoptionNeeded();
  t.same(req, { from: 'b', afterSeq: 10, upToSeq: 14 });
  t.equal(c.adoptionNeeded(), null, 'one adoption at a time');
  c.tick(10);
  t.equal(c.phase, 'activating');
  c.onAdopted(14);
  t.equal(c.localSeq, 14);
  t.equal(c.ackedSeq('b'), 14);
  t.equal(c.ackedSeq('c'), 12);
  t.equal(c.adoptionNeeded(), null);
  c.tick(20);
  t.equal(c.phase, 'active');
  t.equal(c.committedSeq(), 12);
});

t.test('a failed adoption removes the replica it came from', async (t) => {
  const c = core();
  c.onFenced('b', { lastSeq: 20, promiseMs: 0 }, 1);
  c.onFenced('c', { lastSeq: 10, promiseMs: 0 }, 1);
  const req = c.adoptionNeeded();
  t.equal(req?.from, 'b');
  c.onAdoptFailed('b', 'log trimmed');
  t.same(c.tick(5), ['b']);
  t.throws(() => c.onAdoptFailed('c', 'x'), ReplicationInvariantError);
});

t.test('acknowledgements that make no sense fail the replica', async (t) => {
  const c = core();
  fenceAll(c, 0);
  c.onAck('b', 9, 1);
  t.match(c.failedMembers(), [{ id: 'b', reason: /went backwards/ }]);
  c.onAck('c', 11, 1);
  t.match(c.failedMembers(), [{ id: 'b' }, { id: 'c', reason: /beyond the primary/ }]);
});

t.test('a newer epoch ends everything', async (t) => {
  const c = core();
  fenceAll(c, 0);
  c.tick(1);
  c.onBeaconAck('b', 1, 1);
  c.onBeaconAck('c', 1, 1);
  t.ok(c.leaseValid(2));
  c.markStale();
  t.equal(c.phase, 'stale');
  t.notOk(c.leaseValid(2));
  t.equal(c.writeRefusal()?.code, 'stale-epoch');
  t.same(c.tick(10_000), [], 'a stale core asks for nothing');
  t.notOk(c.replicating());
});

t.test('bad constructions are refused loudly', async (t) => {
  t.throws(() => core({ members: ['a', 'b'] }), ReplicationInvariantError);
  t.throws(() => core({ members: ['b', 'b'] }), ReplicationInvariantError);
  t.throws(() => core({ epoch: 0 }), ReplicationInvariantError);
  t.throws(() => core({ localSeq: -1 }), ReplicationInvariantError);
  t.throws(() => core().onAck('z', 1, 1), ReplicationInvariantError, 'unknown replica');
});

t.test('random schedules keep the invariants', async (t) => {
  const seed = seedFor(t);
  const rand = prng(seed);
  for (let run = 0; run < 300; run++) {
    const ids = ['b', 'c', 'd'].slice(0, Math.floor(rand() * 4));
    const start = Math.floor(rand() * 20);
    const c = core({ members: ids, minInsync: 1 + Math.floor(rand() * 3), localSeq: start, notBefore: Math.floor(rand() * 500) });
    const replicaSeq = new Map(ids.map((id) => [id, Math.floor(rand() * (start + 1))]));
    let now = 0;
    let committed = c.committedSeq();
    const beaconSent = new Map<string, number>();
    for (let step = 0; step < 200; step++) {
      now += Math.floor(rand() * 60);
      const id = ids[Math.floor(rand() * ids.length)];
      const r = rand();
      if (id !== undefined && r < 0.15) c.onFenced(id, { lastSeq: replicaSeq.get(id)!, promiseMs: Math.floor(rand() * 300) }, now);
      else if (r < 0.35 && c.writeRefusal() === null) c.onLocalCommit(c.localSeq + 1, now);
      else if (id !== undefined && r < 0.6 && c.sendFrom(id) !== null) {
        const to = Math.min(c.localSeq, c.sendFrom(id)! + 1 + Math.floor(rand() * 3));
        replicaSeq.set(id, to);
        c.onAck(id, to, now);
      } else if (id !== undefined && r < 0.8) {
        const sent = now - Math.floor(rand() * 100);
        beaconSent.set(id, Math.max(beaconSent.get(id) ?? -Infinity, sent));
        c.onBeaconAck(id, sent, now);
      } else if (r < 0.85) {
        const req = c.adoptionNeeded();
        if (req !== null) c.onAdopted(req.upToSeq);
      }
      c.tick(now);
      // Invariants.
      const nowCommitted = c.committedSeq();
      if (nowCommitted < committed) t.fail(`committed moved back from ${committed} to ${nowCommitted} (seed ${seed} run ${run} step ${step})`);
      committed = nowCommitted;
      if (nowCommitted > c.localSeq) t.fail(`committed ${nowCommitted} beyond local ${c.localSeq} (seed ${seed})`);
      if (c.leaseValid(now)) {
        if (c.phase !== 'active') t.fail('a lease outside the active phase');
        for (const m of c.fencedMembers()) if (!((beaconSent.get(m) ?? -Infinity) + timing.leaseMs > now)) t.fail(`lease without a recent beacon from ${m} (seed ${seed})`);
      }
      if (c.writeRefusal() === null && c.phase !== 'active') t.fail('writes accepted while not active');
    }
  }
  t.pass(`300 schedules (seed ${seed})`);
});
