// `opera meta start --peer-raft`: a member dials the named peers at the given addresses
// (here, proxies) instead of the addresses in the log.
import { join } from 'node:path';
import t from 'tap';
import { parsePeerRaft } from '../../src/meta/member-files.js';
import { FaultProxy } from '../jepsen/net/proxy.js';
import { eventually, runOpera, spawnOpera } from '../helpers/processes.js';
import { FAST_ENV, startMetaCluster } from './cluster-helpers.js';

t.test('parsePeerRaft', async (t) => {
  t.same([...parsePeerRaft('m2=127.0.0.1:9002, m3=localhost:9003')], [['m2', '127.0.0.1:9002'], ['m3', 'localhost:9003']]);
  t.same([...parsePeerRaft('')], []);
  t.throws(() => parsePeerRaft('m2'), /ID=HOST:PORT/);
  t.throws(() => parsePeerRaft('m2=127.0.0.1'), /HOST:PORT/);
  t.throws(() => parsePeerRaft('M2=127.0.0.1:1'), /member id/);
  t.throws(() => parsePeerRaft('m2=a:1,m2=b:2'), /twice/);
});

t.test('a bad --peer-raft is a usage error', async (t) => {
  const r = await runOpera(['meta', 'start', '--dir', '/nonexistent', '--peer-raft', 'm2'], {}, 20_000);
  t.not(r.code, 0);
  t.match(r.stderr + r.stdout, /ID=HOST:PORT/);
});

t.test('a member dials its peers through the given addresses', async (t) => {
  const meta = await startMetaCluster(t, 3);
  const status = await meta.client().status();
  const raftOf = (id: string): { host: string; port: number } => {
    const m = status.members.find((x) => x.id === id)!;
    const [host, port] = m.raft!.split(':') as [string, string];
    return { host, port: Number(port) };
  };
  const proxies = ['m2', 'm3'].map((id) => new FaultProxy(`m1->${id}`, raftOf(id)));
  for (const p of proxies) {
    await p.start();
    t.teardown(() => p.stop());
  }
  await meta.kill('m1');
  const m1 = spawnOpera(t, 'm1', ['meta', 'start', '--dir', join(meta.dir, 'm1'), '--peer-raft', `m2=${proxies[0]!.address},m3=${proxies[1]!.address}`], FAST_ENV);
  meta.procs.set('m1', m1);
  // A follower only talks to the leader: at least that link goes through its proxy.
  await eventually('m1 dialling through a proxy', async () => (proxies.some((p) => p.connections > 0) ? true : undefined), 20_000)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${m1.output().slice(-3000)}`);
    });
  // With m1's outbound links cut, the leader never hears m1 acknowledge anything.
  const r = await meta.client().command({ type: 'settings', repairGraceMs: 12_345 });
  t.ok(r.ok);
  for (const p of proxies) p.block(['forward']);
  await meta.client().command({ type: 'settings', repairGraceMs: 23_456 });
  const leaderIndex = async (): Promise<number | null> => {
    const leader = await meta.leader();
    const s = await meta.statusOf(leader);
    return s?.members.find((m) => m.id === 'm1')?.matchIndex ?? null;
  };
  const before = await leaderIndex();
  t.not(before, null, 'm1 is a follower');
  await new Promise((r) => setTimeout(r, 800));
  const after = await leaderIndex();
  t.equal(after, before, 'no progress from m1 is heard while its links are blocked');
  for (const p of proxies) p.heal();
  await meta.client().command({ type: 'settings', repairGraceMs: 34_567 });
  await eventually('m1 acknowledged again after heal', async () => ((await leaderIndex() ?? 0) > (before ?? 0) ? true : undefined), 20_000);
});
