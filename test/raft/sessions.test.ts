// Client sessions (dissertation §6.3): exactly-once application per (client, seq), the
// command encoding, and deterministic eviction.
import t from 'tap';
import { decodeSessionCommand, encodeSessionCommand, SessionTable, type SessionOutcome } from '../../src/raft/sessions.js';
import { Rng } from '../../src/raft/sim/rng.js';

const SEED = 1234;
t.comment(`seed ${SEED}`);

t.test('a (client, seq) is applied once; a retry gets the cached result; older is stale', async (t) => {
  const table = new SessionTable<string>();
  let runs = 0;
  const run = (r: string) => () => {
    runs++;
    return r;
  };
  t.same(table.apply('c1', 1, 10, run('first')), { kind: 'applied', result: 'first' });
  t.same(table.apply('c1', 1, 11, run('again')), { kind: 'duplicate', result: 'first' }, 'the retry sees the first result');
  t.equal(runs, 1, 'and did not run again');
  t.same(table.apply('c1', 2, 12, run('second')), { kind: 'applied', result: 'second' });
  t.same(table.apply('c1', 1, 13, run('late')), { kind: 'stale' }, 'seq 1 is older than the session');
  t.same(table.apply('c1', 2, 14, run('x')), { kind: 'duplicate', result: 'second' });
  t.same(table.apply('c1', 5, 15, run('fifth')), { kind: 'applied', result: 'fifth' }, 'sequences may skip ahead');
  t.same(table.apply('c2', 1, 16, run('other')), { kind: 'applied', result: 'other' }, 'clients are independent');
  t.equal(runs, 4);
  t.equal(table.size(), 2);
});

t.test('eviction keeps the most recently applied sessions', async (t) => {
  const table = new SessionTable<number>(3);
  table.apply('c1', 1, 1, () => 1);
  table.apply('c2', 1, 2, () => 2);
  table.apply('c3', 1, 3, () => 3);
  table.apply('c1', 2, 4, () => 4); // c1 is now the most recent
  table.apply('c4', 1, 5, () => 5); // over the limit: c2, the least recent, goes
  t.equal(table.size(), 3);
  t.same(table.toJSON().map(([id]) => id), ['c3', 'c1', 'c4']);
  let ran = false;
  t.match(table.apply('c2', 1, 6, () => ((ran = true), 6)), { kind: 'applied' }, 'a forgotten session starts over');
  t.ok(ran);
  t.same(table.apply('c1', 2, 7, () => 0), { kind: 'duplicate', result: 4 }, 'c1 was kept');
});

t.test('eviction is deterministic: replicas and restored tables agree', async (t) => {
  const rng = new Rng(SEED);
  const ops = Array.from({ length: 2000 }, (_, i) => ({ client: `c${rng.int(0, 12)}`, seq: rng.int(1, 30), index: i + 1 }));
  const replicaA = new SessionTable<string>(5);
  let replicaB = new SessionTable<string>(5);
  const outA: SessionOutcome<string>[] = [];
  const outB: SessionOutcome<string>[] = [];
  for (const op of ops) {
    outA.push(replicaA.apply(op.client, op.seq, op.index, () => `${op.client}:${op.seq}@${op.index}`));
    outB.push(replicaB.apply(op.client, op.seq, op.index, () => `${op.client}:${op.seq}@${op.index}`));
    if (op.index % 250 === 0) {
      // B goes through a snapshot: serialized and restored.
      replicaB = SessionTable.fromJSON(JSON.parse(JSON.stringify(replicaB.toJSON())), 5);
    }
  }
  t.same(outB, outA, 'same outcome for every command');
  t.same(replicaB.toJSON(), replicaA.toJSON(), 'same sessions in the same order');
  t.equal(replicaA.size(), 5);
  const kinds = new Set(outA.map((o) => o.kind));
  t.same([...kinds].sort(), ['applied', 'duplicate', 'stale'], 'the workload exercised every outcome');
});

t.test('encode and decode round trip', async (t) => {
  const cases = [
    { clientId: 'c', seq: 1, payload: new Uint8Array(0) },
    { clientId: 'client-42', seq: 7, payload: new Uint8Array([0, 1, 2, 255]) },
    { clientId: 'étoile ✦ 星', seq: Number.MAX_SAFE_INTEGER, payload: new TextEncoder().encode('{"key":"v"}') },
    { clientId: 'x'.repeat(65535), seq: 2 ** 40 + 3, payload: new Uint8Array(1000).fill(9) },
  ];
  for (const cmd of cases) {
    const bytes = encodeSessionCommand(cmd);
    const back = decodeSessionCommand(bytes);
    t.equal(back.clientId, cmd.clientId);
    t.equal(back.seq, cmd.seq);
    t.same(Buffer.from(back.payload), Buffer.from(cmd.payload));
    // Also when the command sits inside a larger buffer (non-zero byteOffset).
    const outer = new Uint8Array(bytes.byteLength + 7);
    outer.set(bytes, 3);
    const inner = decodeSessionCommand(outer.subarray(3, 3 + bytes.byteLength));
    t.equal(inner.clientId, cmd.clientId);
    t.equal(inner.seq, cmd.seq);
  }
});

t.test('malformed commands are rejected', async (t) => {
  const good = encodeSessionCommand({ clientId: 'abc', seq: 5, payload: new Uint8Array([1, 2]) });
  const withSeq = (seq: number): Uint8Array => {
    const b = good.slice();
    new DataView(b.buffer).setFloat64(2 + 3, seq);
    return b;
  };
  const bad: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /too short/],
    ['nine bytes', good.subarray(0, 9), /too short/],
    ['zero-length client id', new Uint8Array(10), /truncated/],
    ['client id longer than the buffer', Uint8Array.from([0, 200, ...new Uint8Array(20)]), /truncated/],
    ['cut in the sequence', good.subarray(0, 12), /truncated/],
    ['NaN sequence', withSeq(NaN), /bad sequence/],
    ['zero sequence', withSeq(0), /bad sequence/],
    ['negative sequence', withSeq(-3), /bad sequence/],
    ['fractional sequence', withSeq(1.5), /bad sequence/],
    ['unsafe sequence', withSeq(2 ** 53), /bad sequence/],
  ];
  for (const [name, bytes, message] of bad) t.throws(() => decodeSessionCommand(bytes), { message }, name);
  const payload = new Uint8Array(0);
  t.throws(() => encodeSessionCommand({ clientId: '', seq: 1, payload }), /client id/);
  t.throws(() => encodeSessionCommand({ clientId: 'x'.repeat(65536), seq: 1, payload }), /client id/);
  for (const seq of [0, -1, 1.5, NaN, 2 ** 53]) {
    t.throws(() => encodeSessionCommand({ clientId: 'c', seq, payload }), /sequence/, `seq ${seq}`);
  }
});
