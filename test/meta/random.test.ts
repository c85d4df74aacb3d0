// Seeded random command sequences: two copies of the machine (one of them restored from
// a snapshot now and then) must agree on every result and every state, and apply()
// checks every invariant after each accepted command. Override with META_TEST_SEED.

import t from 'tap';
import { apply, decodeState, encodeState, initialState } from '../../src/meta/state.js';
import type { MetaState } from '../../src/meta/types.js';
import { prng, seedFromEnv } from './helpers.js';

const IDS = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
// 'up' twice: nodes come back about as often as they fail, so data does not just drain away.
const STATES = ['up', 'up', 'suspect', 'down', 'draining', 'removed'];

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  let token = 0;
  return (s: MetaState, now: number): unknown => {
    const roll = rand();
    const open = s.plans.flatMap((p) => p.moves.filter((m) => m.state === 'pending' || m.state === 'copying').map((m) => ({ p, m })));
    if (roll < 0.14) {
      const id = pick(IDS);
      const reuse = rand() < 0.1 && token > 0;
      return {
        type: 'node-join', nodeId: rand() < 0.9 ? `${id}-${Math.floor(rand() * 3)}` : id, url: `http://${id}:7000`, publicKey: `pk-${token}-${id}`,
        capacity: 1 + Math.floor(rand() * 3), ...(rand() < 0.5 ? { zone: `z${Math.floor(rand() * 3)}` } : {}),
        tokenId: reuse ? `t${token - 1}` : `t${token++}`, tokenExpiresAt: now + (rand() < 0.95 ? 60_000 : -1),
      };
    }
    const nodes = Object.keys(s.nodes);
    const node = nodes.length > 0 && rand() < 0.95 ? pick(nodes) : 'ghost';
    if (roll < 0.22) return { type: 'node-heartbeat', nodeId: node };
    if (roll < 0.36) return { type: 'node-state', nodeId: node, state: pick(STATES), ...(rand() < 0.3 ? { force: true } : {}) };
    if (roll < 0.72 && open.length > 0) {
      const { p, m } = pick(open);
      const ref = { planId: p.id, partition: m.partition, target: rand() < 0.95 ? m.target : 'ghost' };
      const r = rand();
      if (r < 0.25) return { type: 'move-progress', ...ref, bytesDone: 5, bytesTotal: 10 };
      if (r < 0.9) return { type: 'move-done', ...ref, bytesTotal: 10 };
      return { type: 'move-failed', ...ref, reason: 'random' };
    }
    if (roll < 0.76 && s.plans.length > 0) return { type: 'plan-cancel', planId: pick(s.plans).id };
    if (roll < 0.8) return { type: 'rebalance' };
    if (roll < 0.9 && s.partitions.length > 0) {
      const partition = Math.floor(rand() * s.partitions.length);
      const part = s.partitions[partition]!;
      const victim = part.replicas.length > 0 ? pick(part.replicas) : 'ghost';
      const others = part.replicas.filter((x) => x !== victim);
      const primary = victim === part.primary || rand() < 0.3 ? (others.length > 0 ? pick(others) : undefined) : undefined;
      return {
        type: 'partition-reconfigure', partition, expectedEpoch: rand() < 0.9 ? part.epoch : part.epoch + 1,
        ...(rand() < 0.8 ? { remove: [victim] } : {}), ...(primary === undefined ? { primary: victim } : { primary }),
      };
    }
    if (roll < 0.93) return { type: 'revoke', credentialId: `c${Math.floor(rand() * 5)}`, expiresAt: now + Math.floor(rand() * 10_000) };
    if (roll < 0.95) return { type: 'settings', repairGraceMs: Math.floor(rand() * 3000) };
    return pick([{ type: 'bogus' }, { type: 'node-state', nodeId: node }, { type: 'move-done' }, null]);
  };
}

t.test('seeded random schedules: determinism and invariants', async (t) => {
  const base = seedFromEnv(7_000);
  const total = { ok: 0, rejected: 0, done: 0 };
  for (let k = 0; k < 6; k++) {
    const seed = base + k;
    t.comment(`seed ${seed}`);
    const rand = prng(seed);
    const next = generator(rand);
    let a = initialState();
    let b = initialState();
    let now = 1_000;
    const init = { type: 'init-cluster', clusterId: 'rnd', partitions: 8 + Math.floor(rand() * 24), replication: 1 + Math.floor(rand() * 3), repairGraceMs: 500 };
    a = apply(a, init, now).state;
    b = apply(b, init, now).state;
    const counts = { ok: 0, rejected: 0, done: 0 };
    let diverged = -1;
    const trail: string[] = [];
    for (let step = 0; step < 500; step++) {
      now += Math.floor(rand() * 400);
      const cmd = next(a, now);
      trail.push(JSON.stringify({ step, now, cmd }));
      const ra = replay(trail, () => apply(a, cmd, now));
      const rb = apply(b, JSON.parse(JSON.stringify(cmd)) as unknown, now);
      // Results and the map every step; the whole state every few steps (it is the slow part).
      const same = (x: typeof ra, y: typeof rb) =>
        step % 10 === 0 ? JSON.stringify(x) === JSON.stringify(y) : JSON.stringify([x.result, x.state.partitions]) === JSON.stringify([y.result, y.state.partitions]);
      if (diverged < 0 && !same(ra, rb)) diverged = step;
      if (ra.result.ok) counts.ok++;
      else counts.rejected++;
      if (ra.result.ok && (cmd as { type?: string }).type === 'move-done') counts.done++;
      if (!ra.result.ok) t.equal(ra.state, a, 'a rejection changes nothing');
      a = ra.state;
      b = step % 50 === 0 ? decodeState(encodeState(rb.state)) : rb.state;
    }
    t.equal(diverged, -1, `seed ${seed}: the two copies agree on every step`);
    t.same(JSON.stringify(a), JSON.stringify(b), `seed ${seed}: and in the end`);
    t.comment(`seed ${seed}: ${JSON.stringify(counts)}`);
    total.ok += counts.ok;
    total.rejected += counts.rejected;
    total.done += counts.done;

    // Drain the schedule: complete every move; removed nodes then hold nothing.
    for (let guard = 0; guard < 1000; guard++) {
      const open = a.plans.flatMap((p) => p.moves.filter((m) => m.state === 'pending' || m.state === 'copying').map((m) => ({ p, m })));
      const first = open[0];
      if (first === undefined) break;
      now = Math.max(now, first.p.notBefore);
      const cmd = { type: 'move-done', planId: first.p.id, partition: first.m.partition, target: first.m.target };
      trail.push(JSON.stringify({ now, cmd }));
      const r = replay(trail, () => apply(a, cmd, now));
      t.ok(r.result.ok, 'an open move can complete');
      a = r.state;
    }
    const removed = new Set(Object.values(a.nodes).filter((n) => n.state === 'removed').map((n) => n.id));
    t.ok(a.partitions.every((p) => p.replicas.every((id) => !removed.has(id))), `seed ${seed}: no removed node holds a replica`);
    t.ok(a.plans.every((p) => p.state !== 'active'), 'every plan finished');
  }
  t.ok(total.ok > 1000 && total.rejected > 200 && total.done > 100, `the schedules exercised the machine: ${JSON.stringify(total)}`);
});

/** On a broken invariant, print the recent commands so the failure can be replayed. */
function replay<T>(trail: readonly string[], fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    console.error(`last commands before the failure:\n${trail.slice(-25).join('\n')}`);
    throw err;
  }
}
