// Cluster counters in the meta state machine: counter-add adds and answers the new value,
// refuses bad names, deltas and overflow, bounds the number of counters, keeps its
// invariants and snapshots, and through client sessions applies a (client, seq) once.
import t from 'tap';
import { checkInvariants, checkTransition } from '../../src/meta/invariants.js';
import { encodeLoggedCommand, MetaMachine } from '../../src/meta/machine.js';
import { counterValue, MAX_COUNTERS } from '../../src/meta/counters.js';
import { apply, decodeState, encodeState } from '../../src/meta/state.js';
import { Driver } from './helpers.js';

t.test('counter-add adds and answers the new value', async (t) => {
  const d = new Driver();
  const early = d.run({ type: 'counter-add', name: 'catalogue', delta: 1 }, { expectReject: true });
  t.match(early, { ok: false, code: 'not-initialized' }, 'no counters before init-cluster');
  d.init();
  const version = d.state.version;
  t.match(d.ok({ type: 'counter-add', name: 'catalogue', delta: 1 }), { counter: { name: 'catalogue', delta: 1, value: 1 }, version });
  t.match(d.ok({ type: 'counter-add', name: 'catalogue', delta: 5 }), { counter: { value: 6 } });
  t.match(d.ok({ type: 'counter-add', name: 'other.one_2-x', delta: 1_000_000 }), { counter: { value: 1_000_000 } });
  t.same(d.state.counters, { catalogue: 6, 'other.one_2-x': 1_000_000 });
  t.equal(d.state.version, version, 'counters do not change the partition map version');
  t.equal(counterValue(d.state.counters, 'never'), 0, 'an unknown counter reads 0');

  const before = d.state;
  const after = apply(before, { type: 'counter-add', name: 'catalogue', delta: 1 }, d.now).state;
  t.equal(before.counters['catalogue'], 6, 'the input state is not changed');
  t.equal(after.counters['catalogue'], 7);
  t.ok(Object.isFrozen(after.counters), 'the table is frozen: a stray write fails loudly');
  const unrelated = apply(after, { type: 'settings', repairGraceMs: 2000 }, d.now).state;
  t.equal(unrelated.counters, after.counters, 'other commands share the table instead of copying it');
});

t.test('bad names, deltas and overflow are refused without a change', async (t) => {
  const d = new Driver().init();
  d.ok({ type: 'counter-add', name: 'c', delta: 1 });
  const bad: [object, RegExp][] = [
    [{ type: 'counter-add', name: '', delta: 1 }, /name/],
    [{ type: 'counter-add', name: '__proto__', delta: 1 }, /name/],
    [{ type: 'counter-add', name: '-x', delta: 1 }, /name/],
    [{ type: 'counter-add', name: 'a/b', delta: 1 }, /name/],
    [{ type: 'counter-add', name: 'x'.repeat(65), delta: 1 }, /name/],
    [{ type: 'counter-add', name: 'c', delta: 0 }, /delta/],
    [{ type: 'counter-add', name: 'c', delta: -1 }, /delta/],
    [{ type: 'counter-add', name: 'c', delta: 1.5 }, /delta/],
    [{ type: 'counter-add', name: 'c', delta: 1_000_001 }, /delta/],
    [{ type: 'counter-add', name: 'c', delta: '1' }, /delta/],
    [{ type: 'counter-add', name: 'c' }, /delta/],
    [{ type: 'counter-add', name: 'c', delta: 1, extra: true }, /unknown field "extra"/],
  ];
  for (const [command, why] of bad) {
    const before = d.state;
    const r = d.run(command, { expectReject: true });
    t.match(r, { ok: false, code: 'invalid', message: why }, JSON.stringify(command).slice(0, 60));
    t.equal(d.state, before, 'state unchanged');
  }
  // Near the top of the safe integers the add is refused, not rounded.
  const near = { ...d.state, counters: Object.freeze({ c: Number.MAX_SAFE_INTEGER - 1 }) };
  const top = apply(near, { type: 'counter-add', name: 'c', delta: 1 }, d.now);
  t.match(top.result, { ok: true, counter: { value: Number.MAX_SAFE_INTEGER } });
  const over = apply(top.state, { type: 'counter-add', name: 'c', delta: 1 }, d.now);
  t.match(over.result, { ok: false, code: 'limit-exceeded' });
  t.equal(over.state, top.state);
});

