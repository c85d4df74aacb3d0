// Storage nodes for integration tests (not a test file): a real meta group, nodes admitted
// through meta directly with the admin token (no gateway: the test writes each node's
// identity.json and credentials.json itself, as a join would), and `opera node start`
// processes on free 127.0.0.1 ports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClusterSecrets, type ClusterSecrets } from '../../src/crypto/secrets.js';
import { issueCertificate, mintToken, newTokenId, type Role } from '../../src/crypto/tokens.js';
import { partitionOf } from '../../src/meta/placement.js';
import type { WatchResult } from '../../src/meta/client.js';
import { saveCredentials } from '../../src/node/credentials.js';
import { preferredPrimary } from '../../src/node/replication/handover-core.js';
import { generateIdentity, saveIdentity } from '../../src/node/identity.js';
import { startMetaCluster, type MetaCluster } from '../meta/cluster-helpers.js';
import { freePort } from '../helpers/ports.js';
import { eventually, spawnOpera, type OperaProcess, type Teardownable } from '../helpers/processes.js';

export const LEASE_MS = 2400;

export interface TestNode {
  readonly id: string;
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  proc: OperaProcess | null;
  start(extra?: string[]): OperaProcess;
  /** kill -9 (or another signal) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestCluster {
  readonly meta: MetaCluster;
  readonly secrets: ClusterSecrets;
  readonly nodes: TestNode[];
  token(role: Role, sub?: string): string;
  map(): Promise<WatchResult>;
  partitionOf(key: string): number;
  /** Waits until every partition has `replicas` in-sync replicas, no learner, and an active primary (placement's preferred one) holding its lease. */
  settled(replicas: number, timeoutMs?: number): Promise<WatchResult>;
  node(id: string): TestNode;
  /** Admits one more node through meta (as a join would) and adds it to `nodes`; not started. */
  addNode(id: string): Promise<TestNode>;
}

export interface ClusterOptions {
  readonly nodes: number;
  readonly partitions?: number;
  readonly replication?: number;
  readonly memory?: boolean;
  readonly nodeArgs?: string[];
  readonly env?: Record<string, string>;
  /** Meta members (default 3; single-node tests use 1 to start faster). */
  readonly metaMembers?: number;
}

