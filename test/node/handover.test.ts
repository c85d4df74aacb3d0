// Primaries between real processes: after nodes join one by one (n1 first holds every
// partition), each primary moves to the placement's preferred replica through a graceful
// handover, so every node leads some partitions. Then SIGTERM of a node that leads some
// partitions while clients write: it hands them over and exits 0; no acknowledged write is
// lost, writes resume on the new primaries, no read is stale, and no two nodes ever hold
// a partition's read lease at the same time.
import t from 'tap';
import { preferredPrimary } from '../../src/node/replication/handover-core.js';
import { startCluster } from './cluster.js';
import { checkNothingLost, counterKeys, startCounterLoad } from './counter-load.js';
import { prng, seedFor } from './store/helpers.js';

const PARTITIONS = 12;

interface LeaseSample {
  readonly node: string;
  readonly partition: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly remainingMs: number;
}

t.test('primaries spread after the nodes join, and a SIGTERM hands them over', async (t) => {
  const seed = seedFor(t);
  const rand = prng(seed);
  const c = await startCluster(t, { nodes: 3, partitions: PARTITIONS });

  await t.test('each node leads the partitions placement prefers it for', async (t) => {
    const map = await c.settled(3);
    const spread = await (async () => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        const m = await c.map();
        const ok = m.partitions.every((p, i) => p.primary === preferredPrimary(i, m.nodes, 3) && p.learners.length === 0 && p.replicas.length === 3);
        if (ok) return m;
      }
      return null;
    })();
    t.ok(spread !== null, `every partition is led by its preferred replica (${JSON.stringify((spread ?? map).partitions.map((p) => p.primary))})`);
    const led = new Map<string, number>();
    for (const p of (spread ?? map).partitions) led.set(p.primary!, (led.get(p.primary!) ?? 0) + 1);
    t.equal(led.size, 3, `every node leads some partitions: ${JSON.stringify([...led])}`);
    await c.settled(3);
  });

  await t.test('SIGTERM of a primary during writes', async (t) => {
    const token = c.token('client');
    const admin = c.token('admin');
    const keys = counterKeys('drain', 12);
    let stop = false;
    const overlaps: string[] = [];
    /** `partition:from` of every handover record seen in meta's map. */
    const handoversSeen = new Set<string>();

    // Every node's view of its leases, sampled together. Two leases of one partition overlap
    // for certain when one node still held its lease after another node answered with its own.
    const leaseWatch = async (): Promise<void> => {
      while (!stop) {
        const samples: LeaseSample[] = [];
        const seen = c.map().then((m) => m.partitions.forEach((p, i) => {
          if (p.handover !== undefined) handoversSeen.add(`${i}:${p.handover.from}`);
        }), () => undefined);
        await Promise.all(c.nodes.filter((n) => n.proc !== null).map(async (n) => {
          const sentAt = performance.now();
          const res = await fetch(`${n.url}/v1/status`, { headers: { authorization: `Bearer ${admin}` }, signal: AbortSignal.timeout(2000) }).catch(() => null);
          if (res === null || !res.ok) return;
          const body = (await res.json()) as { partitions: { partition: number; lease?: boolean; leaseRemainingMs?: number }[] };
          const answeredAt = performance.now();
          for (const p of body.partitions) {
            if (p.lease === true) samples.push({ node: n.id, partition: p.partition, sentAt, answeredAt, remainingMs: p.leaseRemainingMs ?? 0 });
          }
        }));
        await seen;
        for (const a of samples) {
          for (const b of samples) {
            if (a.partition === b.partition && a.node !== b.node && b.answeredAt < a.sentAt + a.remainingMs) {
              overlaps.push(`partition ${a.partition}: ${a.node} held its lease for ${a.remainingMs} ms while ${b.node} held one`);
            }
          }
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    const load = startCounterLoad(t, c, keys, token, rand);
    const watching = leaseWatch();
    // Writes flowing on every key (bounded: the machine may be slow).
    await load.until(() => 2, 30_000);
    const map = await c.map();
    const led = new Map<string, number>();
    for (const k of keys) {
      const id = map.partitions[c.partitionOf(k.key)]!.primary!;
      led.set(id, (led.get(id) ?? 0) + 1);
    }
    const victimId = [...led].sort((a, b) => b[1] - a[1])[0]![0];
    const victim = c.node(victimId);
    const ledByVictim = map.partitions.filter((p) => p.primary === victimId).length;
    const ackedBefore = keys.map((k) => k.acked);
    t.ok(ackedBefore.every((n) => n > 0), 'writes were acknowledged before the SIGTERM');
    const proc = victim.proc!;
    const termAt = Date.now();
    proc.kill('SIGTERM');
    const code = await Promise.race([proc.exited(), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    const exitedIn = Date.now() - termAt;
    victim.proc = null;
    t.equal(code, 0, `${victimId} (primary of ${ledByVictim} partitions) exited 0 after ${exitedIn} ms`);

    const after = await c.map();
    t.ok(after.partitions.every((p) => p.primary !== victimId && !p.replicas.includes(victimId)), `${victimId} left every in-sync set before it exited`);

    const resumed = await load.until((i) => ackedBefore[i]! + 5, 30_000);
    const resumedIn = Date.now() - termAt;
    stop = true;
    await Promise.all([load.stop(), watching]);
    t.ok(resumed, `writes resumed on the new primaries (${resumedIn} ms after the SIGTERM)`);
    t.comment(`seed ${seed}; refused writes: ${JSON.stringify([...load.failures])}`);
    t.equal(load.staleReads(), 0, 'no stale read');
    const ledBefore = map.partitions.flatMap((p, i) => (p.primary === victimId ? [i] : []));
    t.same(ledBefore.filter((p) => !handoversSeen.has(`${p}:${victimId}`)), [], `meta recorded a handover from ${victimId} for each partition it led (${ledBefore.join(', ')})`);
    t.same(overlaps.slice(0, 5), [], 'never two read leases of one partition at once');

    await checkNothingLost(t, c, keys, token);
    if (!t.passing()) t.comment([proc, ...c.nodes.flatMap((n) => n.proc ?? [])].map((p) => `--- ${p.name}\n${p.output().slice(-20000)}`).join("\n"));
  });
});
