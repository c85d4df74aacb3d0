// The data plane under test, laid out like `opera dev` (src/dev/cluster.ts): 3 meta
// members, a gateway, storage nodes and a sentinel, each its own `opera` process on a free
// 127.0.0.1 port, with production durability. Started through the harness's process
// group (so every process is tracked for memory, profiled with --profile and always
// stopped) rather than dev's supervisor, which cannot pass Node flags.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadClusterSecrets } from '../src/crypto/secrets.js';
import { mintToken } from '../src/crypto/tokens.js';
import { bootstrapCluster, ADMIN_TOKEN_FILE } from '../src/meta/bootstrap.js';
import { MetaClient } from '../src/meta/client.js';
import { preferredPrimary } from '../src/node/replication/handover-core.js';
import { projectRoot } from './meta-cluster.js';
import { freePorts, GiveUp, waitFor } from './ports.js';
import type { Managed, ProcessGroup } from './procs.js';
import type { RssSampler } from './proc-stats.js';

const operaBin = join(projectRoot, 'bin', 'opera.js');

/** As in `opera dev`: a node loss is repaired after seconds, not production's minutes. */
export const REPAIR_GRACE_MS = 10_000;
export const PARTITIONS = 16;
export const REPLICATION = 3;
/** The nodes' default repair bandwidth (`opera node start --repair-bandwidth`, 50M). */
export const REPAIR_BANDWIDTH_BYTES_PER_S = 50 * 2 ** 20;

export interface OperaNode {
  readonly id: string;
  readonly url: string;
  readonly proc: Managed;
}

export interface OperaCluster {
  readonly gateway: string;
  readonly token: string;
  readonly meta: MetaClient;
  readonly metaUrls: readonly string[];
  readonly nodes: readonly OperaNode[];
  /** Every process of the cluster (for CPU accounting). */
  readonly procs: readonly Managed[];
}

export async function startOperaCluster(
  group: ProcessGroup, rss: RssSampler, dir: string, profileDir: string | null, nodeCount: number,
): Promise<OperaCluster> {
  const ids = ['m1', 'm2', 'm3'];
  const ports = await freePorts(ids.length * 2 + 2 + nodeCount);
  const metaDir = join(dir, 'meta');
  await bootstrapCluster({
    dir: metaDir,
    members: ids.map((id, i) => ({ id, api: `127.0.0.1:${ports[2 * i]}`, raft: `127.0.0.1:${ports[2 * i + 1]}` })),
    partitions: PARTITIONS,
    replication: REPLICATION,
  });
  const env = { ...process.env, OPERA_LOG_LEVEL: 'warn' };
  const nodeFlags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const all: Managed[] = [];
  const start = (name: string, role: string, args: string[]): Managed => {
    const proc = group.start(name, role, process.execPath, [...nodeFlags, operaBin, ...args], env);
    rss.track({ name, role, pid: proc.pid });
    all.push(proc);
    return proc;
  };
  const died = (): void => {
    const dead = all.find((p) => !p.running());
    if (dead) throw new GiveUp(`${dead.name} exited: ${dead.output().slice(-1000)}`);
  };
  const ok = async (url: string, token?: string): Promise<true | undefined> => {
    died();
    const res = await fetch(url, { signal: AbortSignal.timeout(1000), headers: token ? { authorization: `Bearer ${token}` } : {} });
    await res.arrayBuffer();
    return res.ok ? true : undefined;
  };

  const metaUrls = ids.map((_, i) => `http://127.0.0.1:${ports[2 * i]}`);
  ids.forEach((id) => start(`opera meta ${id}`, 'opera-meta', ['meta', 'start', '--dir', join(metaDir, id)]));
  const token = (await readFile(join(metaDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const meta = new MetaClient({ endpoints: metaUrls, token, deadlineMs: 2000 });
  await waitFor('a meta leader', async () => { died(); return (await meta.status()).leader !== null ? true : undefined; }, 60_000);

  const gwPort = ports[6]!;
  const gateway = `http://127.0.0.1:${gwPort}`;
  const secretsFile = join(metaDir, 'secrets.json');
  start('gateway', 'gateway', ['gateway', 'start', '--meta', metaDir, '--listen', `127.0.0.1:${gwPort}`, '--secrets', secretsFile]);
  await waitFor('the gateway', () => ok(`${gateway}/readyz`, token), 60_000);

  const secrets = await loadClusterSecrets(secretsFile);
  const nodes: OperaNode[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const id = `n${i + 1}`;
    const port = ports[8 + i]!;
    const now = Math.floor(Date.now() / 1000);
    const proc = start(`node ${id}`, 'node', [
      'node', 'start', '--gateway', gateway, '--listen', `127.0.0.1:${port}`, '--dir', join(dir, 'nodes', id), '--id', id,
      '--join-token', mintToken(secrets.authority, { role: 'join', sub: id, iat: now, exp: now + 600 }),
    ]);
    nodes.push({ id, url: `http://127.0.0.1:${port}`, proc });
  }
  for (const n of nodes) await waitFor(`node ${n.id}`, () => ok(`${n.url}/healthz`), 60_000);
  await waitFor('every node up in meta', async () => {
    died();
    const { state } = await meta.state();
    return nodes.every((n) => state.nodes[n.id]?.state === 'up') ? true : undefined;
  }, 60_000);
  // Measuring starts once every partition has a primary and R in-sync replicas: before
  // that, writes wait for placement and the first points would measure the start-up.
  await settled({ gateway, token, meta }, 120_000, died);
  await meta.command({ type: 'settings', repairGraceMs: REPAIR_GRACE_MS });
  const sentinelPort = ports[7]!;
  start('sentinel', 'sentinel', [
    'sentinel', 'start', '--meta', metaDir, '--secrets', secretsFile, '--id', 'sentinel-bench',
    '--listen', `127.0.0.1:${sentinelPort}`, '--interval', '500ms', '--down-after', '3s',
  ]);
  await waitFor('the sentinel', () => ok(`http://127.0.0.1:${sentinelPort}/healthz`), 60_000);
  return { gateway, token, meta, metaUrls, nodes, procs: all };
}

/**
 * Waits until every partition has a primary and R in-sync replicas (the gateway's
 * /v1/cluster), so that a workload does not measure the aftermath of the previous one.
 */
export async function settled(c: Pick<OperaCluster, 'gateway' | 'token' | 'meta'>, timeoutMs: number, died: () => void = () => {}): Promise<void> {
  await waitFor('every partition with a primary and R in-sync replicas, primaries where placement prefers them', async () => {
    died();
    const res = await fetch(`${c.gateway}/v1/cluster`, { headers: { authorization: `Bearer ${c.token}` }, signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    const p = ((await res.json()) as { partitions: { total: number; underReplicated: number; withoutPrimary: number } }).partitions;
    if (p.total !== PARTITIONS || p.underReplicated !== 0 || p.withoutPrimary !== 0) return undefined;
    // A primary not yet on its preferred node is about to be handed over: a measurement
    // started now would time the handovers' retries, not the steady state.
    const m = await c.meta.watch(-1, 0);
    const placed = m.partitions.every((record, i) => {
      const preferred = preferredPrimary(i, m.nodes, REPLICATION);
      return preferred === null || record.primary === preferred || !record.replicas.includes(preferred) || m.nodes[preferred]?.state !== 'up';
    });
    return placed ? true : undefined;
  }, timeoutMs);
}