t.test('the number of counters is bounded', async (t) => {
  const d = new Driver().init();
  const full: Record<string, number> = {};
  for (let i = 0; i < MAX_COUNTERS; i++) full[`c${i}`] = 1;
  const s = { ...d.state, counters: Object.freeze(full) };
  checkInvariants(s);
  const refused = apply(s, { type: 'counter-add', name: 'one-more', delta: 1 }, d.now);
  t.match(refused.result, { ok: false, code: 'limit-exceeded' }, 'a new counter beyond the limit is refused');
  const existing = apply(s, { type: 'counter-add', name: 'c7', delta: 1 }, d.now);
  t.match(existing.result, { ok: true, counter: { value: 2 } }, 'existing counters still count');
});

t.test('invariants and transitions', async (t) => {
  const d = new Driver().init();
  d.ok({ type: 'counter-add', name: 'a', delta: 3 });
  const s = d.state;
  t.throws(() => checkInvariants({ ...s, counters: { a: 0 } }), /counter a holds 0/);
  t.throws(() => checkInvariants({ ...s, counters: { 'a b': 1 } }), /naming rule/);
  t.throws(() => checkInvariants({ ...s, counters: { a: 1.5 } }), /holds 1.5/);
  t.throws(() => checkTransition(s, { ...s, counters: { a: 2 } }), /went back from 3 to 2/);
  t.throws(() => checkTransition(s, { ...s, counters: {} }), /disappeared/);
  t.doesNotThrow(() => checkTransition(s, { ...s, counters: { a: 4, b: 1 } }));
});

t.test('snapshots keep counters; older snapshots without them decode to none', async (t) => {
  const d = new Driver().init();
  d.ok({ type: 'counter-add', name: 'a', delta: 3 });
  const back = decodeState(encodeState(d.state));
  t.same(back.counters, { a: 3 });
  t.match(apply(back, { type: 'counter-add', name: 'a', delta: 1 }, d.now).result, { ok: true, counter: { value: 4 } });
  const doc = JSON.parse(new TextDecoder().decode(encodeState(d.state))) as { state: Record<string, unknown> };
  delete doc.state['counters'];
  t.same(decodeState(new TextEncoder().encode(JSON.stringify(doc))).counters, {}, 'a snapshot from before counters');
  doc.state['counters'] = { a: -1 };
  t.throws(() => decodeState(new TextEncoder().encode(JSON.stringify(doc))), /counters\.a/);
  doc.state['counters'] = { 'bad name': 1 };
  t.throws(() => decodeState(new TextEncoder().encode(JSON.stringify(doc))), /naming rule/);
  doc.state['counters'] = [1];
  t.throws(() => decodeState(new TextEncoder().encode(JSON.stringify(doc))), /counters must be an object/);
});

t.test('through client sessions a (client, seq) adds once, and survives a snapshot', async (t) => {
  const m = MetaMachine.empty();
  let index = 0;
  const entry = (clientId: string, seq: number, command: object) => ({
    index: ++index, term: 1, type: 'command' as const, data: encodeLoggedCommand(clientId, seq, { nowMs: 1000 + index, command }),
  });
  m.applyEntry(entry('admin', 1, { type: 'init-cluster', clusterId: 'c', partitions: 4, replication: 1 }));
  const add = { type: 'counter-add', name: 'n', delta: 1 };
  t.match(m.applyEntry(entry('c1', 1, add)), { ok: true, counter: { value: 1 } });
  t.match(m.applyEntry(entry('c2', 1, add)), { ok: true, counter: { value: 2 } });
  t.match(m.applyEntry(entry('c1', 1, add)), { ok: true, counter: { value: 1 } }, 'a retry answers the recorded value');
  t.equal(m.state.counters['n'], 2, 'and adds nothing');
  t.match(m.applyEntry(entry('c1', 2, add)), { ok: true, counter: { value: 3 } });
  t.match(m.applyEntry(entry('c1', 1, add)), { ok: false, code: 'stale-sequence' }, 'an older sequence is stale');
  const restored = MetaMachine.restore(m.snapshot(), m.applied);
  index = restored.applied;
  const again = (clientId: string, seq: number) => restored.applyEntry({ index: ++index, term: 2, type: 'command', data: encodeLoggedCommand(clientId, seq, { nowMs: 5000, command: add }) });
  t.match(again('c1', 2), { ok: true, counter: { value: 3 } }, 'after a restore a retry still gets its recorded value');
  t.equal(restored.state.counters['n'], 3);
  t.match(again('c2', 2), { ok: true, counter: { value: 4 } });
});
