import t from 'tap';
import { Bitset } from './bitset.js';
import { ConfigCache } from './memo.js';

function bits(size: number, ...set: number[]): Bitset {
  const b = new Bitset(size);
  for (const i of set) b.set(i);
  return b;
}

t.test('without unknown operations it is the plain (linearized set, state) cache', async (t) => {
  const c = new ConfigCache();
  const none = bits(0);
  t.equal(c.visit(bits(3, 0), none, 's'), true);
  t.equal(c.visit(bits(3, 0), none, 's'), false, 'same set, same state');
  t.equal(c.visit(bits(3, 0), none, 't'), true, 'other state');
  t.equal(c.visit(bits(3, 0, 1), none, 's'), true, 'other set');
});

t.test('fewer unknown operations dominate more, never the reverse', async (t) => {
  const c = new ConfigCache();
  const d = bits(4, 1, 2);
  t.equal(c.visit(d, bits(5, 0, 3), 's'), true);
  t.equal(c.visit(d, bits(5, 0, 3, 4), 's'), false, 'a superset of a visited set is dominated');
  t.equal(c.visit(d, bits(5, 0), 's'), true, 'a subset is not: it has more left to use');
  t.equal(c.visit(d, bits(5, 1), 's'), true, 'an incomparable set is not');
  t.equal(c.visit(d, bits(5, 0, 3), 's'), false, 'dominated by {0} now');
  t.equal(c.visit(d, bits(5, 1, 2), 's'), false, 'dominated by {1}');
  t.equal(c.visit(d, bits(5), 's'), true, 'the empty set dominates all');
  t.equal(c.visit(d, bits(5, 2), 's'), false);
  t.equal(c.visit(bits(4, 1), bits(5, 2), 's'), true, 'only configurations with the same ok set compare');
  t.equal(c.visit(d, bits(5, 2), 'other'), true, 'only configurations with the same state compare');
});
