import t from 'tap';
import { apply, decodeState, encodeState, initialState } from '../../src/meta/state.js';
import { Driver } from './helpers.js';

t.test('round trip of a busy state', async (t) => {
  const d = new Driver().init(16, 3).cluster(['n1', 'n2', 'n3', 'n4'], (id) => (id === 'n4' ? { zone: 'z2' } : {}));
  d.ok({ type: 'node-state', nodeId: 'n2', state: 'down' });
  d.ok({ type: 'revoke', credentialId: 'c1', expiresAt: 99_000 });
  d.ok({ type: 'meta-members', members: [{ id: 'm1', url: 'http://m1:7100' }] });
  const bytes = encodeState(d.state);
  t.ok(bytes instanceof Uint8Array);
  const back = decodeState(bytes);
  t.same(back, d.state);
  t.same(encodeState(back), bytes, 'encoding is stable');

  // The restored copy goes on exactly like the original.
  const cmd = { type: 'node-state', nodeId: 'n2', state: 'up' };
  t.same(apply(back, cmd, 5_000), apply(d.state, cmd, 5_000));
  t.same(decodeState(encodeState(initialState())), initialState());
});

t.test('damaged snapshots are refused with a clear error', async (t) => {
  const d = new Driver().init(4, 1).cluster(['n1']);
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  const good = JSON.parse(new TextDecoder().decode(encodeState(d.state))) as { state: Record<string, unknown> };
  t.throws(() => decodeState(new Uint8Array([0xff, 0xfe])), /not UTF-8 JSON/);
  t.throws(() => decodeState(enc([])), /must be an object/);
  t.throws(() => decodeState(enc({ ...good, format: 'other' })), /format/);
  t.throws(() => decodeState(enc({ ...good, v: 2 })), /version 2 is not supported/);
  t.throws(() => decodeState(enc({ ...good, state: { ...good.state, partitions: 'x' } })), /partitions must be an array/);
  t.throws(() => decodeState(enc({ ...good, state: { ...good.state, version: -1 } })), /version must be/);
  const parts = good.state['partitions'] as { primary: string | null }[];
  const broken = { ...good, state: { ...good.state, partitions: parts.map((p) => ({ ...p, primary: 'nobody' })) } };
  t.throws(() => decodeState(enc(broken)), /invariant broken: partition 0: primary nobody is not a replica/);
});
