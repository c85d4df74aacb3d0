// The meta workload's checks on known good and known bad samples.
import t from 'tap';
import { canonicalJson, checkConvergence, checkLeaders, checkPrimaries } from './meta.js';

t.test('one leader per term', async (t) => {
  const good = [
    { time: 1, member: 'm1', role: 'leader', term: 2 },
    { time: 2, member: 'm2', role: 'follower', term: 2 },
    { time: 3, member: 'm1', role: 'leader', term: 2 },
    // A stale leader of an older term next to the new one is fine.
    { time: 4, member: 'm1', role: 'leader', term: 2 },
    { time: 4, member: 'm3', role: 'leader', term: 3 },
  ];
  t.match(checkLeaders(good), { valid: true, terms: 2 });
  const bad = checkLeaders([...good, { time: 5, member: 'm2', role: 'leader', term: 3 }]);
  t.equal(bad.valid, false);
  t.match(bad.detail, /term 3: m3 \(at 4 ms\) and m2 \(at 5 ms\)/);
  t.equal(checkLeaders([]).valid, 'unknown');
});

t.test('one primary per partition and epoch', async (t) => {
  const map = (member: string, time: number, parts: [number, string | null][]) => ({ member, time, applied: time, partitions: parts.map(([epoch, primary]) => ({ epoch, primary })) });
  const good = [
    map('m1', 1, [[1, 'n1'], [1, 'n2']]),
    map('m2', 2, [[1, 'n1'], [2, 'n3']]),
    map('m3', 3, [[2, 'n2'], [2, 'n3']]),
  ];
  t.match(checkPrimaries(good), { valid: true, epochs: 4 });
  const bad = checkPrimaries([...good, map('m2', 4, [[2, 'n1'], [2, 'n3']])]);
  t.equal(bad.valid, false);
  t.match(bad.detail, /partition 0 epoch 2: primary n2 on m3 \(at 3 ms\), n1 on m2 \(at 4 ms\)/);
  t.equal(checkPrimaries([map('m1', 1, [[3, null]]), map('m2', 2, [[3, 'n1']])]).valid, false, 'null and a node differ too');
  t.equal(checkPrimaries([]).valid, 'unknown');
});

t.test('convergence at equal applied indexes', async (t) => {
  const s = (member: string, applied: number, state: unknown) => ({ member, applied, state: canonicalJson(state) });
  const samples = [
    s('m1', 10, { a: 1, b: 2 }), s('m1', 11, { a: 1, b: 3 }),
    s('m2', 9, { a: 0 }), s('m2', 11, { b: 3, a: 1 }),
    s('m3', 10, { a: 1, b: 2 }),
  ];
  t.match(checkConvergence('m1', ['m1', 'm2', 'm3'], samples), { valid: true }, 'key order does not matter; indexes the leader lacks are skipped');
  const bad = checkConvergence('m1', ['m1', 'm2', 'm3'], [...samples, s('m3', 11, { a: 1, b: 4 })]);
  t.equal(bad.valid, false);
  t.match(bad.detail, /m3 differs from m1 at index 11/);
  t.equal(checkConvergence('m1', ['m1', 'm2', 'm4'], samples).valid, 'unknown', 'a member never seen at a common index is undecided');
  t.equal(checkConvergence('m9', ['m9', 'm1'], samples).valid, 'unknown');
});
