// Each command's happy path and its rejections. A rejection must leave the state untouched.

import t, { type Test } from 'tap';
import { apply, initialState } from '../../src/meta/state.js';
import { validateCommand } from '../../src/meta/commands.js';
import { Driver } from './helpers.js';

const rejects = (t: Test, d: Driver, command: object, code: string, message?: RegExp): void => {
  const before = d.state;
  const r = d.run(command, { expectReject: true });
  t.equal(r.ok, false, `${JSON.stringify(command).slice(0, 80)} is rejected`);
  if (!r.ok) {
    t.equal(r.code, code);
    if (message !== undefined) t.match(r.message, message);
  }
  t.equal(d.state, before, 'state unchanged');
};

t.test('init-cluster', async (t) => {
  const d = new Driver();
  rejects(t, d, { type: 'node-join', nodeId: 'n1', url: 'http://a', publicKey: 'k', capacity: 1, tokenId: 't', tokenExpiresAt: 9e9 }, 'not-initialized');
  rejects(t, d, { type: 'init-cluster', clusterId: 'c', partitions: 0, replication: 3 }, 'invalid', /partitions/);
  rejects(t, d, { type: 'init-cluster', clusterId: 'c', partitions: 8, replication: 3, minInsync: 4 }, 'invalid', /minInsync/);
  rejects(t, d, { type: 'init-cluster', clusterId: 'c', partitions: 8, replication: 3, extra: 1 }, 'invalid', /unknown field "extra"/);
  rejects(t, d, { type: 'init-cluster', clusterId: '__proto__', partitions: 8, replication: 3 }, 'invalid', /clusterId/);
  const r = d.ok({ type: 'init-cluster', clusterId: 'c', partitions: 8, replication: 3, members: [{ id: 'm1', url: 'http://m1:7100' }] });
  t.equal(r.version, 1, 'the (empty) partition map appeared');
  t.same(d.state.settings, { clusterId: 'c', partitions: 8, replication: 3, minInsync: 2, repairGraceMs: 300_000 });
  t.same(d.state.members, { m1: 'http://m1:7100' });
  t.equal(d.state.partitions.length, 8);
  t.ok(d.state.partitions.every((p) => p.primary === null && p.replicas.length === 0 && p.epoch === 0));
  rejects(t, d, { type: 'init-cluster', clusterId: 'c2', partitions: 8, replication: 3 }, 'already-initialized');
});

t.test('malformed commands and time', async (t) => {
  const d = new Driver().init();
  for (const bad of [null, 42, 'x', [], {}, { type: 7 }, { type: 'nope' }]) {
    const out = apply(d.state, bad, 5);
    t.equal(out.result.ok, false);
    t.equal(out.state, d.state);
  }
  const out = apply(d.state, { type: 'rebalance' }, -1);
  t.match(out.result, { ok: false, code: 'invalid', message: /time/ });
  t.throws(() => validateCommand({ type: 'partition-reconfigure', partition: 0, expectedEpoch: 0 }), /must be given/);
  t.throws(() => validateCommand({ type: 'partition-reconfigure', partition: 0, expectedEpoch: 0, remove: ['a', 'a'] }), /twice/);
  t.throws(() => validateCommand({ type: 'move-progress', planId: 'p', partition: 0, target: 'n', bytesDone: 5, bytesTotal: 4 }), /bytesDone/);
});

t.test('meta-members and settings', async (t) => {
  const d = new Driver().init(8, 3);
  d.ok({ type: 'meta-members', members: [{ id: 'm1', url: 'http://m1' }, { id: 'm2', url: 'http://m2' }] });
  t.same(d.state.members, { m1: 'http://m1', m2: 'http://m2' });
  rejects(t, d, { type: 'meta-members', members: [{ id: 'm1', url: 'http://a' }, { id: 'm1', url: 'http://b' }] }, 'invalid', /twice/);
  rejects(t, d, { type: 'meta-members', members: [{ id: 'm1', url: 'not a url' }] }, 'invalid', /URL/);
  d.ok({ type: 'settings', minInsync: 3, repairGraceMs: 50 });
  t.match(d.state.settings, { minInsync: 3, repairGraceMs: 50 });
  rejects(t, d, { type: 'settings', minInsync: 4 }, 'invalid', /exceeds the replication factor/);
  rejects(t, d, { type: 'settings' }, 'invalid');
  rejects(t, d, { type: 'settings', partitions: 16 }, 'invalid', /unknown field/);
});

