// Histories no linearization explains: the checker must reject each and say where.
import t from 'tap';
import { cas, on, read, write } from './testkit/build.js';
import { checkKeyed, checkRegister } from './testkit/check.js';

type Result = ReturnType<typeof checkRegister>;

/** The violation's witness; throws (failing the test) when the history was accepted. */
function violation(result: Result): Extract<Result, { valid: false }>['witness'] {
  if (result.valid !== false) throw new Error(`expected a violation, got ${JSON.stringify(result)}`);
  return result.witness;
}

/** Id of the operation the witness says could not be placed. */
const stuck = (result: Result): number => violation(result).stuck.id;

t.test('a stale read after a write completed', async (t) => {
  const r = checkRegister([write(0, 0, 1, 1), write(0, 2, 3, 2), read(1, 4, 5, 1)]);
  const w = violation(r);
  t.equal(w.stuck.id, 2, 'the read could not be placed');
  t.equal(w.linearized, 2, 'write(1), write(2) linearize');
  t.equal(w.state, '2');
  t.same(w.prefixTail.map((o) => o.id), [0, 1]);
  t.match(w.summary, /longest linearizable prefix has 2 operation\(s\)/);
  t.match(w.summary, /op 2 \(process 1, read → 1, \[4, 5\]\) returned before it could be placed/);
  t.equal(r.valid === false ? r.key : 'valid', undefined, 'a single register has no key');
});

t.test('reading absent after a write completed', async (t) => {
  t.equal(stuck(checkRegister([write(0, 0, 1, 'x'), read(1, 2, 3, null)])), 1);
});

t.test('two reads that see values in an order no linearization allows', async (t) => {
  // Both writes span everything. Reader 2 sees 1 then 2 (so 1 was written first),
  // reader 3 sees 2 then 1 (so 2 was written first): contradiction.
  const w = violation(
    checkRegister([
      write(0, 0, 50, 1),
      write(1, 0, 50, 2),
      read(2, 10, 20, 1),
      read(2, 30, 40, 2),
      read(3, 10, 20, 2),
      read(3, 30, 40, 1),
    ]),
  );
  t.ok([4, 5].includes(w.stuck.id), `a second read is stuck (${w.summary})`);
});

t.test('a read of a value never written', async (t) => {
  t.equal(stuck(checkRegister([write(0, 0, 10, 1), read(1, 2, 3, 99)])), 1);
  t.equal(stuck(checkRegister([write(0, 0, 1, 1), write(1, 0, 1, 2, 'fail'), read(2, 4, 5, 2)])), 2, 'only a failed write wrote it');
});

t.test('compare-and-set results that are impossible', async (t) => {
  t.equal(stuck(checkRegister([write(0, 0, 1, 1), cas(1, 2, 3, 2, 3, true)])), 1, 'succeeds on a mismatch');
  t.equal(stuck(checkRegister([write(0, 0, 1, 1), cas(1, 2, 3, 1, 3, false)])), 1, 'fails on a match');
  t.equal(stuck(checkRegister([cas(0, 0, 1, null, 'a', true), cas(1, 2, 3, null, 'b', true)])), 1, 'creates twice');
  // The lost update: two clients swap from the same value, concurrently; both win.
  t.ok(violation(checkRegister([write(0, 0, 1, 0), cas(1, 2, 6, 0, 1, true), cas(2, 3, 7, 0, 2, true)])).summary);
});

t.test('an unknown write happens at most once', async (t) => {
  t.equal(stuck(checkRegister([write(0, 0, 1, 1), write(1, 2, 3, 2, 'info'), read(2, 10, 11, 2), read(2, 12, 13, 1)])), 3);
  t.equal(
    stuck(checkRegister([write(0, 0, 1, 1), write(1, 2, 3, 2, 'info'), read(2, 10, 11, 2), read(2, 12, 13, 1), read(2, 14, 15, 2)])),
    3,
  );
});

t.test('many unknown writes cannot explain a value none of them wrote', async (t) => {
  const specs = Array.from({ length: 30 }, (_, i) => write(i, i, i + 1, i, 'info')).concat([read(99, 50, 51, 'x')]);
  t.equal(stuck(checkRegister(specs)), 30);
});

t.test('multi-key: the witness names the key', async (t) => {
  const r = checkKeyed([
    on('sol/earth', write(0, 0, 1, 'blue')),
    on('sol/earth', read(1, 2, 3, 'blue')),
    on('sol/mars', write(0, 4, 5, 'red')),
    on('sol/mars', write(0, 6, 7, 'rust')),
    on('sol/mars', read(1, 8, 9, 'red')),
  ]);
  t.equal(r.valid, false);
  if (r.valid === false) {
    t.equal(r.key, 'sol/mars');
    t.equal(r.witness.stuck.id, 4);
    t.match(r.witness.summary, /^key "sol\/mars": not linearizable/);
  }
});
