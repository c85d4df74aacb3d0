// Histories that admit a linearization: the checker must accept every one.
import t from 'tap';
import { cas, on, read, write } from './testkit/build.js';
import { checkKeyed, checkRegister } from './testkit/check.js';

t.test('trivial histories', async (t) => {
  t.same(checkRegister([]), { valid: true }, 'empty');
  t.same(checkRegister([read(0, 0, 1, null)]), { valid: true }, 'reading the initial absent value');
  t.same(checkRegister([write(0, 0, 1, 'a'), read(0, 2, 3, 'a')]), { valid: true }, 'sequential write then read');
});

t.test('concurrent writes and reads whose intervals admit an order', async (t) => {
  // write(1) and write(2) overlap; one reader sees 2 then 1, so 2 went first, then 1.
  t.same(
    checkRegister([
      write(0, 0, 10, 1),
      write(1, 2, 12, 2),
      read(2, 3, 5, 2),
      read(2, 6, 8, 1),
      read(3, 13, 14, 1),
    ]),
    { valid: true },
  );
  // Same writes; readers each see a single value while the writes are in flight.
  t.same(
    checkRegister([write(0, 0, 10, 1), write(1, 0, 10, 2), read(2, 1, 9, null), read(3, 1, 9, 1), read(4, 1, 9, 2)]),
    { valid: true },
  );
});

t.test('intervals that touch count as concurrent', async (t) => {
  t.same(checkRegister([write(0, 0, 5, 1), read(1, 5, 6, null)]), { valid: true });
});

t.test('unknown writes may take effect, even after the client gave up', async (t) => {
  t.same(
    checkRegister([write(0, 0, 1, 1), write(1, 2, 3, 2, 'info'), read(2, 10, 11, 2), read(2, 12, 13, 2)]),
    { valid: true },
    'observed later',
  );
  t.same(
    checkRegister([write(0, 0, 1, 1), write(1, 2, 3, 2, 'info'), read(2, 4, 5, 1), read(2, 100, 101, 2)]),
    { valid: true },
    'observed long after the client gave up',
  );
  t.same(
    checkRegister([write(0, 0, 1, 1), write(1, 2, null, 2, 'info'), read(2, 10, 11, 2)]),
    { valid: true },
    'still in flight when the history ends',
  );
});

t.test('unknown writes may never take effect', async (t) => {
  t.same(checkRegister([write(0, 0, 1, 1), write(1, 2, 3, 2, 'info'), read(2, 10, 11, 1)]), { valid: true });
  t.same(checkRegister([write(1, 0, 3, 2, 'info')]), { valid: true }, 'nothing but an unknown write');
  t.same(
    checkRegister(Array.from({ length: 30 }, (_, i) => write(i, i, i + 1, i, 'info')).concat([read(99, 50, 51, 7)])),
    { valid: true },
    'many unknown writes, one observed',
  );
});

t.test('compare-and-set', async (t) => {
  t.same(checkRegister([cas(0, 0, 1, null, 'a', true), read(0, 2, 3, 'a')]), { valid: true }, 'create if absent');
  t.same(
    checkRegister([write(0, 0, 1, 1), cas(1, 2, 3, 2, 3, false), cas(1, 4, 5, 1, 3, true), read(1, 6, 7, 3)]),
    { valid: true },
    'fails on mismatch, then succeeds',
  );
  // Two concurrent swaps from the same value: exactly one may win.
  t.same(
    checkRegister([write(0, 0, 1, 0), cas(1, 2, 6, 0, 1, true), cas(2, 3, 7, 0, 2, false), read(3, 8, 9, 1)]),
    { valid: true },
  );
  t.same(
    checkRegister([write(0, 0, 1, 0), cas(1, 2, 6, 0, 1, 'info'), read(3, 8, 9, 1)]),
    { valid: true },
    'an unknown cas that was observed',
  );
  t.same(
    checkRegister([write(0, 0, 1, 0), cas(1, 2, 6, 5, 1, 'info'), read(3, 8, 9, 0)]),
    { valid: true },
    'an unknown cas that could not have matched',
  );
});

t.test('failed operations are dropped', async (t) => {
  t.same(checkRegister([write(0, 0, 1, 1), write(1, 2, 3, 2, 'fail'), read(2, 4, 5, 1)]), { valid: true });
  t.same(checkRegister([write(0, 0, 1, 1), cas(1, 2, 3, 1, 2, 'fail'), read(2, 4, 5, 1)]), { valid: true });
});

t.test('multi-key: each key is checked on its own', async (t) => {
  t.same(
    checkKeyed([
      on('sol/earth', write(0, 0, 2, 'blue')),
      on('sol/mars', write(1, 1, 3, 'red')),
      on('sol/earth', read(2, 4, 5, 'blue')),
      on('sol/mars', read(2, 6, 7, 'red')),
      on('hip/71683', read(3, 0, 9, null)),
    ]),
    { valid: true },
  );
});
