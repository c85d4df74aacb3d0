// The textbook examples (Herlihy & Wing; the Porcupine and Knossos documentation),
// retold with our own values and times.
import t from 'tap';
import { cas, read, write } from './testkit/build.js';
import { checkRegister } from './testkit/check.js';

t.test('a write overlapped by two reads that disagree, yet both are right', async (t) => {
  // A writes "lyra" over [0, 100]. B's read (25..75) sees it; C's read (30..60) does not.
  // Order: C's read, the write, B's read: each inside its own interval.
  t.same(
    checkRegister([write('A', 0, 100, 'lyra'), read('B', 25, 75, 'lyra'), read('C', 30, 60, null)]),
    { valid: true },
  );
});

t.test('the same, except the reader who saw the write finished first', async (t) => {
  // B saw "lyra" and returned at 30; C started at 40, so the write was already in
  // place for C: its null cannot be explained.
  const r = checkRegister([write('A', 0, 100, 'lyra'), read('B', 10, 30, 'lyra'), read('C', 40, 90, null)]);
  t.equal(r.valid, false);
  if (r.valid === false) t.equal(r.witness.stuck.input.f, 'read');
});

t.test('sequentially consistent but not linearizable', async (t) => {
  // Reordering the read before the write explains each process's own view, but the
  // write had completed before the read began: real time forbids it.
  t.equal(checkRegister([write(0, 0, 1, 1), read(1, 2, 3, null)]).valid, false);
});

t.test('a read may see a write before the write returns', async (t) => {
  t.same(checkRegister([write(0, 0, 10, 1), read(1, 1, 2, 1), read(1, 3, 4, 1)]), { valid: true });
  // ...but once seen, the old value cannot come back.
  t.equal(checkRegister([write(0, 0, 10, 1), read(1, 1, 2, 1), read(1, 3, 4, null)]).valid, false);
});

t.test('a compare-and-set register with a crashed client', async (t) => {
  // Five clients. The one that swapped 0 → 1 crashed before hearing back; others then
  // saw 1 and swapped on from it, so the crashed swap must have happened.
  const base = [
    write(0, 0, 1, 0),
    cas(1, 2, 5, 0, 1, 'info'),
    read(2, 6, 7, 1),
    cas(3, 8, 9, 1, 2, true),
    read(4, 10, 11, 2),
  ];
  t.same(checkRegister(base), { valid: true });
  // A later read of 1 would need the crashed swap to happen twice.
  t.equal(checkRegister([...base, read(2, 12, 13, 1)]).valid, false);
  // A later swap from 0 succeeding needs the register to go back to 0: nobody wrote it.
  t.equal(checkRegister([...base, cas(0, 12, 13, 0, 3, true)]).valid, false);
});
