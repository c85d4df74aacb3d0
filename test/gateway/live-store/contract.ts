import type { Test } from 'tap';
import type { LiveStore } from '../../../src/gateway/live-store/index.js';

/**
 * The behaviour every LiveStore implementation must show. Run it with a
 * harness per implementation (memory.test.ts, redis.test.ts). Expiry tests use
 * a short TTL and wait well past it, so that a real clock (Redis) is not
 * timing-fragile; "still there" checks use a long TTL instead of a short wait.
 */
export interface LiveStoreHarness {
  /** A store on a fresh, empty namespace. */
  open(): Promise<LiveStore>;
  /** Another client on the same backend and namespace, as a second gateway. */
  openPeer(store: LiveStore): Promise<LiveStore>;
  /** Lets `ms` of the store's time pass (a fake clock, or a real sleep). */
  elapse(ms: number): Promise<void>;
  /** The store's notion of now, epoch ms. */
  now(): number;
}

export const SHORT_TTL = 150;
export const PAST_SHORT_TTL = 450;
export const LONG_TTL = 60_000;
const BAD_INPUT = { name: 'LiveStoreInputError' };

export function liveStoreContract(t: Test, h: LiveStoreHarness): void {
  const open = async (tt: Test): Promise<LiveStore> => closing(tt, await h.open());
  const peer = async (tt: Test, of: LiveStore): Promise<LiveStore> => closing(tt, await h.openPeer(of));

  t.test('sessions: put, get, overwrite, delete', async (tt) => {
    const s = await open(tt);
    tt.equal(await s.getSession('absent'), undefined);
    await s.putSession('sess-1', '{"user":"vega"}', LONG_TTL);
    tt.equal(await s.getSession('sess-1'), '{"user":"vega"}');
    await s.putSession('sess-1', 'épsilon ☄', LONG_TTL);
    tt.equal(await s.getSession('sess-1'), 'épsilon ☄', 'overwritten, UTF-8 intact');
    await s.putSession('sess-empty', '', LONG_TTL);
    tt.equal(await s.getSession('sess-empty'), '', 'an empty value is a value');
    tt.equal(await s.deleteSession('sess-1'), true);
    tt.equal(await s.deleteSession('sess-1'), false, 'second delete finds nothing');
    tt.equal(await s.getSession('sess-1'), undefined);
  });

  t.test('sessions expire', async (tt) => {
    const s = await open(tt);
    await s.putSession('short', 'x', SHORT_TTL);
    await s.putSession('long', 'y', LONG_TTL);
    await h.elapse(PAST_SHORT_TTL);
    tt.equal(await s.getSession('short'), undefined);
    tt.equal(await s.deleteSession('short'), false);
    tt.equal(await s.getSession('long'), 'y');
  });

  t.test('revocation lasts until its time, and is never shortened', async (tt) => {
    const s = await open(tt);
    tt.equal(await s.isRevoked('tok-a'), false);
    await s.revoke('tok-a', h.now() + LONG_TTL);
    await s.revoke('tok-a', h.now() + SHORT_TTL); // must not shorten it
    await s.revoke('tok-b', h.now() + SHORT_TTL);
    await s.revoke('tok-c', h.now() - 1000); // already expired: nothing to remember
    tt.equal(await s.isRevoked('tok-a'), true);
    tt.equal(await s.isRevoked('tok-b'), true);
    tt.equal(await s.isRevoked('tok-c'), false);
    await h.elapse(PAST_SHORT_TTL);
    tt.equal(await s.isRevoked('tok-a'), true, 'the longer revocation stands');
    tt.equal(await s.isRevoked('tok-b'), false, 'the short one ran out');
  });

  t.test('rate limit: token bucket drains and refills', async (tt) => {
    const s = await open(tt);
    // 3 tokens, one every 2 s: a full refill takes 6 s, far beyond the test.
    const limit = { capacity: 3, refillPerSec: 0.5 };
    const t0 = h.now();
    tt.same(await s.consumeRate('ip:1', limit, t0), { allowed: true, remaining: 2, retryAfterMs: 0 });
    tt.same(await s.consumeRate('ip:1', limit, t0), { allowed: true, remaining: 1, retryAfterMs: 0 });
    tt.same(await s.consumeRate('ip:1', limit, t0), { allowed: true, remaining: 0, retryAfterMs: 0 });
    tt.same(await s.consumeRate('ip:1', limit, t0), { allowed: false, remaining: 0, retryAfterMs: 2000 });
    tt.same(await s.consumeRate('ip:1', limit, t0 + 1000), { allowed: false, remaining: 0, retryAfterMs: 1000 });
    tt.same(await s.consumeRate('ip:1', limit, t0 + 500), { allowed: false, remaining: 0, retryAfterMs: 1000 },
      'a clock going backwards refills nothing');
    tt.same(await s.consumeRate('ip:1', limit, t0 + 2000), { allowed: true, remaining: 0, retryAfterMs: 0 });
    tt.same(await s.consumeRate('ip:2', limit, t0), { allowed: true, remaining: 2, retryAfterMs: 0 },
      'buckets are per key');
  });

  t.test('rate limit: cost, peeking, and the store clock', async (tt) => {
    const s = await open(tt);
    const t0 = h.now();
    const limit = { capacity: 10, refillPerSec: 1 };
    tt.same(await s.consumeRate('bulk', { ...limit, cost: 7 }, t0), { allowed: true, remaining: 3, retryAfterMs: 0 });
    tt.same(await s.consumeRate('bulk', { ...limit, cost: 5 }, t0), { allowed: false, remaining: 3, retryAfterMs: 2000 });
    tt.same(await s.consumeRate('bulk', { ...limit, cost: 0 }, t0), { allowed: true, remaining: 3, retryAfterMs: 0 },
      'cost 0 reads the bucket');
    const slow = { capacity: 2, refillPerSec: 0.1 };
    tt.equal((await s.consumeRate('clock', slow)).allowed, true);
    tt.equal((await s.consumeRate('clock', slow)).allowed, true);
    const refused = await s.consumeRate('clock', slow);
    tt.equal(refused.allowed, false);
    tt.ok(refused.retryAfterMs > 5000 && refused.retryAfterMs <= 10_000, `retryAfterMs ${refused.retryAfterMs}`);
  });

  t.test('nonces are claimed once, until they expire', async (tt) => {
    const s = await open(tt);
    tt.equal(await s.claimNonce('sig-1', SHORT_TTL), true);
    tt.equal(await s.claimNonce('sig-1', SHORT_TTL), false);
    tt.equal(await s.claimNonce('sig-1', LONG_TTL), false, 'a new TTL does not reopen it');
    tt.equal(await s.claimNonce('sig-2', LONG_TTL), true);
    await h.elapse(PAST_SHORT_TTL);
    tt.equal(await s.claimNonce('sig-1', LONG_TTL), true, 'free again after expiry');
    tt.equal(await s.claimNonce('sig-2', LONG_TTL), false);
  });

  t.test('parallel claims of one nonce: exactly one wins', async (tt) => {
    const s = await open(tt);
    const results = await Promise.all(Array.from({ length: 50 }, () => s.claimNonce('race', LONG_TTL)));
    tt.equal(results.filter(Boolean).length, 1);
  });

  t.test('observations: one per sentinel, expiring, enough for a quorum', async (tt) => {
    const s = await open(tt);
    tt.same(await s.observations('node-1'), []);
    const at = h.now();
    await s.reportObservation('sen-b', 'node-1', { state: 'down', atMs: at }, LONG_TTL);
    await s.reportObservation('sen-a', 'node-1', { state: 'suspect', atMs: at }, LONG_TTL);
    await s.reportObservation('sen-c', 'node-1', { state: 'down', atMs: at + 1 }, SHORT_TTL);
    await s.reportObservation('sen-a', 'node-2', { state: 'up', atMs: at }, LONG_TTL);
    tt.same(await s.observations('node-1'), [
      { sentinelId: 'sen-a', state: 'suspect', atMs: at },
      { sentinelId: 'sen-b', state: 'down', atMs: at },
      { sentinelId: 'sen-c', state: 'down', atMs: at + 1 },
    ]);
    const downVotes = async (): Promise<number> =>
      (await s.observations('node-1')).filter((o) => o.state === 'down').length;
    tt.equal(await downVotes(), 2, 'two of three sentinels say down: a quorum');
    await s.reportObservation('sen-a', 'node-1', { state: 'down', atMs: at + 2 }, LONG_TTL);
    tt.equal((await s.observations('node-1')).length, 3, 'a new report replaces the old one');
    await h.elapse(PAST_SHORT_TTL);
    tt.same(await s.observations('node-1'), [
      { sentinelId: 'sen-a', state: 'down', atMs: at + 2 },
      { sentinelId: 'sen-b', state: 'down', atMs: at },
    ], 'the expired report of sen-c is dropped');
    tt.same(await s.observations('node-2'), [{ sentinelId: 'sen-a', state: 'up', atMs: at }]);
  });

  t.test('counters count within their window', async (tt) => {
    const s = await open(tt);
    tt.equal(await s.incr('fails:ip:1', SHORT_TTL), 1);
    tt.equal(await s.incr('fails:ip:1', SHORT_TTL), 2);
    tt.equal(await s.incr('fails:ip:2', LONG_TTL), 1);
    await h.elapse(PAST_SHORT_TTL);
    tt.equal(await s.incr('fails:ip:1', SHORT_TTL), 1, 'a new window');
    tt.equal(await s.incr('fails:ip:2', LONG_TTL), 2);
  });

  t.test('bad input is refused with a clear error', async (tt) => {
    const s = await open(tt);
    const rate = { capacity: 5, refillPerSec: 1 };
    const obs = { state: 'up' as const, atMs: 1 };
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['empty session id', () => s.putSession('', 'v', 1000), /session id must not be empty/],
      ['empty get', () => s.getSession(''), /session id must not be empty/],
      ['empty delete', () => s.deleteSession(''), /session id must not be empty/],
      ['negative session ttl', () => s.putSession('id', 'v', -5), /session ttlMs must be positive/],
      ['zero ttl', () => s.putSession('id', 'v', 0), /must be positive/],
      ['NaN ttl', () => s.claimNonce('n', Number.NaN), /nonce ttlMs must be a finite number/],
      ['infinite ttl', () => s.incr('c', Infinity), /counter ttlMs must be a finite number/],
      ['ttl of years', () => s.incr('c', 400 * 24 * 3600 * 1000), /at most/],
      ['non-string value', () => s.putSession('id', 42 as unknown as string, 1000), /session value must be a string/],
      ['key too long', () => s.claimNonce('n'.repeat(1025), 1000), /nonce is longer than 1024 bytes/],
      ['empty nonce', () => s.claimNonce('', 1000), /nonce must not be empty/],
      ['empty token id', () => s.revoke('', h.now() + 1000), /token id must not be empty/],
      ['bad revocation time', () => s.revoke('tok', Number.NaN), /untilMs/],
      ['empty isRevoked', () => s.isRevoked(''), /token id must not be empty/],
      ['empty rate key', () => s.consumeRate('', rate), /rate key must not be empty/],
      ['zero capacity', () => s.consumeRate('k', { capacity: 0, refillPerSec: 1 }), /capacity must be a positive/],
      ['negative refill', () => s.consumeRate('k', { capacity: 1, refillPerSec: -1 }), /refillPerSec must be a positive/],
      ['negative cost', () => s.consumeRate('k', { ...rate, cost: -1 }), /cost must be a non-negative/],
      ['cost over capacity', () => s.consumeRate('k', { ...rate, cost: 6 }), /cost 6 exceeds capacity 5/],
      ['negative nowMs', () => s.consumeRate('k', rate, -1), /nowMs must be a non-negative/],
      ['empty sentinel id', () => s.reportObservation('', 'node', obs, 1000), /sentinel id must not be empty/],
      ['empty node id', () => s.reportObservation('sen', '', obs, 1000), /node id must not be empty/],
      ['unknown state', () => s.reportObservation('sen', 'node', { state: 'dead' as 'down', atMs: 1 }, 1000), /state must be one of up, suspect, down/],
      ['bad atMs', () => s.reportObservation('sen', 'node', { state: 'up', atMs: -1 }, 1000), /atMs/],
      ['negative observation ttl', () => s.reportObservation('sen', 'node', obs, -1), /observation ttlMs must be positive/],
      ['empty observations node', () => s.observations(''), /node id must not be empty/],
      ['empty counter key', () => s.incr('', 1000), /counter key must not be empty/],
    ];
    for (const [what, call, message] of cases) {
      await tt.rejects(call, { ...BAD_INPUT, message }, what);
    }
    tt.equal(await s.getSession('id'), undefined, 'nothing was written by refused calls');
  });

  t.test('a closed store refuses calls; its peers go on', async (tt) => {
    const a = await open(tt);
    const b = await peer(tt, a);
    await a.close();
    await a.close(); // idempotent
    await tt.rejects(a.claimNonce('n', 1000), { name: 'LiveStoreClosedError' });
    tt.equal(await b.claimNonce('n', LONG_TTL), true);
  });

  t.test('two clients of one backend behave as one store', async (tt) => {
    const a = await open(tt);
    const b = await peer(tt, a);
    await a.putSession('sess', 'shared', LONG_TTL);
    tt.equal(await b.getSession('sess'), 'shared');
    tt.equal(await b.deleteSession('sess'), true);
    tt.equal(await a.getSession('sess'), undefined);

    tt.equal(await a.claimNonce('sig', LONG_TTL), true);
    tt.equal(await b.claimNonce('sig', LONG_TTL), false, 'a nonce claimed through one is refused through the other');

    await a.revoke('tok', h.now() + LONG_TTL);
    tt.equal(await b.isRevoked('tok'), true);

    const limit = { capacity: 10, refillPerSec: 1 / 3600 };
    const t0 = h.now();
    for (let i = 0; i < 5; i++) {
      tt.equal((await a.consumeRate('user:vega', limit, t0)).allowed, true);
      tt.equal((await b.consumeRate('user:vega', limit, t0)).allowed, true);
    }
    tt.same(await a.consumeRate('user:vega', limit, t0), { allowed: false, remaining: 0, retryAfterMs: 3_600_000 },
      'ten tokens taken through two clients empty the one bucket');
    tt.equal((await b.consumeRate('user:vega', limit, t0)).allowed, false);

    await a.reportObservation('sen-a', 'node-9', { state: 'down', atMs: t0 }, LONG_TTL);
    await b.reportObservation('sen-b', 'node-9', { state: 'down', atMs: t0 }, LONG_TTL);
    tt.equal((await a.observations('node-9')).length, 2, 'sentinels see each other');

    tt.equal(await a.incr('hits', LONG_TTL), 1);
    tt.equal(await b.incr('hits', LONG_TTL), 2);
  });

  t.test('races between two clients: one nonce winner, no extra tokens', async (tt) => {
    const a = await open(tt);
    const b = await peer(tt, a);
    const claims = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).claimNonce('contended', LONG_TTL)),
    );
    tt.equal(claims.filter(Boolean).length, 1, 'exactly one of 50 parallel claims wins');

    const limit = { capacity: 10, refillPerSec: 1 / 3600 };
    const t0 = h.now();
    const takes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).consumeRate('hot', limit, t0)),
    );
    tt.equal(takes.filter((d) => d.allowed).length, 10, 'exactly the capacity is granted');
  });
}

function closing(t: Test, store: LiveStore): LiveStore {
  t.teardown(() => store.close());
  return store;
}
