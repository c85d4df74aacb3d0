// A graceful handover in meta: `partition-reconfigure {primary, leaseReleased}` from the
// current primary appoints its successor in a new epoch and records the release, which
// the next epoch change drops again.
import t from 'tap';
import { validateCommand } from '../../src/meta/commands.js';
import { decodeState, encodeState } from '../../src/meta/state.js';
import { Driver } from './helpers.js';

t.test('validation of leaseReleased', async (t) => {
  const base = { type: 'partition-reconfigure', partition: 0, expectedEpoch: 3 };
  t.same(validateCommand({ ...base, primary: 'n2', leaseReleased: true }), { ...base, primary: 'n2', leaseReleased: true });
  t.same(validateCommand({ ...base, primary: 'n2', leaseReleased: false }), { ...base, primary: 'n2' }, 'false is the same as absent');
  t.throws(() => validateCommand({ ...base, remove: ['n2'], leaseReleased: true }), /needs "primary"/);
  t.throws(() => validateCommand({ ...base, primary: 'n2', leaseReleased: 'yes' }), /true or false/);
});

t.test('a handover records the release for exactly one epoch', async (t) => {
  const d = new Driver().init(4, 3).cluster(['n1', 'n2', 'n3']);
  const p = 0;
  const part = () => d.state.partitions[p]!;
  const old = part().primary!;
  const [next, other] = part().replicas.filter((id) => id !== old) as [string, string];
  const epoch = part().epoch;

  const self = d.run({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch, primary: old, remove: [other], leaseReleased: true }, { expectReject: true });
  t.match(self, { ok: false, code: 'conflict' }, 'a release must hand the partition to another replica');

  d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch, primary: next, leaseReleased: true });
  t.match(part(), { epoch: epoch + 1, primary: next, handover: { from: old, epoch: epoch + 1 } });
  t.ok(part().replicas.includes(old), 'without remove the old primary stays an in-sync replica');
  t.same(decodeState(encodeState(d.state)), d.state, 'the record survives a snapshot');

  d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch + 1, primary: other });
  t.equal(part().epoch, epoch + 2);
  t.equal(part().handover, undefined, 'a later epoch that was not a handover carries no release');
});

t.test('a draining primary hands over and leaves in one epoch', async (t) => {
  const d = new Driver().init(4, 3).cluster(['n1', 'n2', 'n3', 'n4']);
  const p = d.state.partitions.findIndex((x) => x.replicas.length === 3);
  const part = () => d.state.partitions[p]!;
  const old = part().primary!;
  const next = part().replicas.find((id) => id !== old)!;
  const epoch = part().epoch;
  const r = d.ok({ type: 'partition-reconfigure', partition: p, expectedEpoch: epoch, primary: next, remove: [old], leaseReleased: true });
  t.match(part(), { epoch: epoch + 1, primary: next, handover: { from: old, epoch: epoch + 1 } });
  t.notOk(part().replicas.includes(old));
  t.ok(r.planId !== undefined, 'the departed replica is replaced by a plan');
});
