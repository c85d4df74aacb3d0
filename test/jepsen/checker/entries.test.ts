import t from 'tap';
import { Bitset } from './bitset.js';
import { buildEntries, lift, unlift } from './entries.js';
import type { Entry } from './entries.js';

function walk(head: Entry): string[] {
  const out: string[] = [];
  for (let e = head.next; e !== null; e = e.next) {
    if (e.prev?.next !== e) throw new Error('broken back link');
    out.push(`${e.isCall ? 'c' : 'r'}${e.op}`);
  }
  return out;
}

t.test('entries sort by time, calls before returns on ties, unknown returns last', async (t) => {
  const head = buildEntries([
    { call: 0, ret: 10 },
    { call: 10, ret: 20 },
    { call: 5, ret: Infinity },
    { call: 5, ret: 6 },
  ]);
  t.same(walk(head), ['c0', 'c2', 'c3', 'r3', 'c1', 'r0', 'r1', 'r2']);
});

t.test('lift and unlift restore the list exactly, nested like a stack', async (t) => {
  const head = buildEntries([
    { call: 0, ret: 3 },
    { call: 1, ret: 2 },
    { call: 4, ret: 5 },
  ]);
  const before = walk(head);
  const c0 = head.next as Entry;
  const c1 = c0.next as Entry;
  lift(c1); // adjacent call and return
  t.same(walk(head), ['c0', 'r0', 'c2', 'r2']);
  lift(c0);
  t.same(walk(head), ['c2', 'r2']);
  unlift(c0);
  unlift(c1);
  t.same(walk(head), before);
  t.throws(() => lift(c0.match as Entry), /only a call entry/);
});

t.test('entries reject bad intervals', async (t) => {
  t.throws(() => buildEntries([{ call: 5, ret: 4 }]), /returns \(4\) before its call \(5\)/);
  t.throws(() => buildEntries([{ call: NaN, ret: 4 }]), /non-finite call/);
});

t.test('bitset sets, clears and keys by content', async (t) => {
  const a = new Bitset(40);
  const b = new Bitset(40);
  t.equal(a.key().length, 3, 'one code unit per 16 bits');
  a.set(0);
  a.set(17);
  a.set(39);
  t.ok(a.has(17) && !a.has(16));
  t.not(a.key(), b.key());
  b.set(39);
  b.set(17);
  b.set(0);
  t.equal(a.key(), b.key());
  a.clear(17);
  t.notOk(a.has(17));
  t.throws(() => a.set(40), /outside a bitset of 40/);
  t.throws(() => a.has(-1), /outside/);
  const big = new Bitset(16 * 10_000);
  big.set(16 * 9_999 + 3);
  t.equal(big.key().length, 10_000, 'large sets key in chunks');
});