t.test('node-join: first node gets the map, tokens are single-use', async (t) => {
  const d = new Driver().init(8, 3);
  const r = d.join('n1', { zone: 'eu-1', capacity: 2 });
  t.equal(r.planId, undefined, 'the first node needs no plan');
  t.equal(r.version, 2, 'the partition map changed');
  t.ok(d.state.partitions.every((p) => p.primary === 'n1' && p.replicas.join() === 'n1' && p.epoch === 1));
  t.match(d.state.nodes['n1'], { state: 'joining', zone: 'eu-1', capacity: 2, since: 1000, lastHeartbeat: null });
  t.equal(d.state.usedTokens['tok-n1'], 61_000);

  rejects(t, d, { type: 'node-join', nodeId: 'n2', url: 'http://n2', publicKey: 'k2', capacity: 1, tokenId: 'tok-n1', tokenExpiresAt: 61_000 }, 'token-used');
  rejects(t, d, { type: 'node-join', nodeId: 'n2', url: 'http://n2', publicKey: 'k2', capacity: 1, tokenId: 'old', tokenExpiresAt: 1000 }, 'token-expired');
  rejects(t, d, { type: 'node-join', nodeId: 'n1', url: 'http://n1', publicKey: 'k9', capacity: 1, tokenId: 't9', tokenExpiresAt: 9e9 }, 'node-exists');
  rejects(t, d, { type: 'node-join', nodeId: 'n2', url: 'http://n2', publicKey: 'pk-n1', capacity: 1, tokenId: 't9', tokenExpiresAt: 9e9 }, 'conflict', /public key/);
  rejects(t, d, { type: 'node-join', nodeId: 'n2', url: 'http://n2', publicKey: 'k2', capacity: 0, tokenId: 't9', tokenExpiresAt: 9e9 }, 'invalid', /capacity/);
  rejects(t, d, { type: 'node-join', nodeId: 'n2', url: 'not a url', publicKey: 'k2', capacity: 1, tokenId: 't9', tokenExpiresAt: 9e9 }, 'invalid', /URL/);
  // Ids that collide with Object.prototype members are ordinary ids.
  const odd = new Driver().init(4, 1);
  odd.ok({ type: 'node-join', nodeId: 'constructor', url: 'http://n2', publicKey: 'k2', capacity: 1, tokenId: 'toString', tokenExpiresAt: 9e9 });
  t.equal(odd.state.nodes['constructor']?.state, 'joining');
  rejects(t, odd, { type: 'node-join', nodeId: 'hasOwnProperty', url: 'http://n3', publicKey: 'k3', capacity: 1, tokenId: 'toString', tokenExpiresAt: 9e9 }, 'token-used');

  // Used token ids are pruned once expired: by then an expired token is refused anyway.
  d.now = 70_000;
  d.join('n2');
  t.notOk(Object.hasOwn(d.state.usedTokens, 'tok-n1'), 'expired token id pruned');
  t.ok(Object.hasOwn(d.state.usedTokens, 'tok-n2'));
});

t.test('node-heartbeat', async (t) => {
  const d = new Driver().init(4, 1);
  d.join('n1');
  d.ok({ type: 'node-heartbeat', nodeId: 'n1', url: 'http://n1.new:7000' }, 2_000);
  t.match(d.state.nodes['n1'], { state: 'up', since: 2_000, lastHeartbeat: 2_000, url: 'http://n1.new:7000' });
  rejects(t, d, { type: 'node-heartbeat', nodeId: 'ghost' }, 'unknown-node');
  d.ok({ type: 'node-state', nodeId: 'n1', state: 'suspect' });
  d.ok({ type: 'node-heartbeat', nodeId: 'n1' }, 3_000);
  t.equal(d.state.nodes['n1']?.state, 'suspect', 'only the sentinel clears a suspicion');
  d.ok({ type: 'node-state', nodeId: 'n1', state: 'removed', force: true });
  rejects(t, d, { type: 'node-heartbeat', nodeId: 'n1' }, 'bad-transition', /removed/);
});

