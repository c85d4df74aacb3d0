// Repair end to end (not a test file): real meta members and `opera node start`
// processes (test/node/cluster.ts), a real sentinel probing them, and helpers to write a
// seeded set of objects and check every replica of every object byte for byte.
import { join } from 'node:path';
import type { Test } from 'tap';
import { loadClusterSecrets } from '../../src/crypto/secrets.js';
import type { Plan } from '../../src/meta/types.js';
import { startSentinel, type RunningSentinel } from '../../src/sentinel/start.js';
import type { SentinelSettings } from '../../src/sentinel/sentinel.js';
import { eventually } from '../helpers/processes.js';
import { randomInt } from '../helpers/prng.js';
import { quietLog } from '../sentinel/helpers.js';
import { get, objectUrl, startCluster, type ClusterOptions, type TestCluster, type TestNode } from '../node/cluster.js';

/** Probes every 250 ms; a node silent for 2 s is down. */
export const FAST_SENTINEL: SentinelSettings = {
  intervalMs: 250, timeoutMs: 200, suspectAfterMisses: 2, recoverAfterSuccesses: 2, downAfterMs: 2000, minStateMs: 500, quorum: 1, refreshMs: 1000,
};

export interface RepairCluster extends TestCluster {
  readonly sentinel: RunningSentinel;
  /** Meta's state of a node. */
  nodeState(id: string): Promise<string | undefined>;
  plans(): Promise<Plan[]>;
}

export async function startRepairCluster(
  t: Test, opts: ClusterOptions & { repairGraceMs: number; sentinel?: Partial<SentinelSettings> },
): Promise<RepairCluster> {
  const c = await startCluster(t, opts);
  const admin = c.meta.client();
  const set = await admin.command({ type: 'settings', repairGraceMs: opts.repairGraceMs });
  if (!set.ok) throw new Error(`settings: ${set.message}`);
  await c.settled(opts.replication ?? 3, 90_000);
  const secrets = await loadClusterSecrets(join(c.meta.dir, 'secrets.json'));
  const sentinel = await startSentinel({
    id: 's1',
    metaEndpoints: [...c.meta.apis.values()],
    credential: { kind: 'mint', authority: secrets.authority, subject: 's1' },
    settings: { ...FAST_SENTINEL, ...opts.sentinel },
    log: quietLog(),
    metaDeadlineMs: 3000,
  });
  t.teardown(() => sentinel.stop());
  return Object.assign(c, {
    sentinel,
    async nodeState(id: string) {
      return (await admin.state()).state.nodes[id]?.state;
    },
    async plans() {
      return (await admin.state()).state.plans;
    },
  });
}

