import t from 'tap';
import { checkSet } from './set.js';
import type { SetInput, SetOutput } from './set.js';
import { buildHistory } from './testkit/build.js';
import type { Spec } from './testkit/build.js';

type S = Spec<SetInput<string>, SetOutput<string>>;
const add = (p: number, call: number, ret: number | null, value: string, status: 'ok' | 'fail' | 'info' = 'ok'): S => ({
  p, call, ret, input: { f: 'add', value }, status,
});
const read = (p: number, call: number, ret: number, seen: string[]): S => ({ p, call, ret, input: { f: 'read' }, output: seen });

t.test('every acknowledged add is in the final read', async (t) => {
  const r = checkSet(buildHistory([add(0, 0, 1, 'a'), add(1, 0, 2, 'b'), read(2, 3, 4, ['a']), read(2, 5, 6, ['a', 'b'])]));
  t.same(r, {
    valid: true,
    finalRead: 3,
    attempted: 2,
    acknowledged: 2,
    lost: [],
    unexpected: [],
    failedButPresent: [],
    duplicated: [],
    recovered: [],
  });
});

t.test('lost, unexpected, failed-but-present and duplicated elements are reported', async (t) => {
  const r = checkSet(
    buildHistory([
      add(0, 0, 1, 'a'),
      add(0, 2, 3, 'b'),
      add(1, 0, 1, 'c', 'fail'),
      add(2, 0, 1, 'd', 'info'),
      add(3, 0, 1, 'e', 'info'),
      read(4, 10, 11, ['a', 'c', 'd', 'z', 'a']),
    ]),
  );
  t.equal(r.valid, false);
  t.same(r.lost, ['b']);
  t.same(r.unexpected, ['z']);
  t.same(r.failedButPresent, ['c']);
  t.same(r.duplicated, ['a']);
  t.same(r.recovered, ['d'], 'an unknown add may or may not be there');
  t.equal(r.acknowledged, 2);
  t.equal(r.attempted, 4);
});

t.test('adds acknowledged after the final read began need not be in it', async (t) => {
  const r = checkSet(buildHistory([add(0, 0, 1, 'a'), add(1, 5, 12, 'late'), read(2, 10, 11, ['a'])]));
  t.equal(r.valid, true);
  t.same(r.lost, []);
  const seen = checkSet(buildHistory([add(0, 0, 1, 'a'), add(1, 5, 12, 'late'), read(2, 10, 11, ['a', 'late'])]));
  t.same(seen.recovered, ['late']);
});

t.test('the read that completed last is the final one', async (t) => {
  const r = checkSet(buildHistory([add(0, 0, 1, 'a'), read(1, 2, 20, ['a']), read(2, 3, 4, [])]));
  t.equal(r.finalRead, 1);
  t.equal(r.valid, true);
});

t.test('bad input is refused', async (t) => {
  t.throws(() => checkSet(buildHistory([add(0, 0, 1, 'a')])), /checkSet: the history has no successful read/);
  const odd: S = { p: 1, call: 2, ret: 3, input: { f: 'read' }, output: undefined };
  t.throws(() => checkSet(buildHistory([add(0, 0, 1, 'a'), odd])), /read op 1 must return an array/);
});
