import t from 'tap';
import { MemoryLiveStore, type LiveStore } from '../../../src/gateway/live-store/index.js';
import { takeTokens } from '../../../src/gateway/live-store/token-bucket.js';
import { liveStoreContract } from './contract.js';

/** A clock the tests move by hand. */
function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

t.test('memory LiveStore contract', async (t) => {
  const clock = fakeClock();
  liveStoreContract(t, {
    open: async () => new MemoryLiveStore({ now: clock.now }),
    openPeer: async (store: LiveStore) => {
      if (!(store instanceof MemoryLiveStore)) throw new Error('not a MemoryLiveStore');
      return store.peer();
    },
    elapse: async (ms) => clock.advance(ms),
    now: clock.now,
  });
});

t.test('entries live while now < written + ttl, to the millisecond', async (t) => {
  const clock = fakeClock();
  const s = new MemoryLiveStore({ now: clock.now });
  await s.putSession('s', 'v', 100);
  t.equal(await s.claimNonce('n', 100), true);
  await s.revoke('tok', clock.now() + 100);
  await s.reportObservation('sen', 'node', { state: 'up', atMs: clock.now() }, 100);
  clock.advance(99);
  t.equal(await s.getSession('s'), 'v');
  t.equal(await s.claimNonce('n', 100), false);
  t.equal(await s.isRevoked('tok'), true);
  t.equal((await s.observations('node')).length, 1);
  clock.advance(1);
  t.equal(await s.getSession('s'), undefined);
  t.equal(await s.claimNonce('n', 100), true);
  t.equal(await s.isRevoked('tok'), false);
  t.same(await s.observations('node'), []);
});

t.test('a counter window is not extended by later increments', async (t) => {
  const clock = fakeClock();
  const s = new MemoryLiveStore({ now: clock.now });
  t.equal(await s.incr('c', 1000), 1);
  clock.advance(900);
  t.equal(await s.incr('c', 1000), 2);
  clock.advance(100);
  t.equal(await s.incr('c', 1000), 1, 'window of the first increment is over');
});

t.test('an idle bucket is forgotten once it would be full again', async (t) => {
  const clock = fakeClock();
  const s = new MemoryLiveStore({ now: clock.now });
  const limit = { capacity: 2, refillPerSec: 1 };
  await s.consumeRate('k', limit);
  await s.consumeRate('k', limit);
  clock.advance(2000);
  t.same(await s.consumeRate('k', limit), { allowed: true, remaining: 1, retryAfterMs: 0 });
});

t.test('token bucket arithmetic', async (t) => {
  const limit = { capacity: 4, refillPerSec: 2, cost: 1 };
  const first = takeTokens(undefined, limit, 1000);
  t.same(first.state, { tokens: 3, atMs: 1000 });
  t.equal(first.fullInMs, 500, 'one token at 2/s is back in 500 ms');
  const drained = takeTokens({ tokens: 0.5, atMs: 1000 }, limit, 1000);
  t.same(drained.decision, { allowed: false, remaining: 0, retryAfterMs: 250 });
  const refilled = takeTokens({ tokens: 0.5, atMs: 1000 }, limit, 1250);
  t.same(refilled.decision, { allowed: true, remaining: 0, retryAfterMs: 0 });
  const capped = takeTokens({ tokens: 0, atMs: 0 }, limit, 1_000_000);
  t.same(capped.decision, { allowed: true, remaining: 3, retryAfterMs: 0 }, 'refill stops at capacity');
  const lowered = takeTokens({ tokens: 4, atMs: 0 }, { ...limit, capacity: 2 }, 0);
  t.equal(lowered.decision.remaining, 1, 'a lowered capacity applies at once');
});
