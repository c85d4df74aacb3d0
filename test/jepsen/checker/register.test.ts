import t from 'tap';
import { UNKNOWN } from './history.js';
import type { Operation } from './history.js';
import { multiRegisterModel, registerModel } from './register.js';
import type { KeyedRegisterInput, RegisterOutput } from './register.js';

t.test('register: reads, writes and compare-and-set follow the sequential spec', async (t) => {
  const m = registerModel();
  const s0 = m.init();
  t.equal(s0, null, 'starts absent');
  t.same(m.step(s0, { f: 'read' }, null), { ok: true, state: null });
  t.same(m.step(s0, { f: 'read' }, 1), { ok: false, state: null });
  t.same(m.step(s0, { f: 'write', value: 1 }, undefined), { ok: true, state: 1 });
  t.same(m.step(1, { f: 'read' }, '1'), { ok: false, state: 1 }, 'the string "1" is not the number 1');
  t.same(m.step(1, { f: 'cas', expect: 1, value: 2 }, true), { ok: true, state: 2 });
  t.same(m.step(1, { f: 'cas', expect: 1, value: 2 }, false), { ok: false, state: 1 }, 'cas must not fail when it matches');
  t.same(m.step(3, { f: 'cas', expect: 1, value: 2 }, true), { ok: false, state: 2 }, 'cas must not succeed when it does not match');
  t.same(m.step(3, { f: 'cas', expect: 1, value: 2 }, false), { ok: true, state: 3 });
  t.same(m.step(null, { f: 'cas', expect: null, value: 5 }, true), { ok: true, state: 5 }, 'expect null = create if absent');
  t.same(m.step(5, { f: 'cas', expect: null, value: 6 }, false), { ok: true, state: 5 });
});

t.test('register: unknown outcomes are accepted in every state', async (t) => {
  const m = registerModel();
  t.same(m.step(7, { f: 'read' }, UNKNOWN), { ok: true, state: 7 });
  t.same(m.step(7, { f: 'write', value: 8 }, UNKNOWN), { ok: true, state: 8 });
  t.same(m.step(7, { f: 'cas', expect: 7, value: 9 }, UNKNOWN), { ok: true, state: 9 }, 'took effect and swapped');
  t.same(m.step(6, { f: 'cas', expect: 7, value: 9 }, UNKNOWN), { ok: true, state: 6 }, 'took effect, did not match');
});

t.test('register: bad input is a loud error, not a verdict', async (t) => {
  const m = registerModel();
  t.throws(() => m.step(1, { f: 'read' }, undefined), /a read must return a string, a number or null/);
  t.throws(() => m.step(1, { f: 'read' }, true), /a read must return/);
  t.throws(() => m.step(1, { f: 'cas', expect: 1, value: 2 }, 1), /a cas must return true or false/);
  t.throws(() => m.step(1, { f: 'write', value: NaN }, undefined), /write needs a string or number value/);
  t.throws(() => m.step(1, { f: 'delete' } as never, undefined), /unknown register operation/);
  t.equal(m.hash(1) === m.hash('1'), false, 'hash tells 1 from "1"');
  t.equal(m.hash(null) === m.hash('null'), false, 'hash tells null from "null"');
});

t.test('register: describes operations for witnesses', async (t) => {
  const m = registerModel();
  const d = m.describe;
  if (d === undefined) throw new Error('registerModel must describe operations');
  t.equal(d({ f: 'read' }, 3), 'read → 3');
  t.equal(d({ f: 'write', value: 'a' }, undefined), 'write("a")');
  t.equal(d({ f: 'write', value: 'a' }, UNKNOWN), 'write("a") → ?');
  t.equal(d({ f: 'cas', expect: null, value: 2 }, false), 'cas(null → 2) → false');
});

function op(id: number, input: KeyedRegisterInput, output: RegisterOutput | typeof UNKNOWN): Operation<KeyedRegisterInput, RegisterOutput> {
  const status = output === UNKNOWN ? 'info' : 'ok';
  return { id, process: id, call: id, ret: status === 'info' ? Infinity : id + 1, input, output, status };
}

t.test('multi-key register: keys are independent, partitioned in key order', async (t) => {
  const m = multiRegisterModel();
  let s = m.init();
  s = m.step(s, { key: 'b', f: 'write', value: 1 }, undefined).state;
  s = m.step(s, { key: 'a', f: 'write', value: 2 }, undefined).state;
  t.ok(m.step(s, { key: 'b', f: 'read' }, 1).ok);
  t.ok(m.step(s, { key: 'c', f: 'read' }, null).ok);
  t.notOk(m.step(s, { key: 'a', f: 'read' }, 1).ok);
  const before = m.hash(s);
  m.step(s, { key: 'a', f: 'write', value: 3 }, undefined);
  t.equal(m.hash(s), before, 'step never mutates the state it is given');
  const other = m.step(m.step(m.init(), { key: 'a', f: 'write', value: 2 }, undefined).state, { key: 'b', f: 'write', value: 1 }, undefined).state;
  t.equal(m.hash(other), m.hash(s), 'hash ignores insertion order');

  const ops = [
    op(0, { key: 'y', f: 'write', value: 1 }, undefined),
    op(1, { key: 'x', f: 'read' }, null),
    op(2, { key: 'y', f: 'read' }, UNKNOWN),
    op(3, { key: 'y', f: 'cas', expect: 1, value: 2 }, UNKNOWN),
    op(4, { key: 'x', f: 'write', value: 5 }, undefined),
  ];
  const parts = m.partition?.(ops) ?? [];
  t.same(
    parts.map((p) => p.map((o) => o.id)),
    [[1, 4], [0, 3]],
    'per key; the unknown read is left out, the unknown cas kept',
  );
  t.equal(m.keyOf?.(ops[0].input), 'y');
  t.throws(() => m.step(m.init(), { f: 'read' } as KeyedRegisterInput, null), /operation without a key/);
});