/** Writes `count` objects of seeded random sizes and contents through each partition's primary. */
export async function writeObjects(
  c: TestCluster, rand: () => number, prefix: string, count: number, maxBytes: number,
): Promise<Map<string, Buffer>> {
  const token = c.token('client');
  const written = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}/system-${String(i).padStart(4, '0')}`;
    const body = Buffer.alloc(randomInt(rand, 0, maxBytes));
    for (let j = 0; j < body.length; j++) body[j] = Math.floor(rand() * 256);
    const p = c.partitionOf(key);
    let last = '';
    await eventually(`write ${key} (partition ${p})`, async () => {
      const record = (await c.map()).partitions[p]!;
      last = `map ${JSON.stringify(record)}`;
      if (record.primary === null) return undefined;
      const node = c.node(record.primary);
      if (node.proc === null) return undefined;
      // A paused primary never answers: each attempt is bounded.
      const res = await fetch(objectUrl(node, p, key), { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(3000) })
        .catch((err: Error) => { last += `; ${err.message}`; return undefined; });
      if (res === undefined) return undefined;
      const text = await res.text();
      if (res.status === 201 || res.status === 200) return true;
      last += `; ${record.primary} answered ${res.status} ${text.slice(0, 300)}`;
      if (res.status === 503 || res.status === 409 || res.status === 421) return undefined;
      throw new Error(last);
    }, 30_000, 100).catch((err: Error) => {
      const logs = c.nodes.map((n) => `--- ${n.id}\n${n.proc?.output().slice(-4000) ?? '(not running)'}`).join('\n');
      throw new Error(`${err.message}; last: ${last}\n${logs}`);
    });
    written.set(key, body);
  }
  return written;
}

/**
 * Every object on every in-sync replica of the current map (a consistency=any read from
 * each) and through the primary (linearizable): byte-equal to what was written.
 */
export async function verifyEveryReplica(t: Test, c: TestCluster, objects: ReadonlyMap<string, Buffer>, label: string): Promise<void> {
  const token = c.token('client');
  const map = await c.map();
  let checked = 0;
  const wrong: string[] = [];
  for (const [key, body] of objects) {
    const p = c.partitionOf(key);
    const record = map.partitions[p]!;
    for (const id of record.replicas) {
      const node = c.node(id);
      // A node learns a new epoch through its meta watch, a moment after the map says so:
      // a refusal (never wrong data) is asked again for a bounded time.
      let res: Response | undefined;
      let got = Buffer.alloc(0);
      for (let attempt = 0; attempt < 50; attempt++) {
        res = await get(node, token, p, key, id === record.primary ? '' : '?consistency=any');
        got = Buffer.from(await res.arrayBuffer());
        if (res.status !== 409 && res.status !== 503) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      checked++;
      if (res!.status !== 200 || !got.equals(body)) {
        wrong.push(`${key} on ${id}: ${res!.status}, ${got.length} of ${body.length} bytes${res!.status === 200 ? '' : ` (${got.toString('utf8', 0, 200)})`}`);
      }
    }
  }
  t.same(wrong, [], `${label}: ${checked} copies of ${objects.size} objects read back byte-equal`);
}

/** The partitions a node holds as an in-sync replica in the current map. */
export async function heldBy(c: TestCluster, id: string): Promise<number[]> {
  const map = await c.map();
  return map.partitions.flatMap((p, i) => (p.replicas.includes(id) ? [i] : []));
}

export async function waitNodeState(c: RepairCluster, id: string, state: string, timeoutMs = 30_000): Promise<void> {
  await eventually(`${id} ${state} in meta`, async () => ((await c.nodeState(id)) === state ? true : undefined), timeoutMs, 100);
}

/** The number the next plan will get: plans caused by what a test does next are numbered from here. */
export async function nextPlanNumber(c: RepairCluster): Promise<number> {
  return (await c.meta.client().state()).state.nextPlan;
}

const planNumber = (p: Plan): number => Number(p.id.slice('plan-'.length));

/**
 * The plans of `reason` caused by `node` since plan number `from`, once they cover
 * `partitions`. A node's loss may be planned in pieces: a primary that drops a silent
 * replica plans that partition's new copy at once, the node-down verdict plans the rest.
 */
export async function plansFor(
  c: RepairCluster, node: string, reason: Plan['reason'], from: number, partitions: readonly number[], timeoutMs = 60_000,
): Promise<Plan[]> {
  return eventually(`${reason} plans for ${node} covering partitions ${partitions.join(', ')}`, async () => {
    const plans = (await c.plans()).filter((p) => p.node === node && p.reason === reason && planNumber(p) >= from);
    const covered = new Set(plans.flatMap((p) => p.moves.map((m) => m.partition)));
    return partitions.every((p) => covered.has(p)) ? plans : undefined;
  }, timeoutMs, 100);
}

/** Waits until none of the plans is active; returns them as they ended. */
export async function plansFinished(c: RepairCluster, ids: readonly string[], timeoutMs = 120_000): Promise<Plan[]> {
  return eventually(`plans ${ids.join(', ')} finished`, async () => {
    const plans = (await c.plans()).filter((p) => ids.includes(p.id));
    return plans.length === ids.length && plans.every((p) => p.state !== 'active') ? plans : undefined;
  }, timeoutMs, 200);
}

/** Partitions sorted, without repeats, of the moves of `plans` matching `which`. */
export function movedPartitions(plans: readonly Plan[], which: (m: Plan['moves'][number]) => boolean = () => true): number[] {
  return [...new Set(plans.flatMap((p) => p.moves.filter(which).map((m) => m.partition)))].sort((a, b) => a - b);
}

export function running(c: TestCluster): TestNode[] {
  return c.nodes.filter((n) => n.proc !== null);
}