export async function startCluster(t: Teardownable, opts: ClusterOptions): Promise<TestCluster> {
  const replication = opts.replication ?? Math.min(3, opts.nodes);
  const meta = await startMetaCluster(t, opts.metaMembers ?? 3, {}, { partitions: opts.partitions ?? 4, replication });
  const secrets = await loadClusterSecrets(join(meta.dir, 'secrets.json'));
  const admin = meta.client();
  const nodes: TestNode[] = [];
  for (let i = 1; i <= opts.nodes; i++) nodes.push(await admitNode(t, meta, secrets, `n${i}`, opts));
  const token = (role: Role, sub = `test-${role}`): string => {
    const iat = Math.floor(Date.now() / 1000) - 5;
    return mintToken(secrets.authority, { role, sub, iat, exp: iat + 3600 });
  };
  let partitions = 0;
  const cluster: TestCluster = {
    meta,
    secrets,
    nodes,
    token,
    map: async () => {
      const m = await admin.watch(-1, 0);
      partitions = m.settings?.partitions ?? 0;
      return m;
    },
    partitionOf: (key) => partitionOf(key, partitions),
    node: (id) => {
      const n = nodes.find((x) => x.id === id);
      if (n === undefined) throw new Error(`no node ${id}`);
      return n;
    },
    async addNode(id) {
      const n = await admitNode(t, meta, secrets, id, opts);
      nodes.push(n);
      return n;
    },
    async settled(replicas, timeoutMs = 60_000) {
      const adminToken = token('admin');
      let last = '';
      return eventually(`every partition on ${replicas} replicas with an active primary`, async () => {
        const m = await cluster.map();
        last = JSON.stringify(m.partitions);
        // Primaries also sit where placement prefers them (else a handover may still move one).
        const placed = (p: WatchResult['partitions'][number], i: number): boolean => {
          const preferred = preferredPrimary(i, m.nodes, m.settings?.replication ?? replicas);
          return preferred === null || p.primary === preferred || !p.replicas.includes(preferred) || m.nodes[preferred]?.state !== 'up';
        };
        const ok = m.partitions.every((p, i) => p.replicas.length === replicas && p.learners.length === 0 && p.primary !== null && placed(p, i));
        if (!ok) return undefined;
        for (const [p, record] of m.partitions.entries()) {
          const primary = cluster.node(record.primary!);
          const res = await fetch(`${primary.url}/v1/partitions/${p}/status`, { headers: { authorization: `Bearer ${adminToken}` } });
          if (!res.ok) return undefined;
          const s = (await res.json()) as { epoch: number; primary: { phase: string; lease: boolean } | null };
          last = `partition ${p}: ${JSON.stringify(s)}`;
          if (s.epoch !== record.epoch || s.primary?.phase !== 'active' || !s.primary.lease) return undefined;
        }
        return m;
      }, timeoutMs, 200).catch((err: Error) => {
        const logs = nodes.map((n) => `--- ${n.id}\n${n.proc?.output().slice(-3000) ?? '(not running)'}`).join('\n');
        throw new Error(`${err.message}; last seen ${last}\n${logs}`);
      });
    },
  };
  await cluster.map();
  for (const n of nodes) n.start();
  return cluster;

  async function admitNode(t: Teardownable, meta: MetaCluster, secrets: ClusterSecrets, id: string, o: ClusterOptions): Promise<TestNode> {
    const dir = await mkdtemp(join(tmpdir(), `opera-node-${id}-`));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const identity = generateIdentity(id);
    await saveIdentity(dir, identity);
    const result = await meta.client().command({
      type: 'node-join', nodeId: id, url, publicKey: identity.publicKey.toString('base64url'), capacity: 100,
      tokenId: newTokenId(), tokenExpiresAt: Date.now() + 3_600_000,
    });
    if (!result.ok) throw new Error(`node-join ${id}: ${result.message}`);
    const iat = Math.floor(Date.now() / 1000) - 5;
    await saveCredentials(dir, {
      nodeId: id,
      clusterId: (await meta.client().watch(-1, 0)).settings!.clusterId,
      certificate: issueCertificate(secrets.authority, { role: 'node', sub: id, iat, exp: iat + 86_400, publicKey: identity.publicKey }),
      token: mintToken(secrets.authority, { role: 'node', sub: id, iat, exp: iat + 86_400 }),
      authorityPublicKey: Buffer.from(secrets.authority.publicKey),
      metaEndpoints: [...meta.apis.values()],
      gateway: null,
    });
    const node: TestNode = {
      id, dir, port, url, proc: null,
      start(extra = []) {
        const args = ['node', 'start', '--dir', dir, '--listen', `127.0.0.1:${port}`, '--lease-ms', String(LEASE_MS), '--heartbeat-ms', '1000', '--no-fsync',
          ...(o.memory ? ['--memory'] : []), ...(o.nodeArgs ?? []), ...extra];
        node.proc = spawnOpera(t, id, args, { OPERA_LOG_LEVEL: process.env['OPERA_LOG_LEVEL'] ?? 'warn', ...o.env });
        return node.proc;
      },
      async kill(signal = 'SIGKILL') {
        const p = node.proc;
        if (p === null) return;
        p.kill(signal);
        await p.exited();
        node.proc = null;
      },
    };
    return node;
  }
}

/** Minimal HTTP helpers against one node. */
export function objectUrl(node: TestNode, partition: number, key: string, query = ''): string {
  return `${node.url}/v1/partitions/${partition}/objects/${key.split('/').map(encodeURIComponent).join('/')}${query}`;
}

export async function put(node: TestNode, token: string, partition: number, key: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(objectUrl(node, partition, key), { method: 'PUT', headers: { authorization: `Bearer ${token}`, ...headers }, body: typeof body === 'string' ? body : Buffer.from(body) });
}

export async function get(node: TestNode, token: string, partition: number, key: string, query = '', headers: Record<string, string> = {}): Promise<Response> {
  return fetch(objectUrl(node, partition, key, query), { headers: { authorization: `Bearer ${token}`, ...headers } });
}