t.test('node-state transitions', async (t) => {
  const d = new Driver().init(4, 2).cluster(['n1', 'n2', 'n3']);
  rejects(t, d, { type: 'node-state', nodeId: 'n1', state: 'up' }, 'bad-transition', /already up/);
  rejects(t, d, { type: 'node-state', nodeId: 'n1', state: 'joining' }, 'invalid');
  rejects(t, d, { type: 'node-state', nodeId: 'nx', state: 'down' }, 'unknown-node');
  d.ok({ type: 'node-state', nodeId: 'n1', state: 'suspect' });
  d.ok({ type: 'node-state', nodeId: 'n1', state: 'up' });
  d.ok({ type: 'node-state', nodeId: 'n1', state: 'down' }, 5_000);
  t.match(d.state.nodes['n1'], { state: 'down', since: 5_000 });
  rejects(t, d, { type: 'node-state', nodeId: 'n1', state: 'draining' }, 'bad-transition', /from down to draining/);
  d.ok({ type: 'node-state', nodeId: 'n2', state: 'draining' });
  rejects(t, d, { type: 'node-state', nodeId: 'n2', state: 'suspect' }, 'bad-transition');
  d.ok({ type: 'node-state', nodeId: 'n3', state: 'removed', force: true });
  for (const s of ['up', 'down', 'suspect', 'draining']) rejects(t, d, { type: 'node-state', nodeId: 'n3', state: s }, 'bad-transition');
});

t.test('revoke', async (t) => {
  const d = new Driver().init();
  d.ok({ type: 'revoke', credentialId: 'cred-1', expiresAt: 10_000 });
  d.ok({ type: 'revoke', credentialId: 'cred-1', expiresAt: 5_000 });
  t.equal(d.state.revoked['cred-1'], 10_000, 'a second revocation keeps the later expiry');
  d.ok({ type: 'revoke', credentialId: 'old', expiresAt: 500 });
  t.notOk(Object.hasOwn(d.state.revoked, 'old'), 'an already expired credential needs no entry');
  d.ok({ type: 'revoke', credentialId: 'cred-2', expiresAt: 99_000 }, 20_000);
  t.same(d.state.revoked, { 'cred-1': 10_000, 'cred-2': 99_000 }, 'an expired entry stays until the clock crosses a minute');
  d.ok({ type: 'settings', repairGraceMs: 1_000 }, 60_000);
  t.same(d.state.revoked, { 'cred-2': 99_000 }, 'then any command prunes the expired entries');
  const before = d.state;
  d.ok({ type: 'revoke', credentialId: 'cred-3', expiresAt: 99_000 }, 61_000);
  t.equal(d.state.partitions, before.partitions, 'a revoke shares the partition map with the previous state');
  t.ok(Object.isFrozen(d.state.partitions[0]), 'and the shared records are frozen, so a stray write fails loudly');
  rejects(t, d, { type: 'revoke', credentialId: 'x y', expiresAt: 1 }, 'invalid');
  const fresh = apply(initialState(), { type: 'revoke', credentialId: 'c', expiresAt: 9 }, 1);
  t.match(fresh.result, { ok: false, code: 'not-initialized' });
});

t.test('time never runs backwards inside the machine', async (t) => {
  const d = new Driver().init(4, 1);
  d.join('n1');
  d.ok({ type: 'node-heartbeat', nodeId: 'n1' }, 9_000);
  d.ok({ type: 'node-heartbeat', nodeId: 'n1' }, 4_000);
  t.equal(d.state.nodes['n1']?.lastHeartbeat, 9_000);
  t.equal(d.state.clock, 9_000);
});
