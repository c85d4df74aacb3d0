// `opera dev`: a whole cluster on this machine — 3 meta members, a gateway, the nodes
// and (when built) a sentinel — as child processes on free 127.0.0.1 ports. The layout
// is kept in DIR/dev.json so that a second start resumes the same cluster and data.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../common/ports.js';
import { loadClusterSecrets } from '../crypto/secrets.js';
import { mintToken } from '../crypto/tokens.js';
import { bootstrapCluster, ADMIN_TOKEN_FILE } from '../meta/bootstrap.js';
import { MetaClient } from '../meta/client.js';
import { Supervisor, type DevProcess } from './supervisor.js';

export interface DevLayout {
  readonly format: 'space-opera/dev';
  readonly meta: { id: string; api: number; raft: number }[];
  readonly gateway: number;
  readonly sentinel?: number;
  readonly nodes: { id: string; port: number }[];
}

const DEV_REPAIR_GRACE_MS = 10_000;

export interface DevCluster {
  readonly dir: string;
  readonly gateway: string;
  /** The web console, served by the gateway. */
  readonly console: string;
  readonly token: string;
  readonly supervisor: Supervisor;
  readonly processes: DevProcess[];
}

async function newLayout(nodes: number): Promise<DevLayout> {
  const used = new Set<number>();
  const port = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  const meta = [];
  for (const id of ['m1', 'm2', 'm3']) meta.push({ id, api: await port(), raft: await port() });
  const gateway = await port();
  const sentinel = await port();
  const nodeList = [];
  for (let i = 1; i <= nodes; i++) nodeList.push({ id: `n${i}`, port: await port() });
  return { format: 'space-opera/dev', meta, gateway, sentinel, nodes: nodeList };
}

async function readLayout(dir: string): Promise<DevLayout | null> {
  const text = await readFile(join(dir, 'dev.json'), 'utf8').catch(() => null);
  return text === null ? null : (JSON.parse(text) as DevLayout);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, died: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = died();
    if (dead) throw new Error(`${dead} exited while waiting for ${what}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function httpOk(url: string, token?: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000), headers: token ? { authorization: `Bearer ${token}` } : {} });
  await res.arrayBuffer();
  return res.ok;
}

export async function startDevCluster(opts: { dir: string; nodes: number; env?: NodeJS.ProcessEnv }): Promise<DevCluster> {
  const { dir } = opts;
  await mkdir(join(dir, 'logs'), { recursive: true });
  let layout = await readLayout(dir);
  const fresh = layout === null;
  if (layout === null) {
    layout = await newLayout(opts.nodes);
    await bootstrapCluster({
      dir: join(dir, 'meta'),
      members: layout.meta.map((m) => ({ id: m.id, api: `127.0.0.1:${m.api}`, raft: `127.0.0.1:${m.raft}` })),
      partitions: 16,
      replication: Math.min(3, opts.nodes),
    });
    await writeFile(join(dir, 'dev.json'), JSON.stringify(layout, null, 2) + '\n');
  } else if (layout.nodes.length < opts.nodes) {
    // More nodes asked for than last time: new ones join the existing cluster.
    const nodes = [...layout.nodes];
    for (let i = nodes.length + 1; i <= opts.nodes; i++) nodes.push({ id: `n${i}`, port: await freePort() });
    layout = { ...layout, nodes };
    await writeFile(join(dir, 'dev.json'), JSON.stringify(layout, null, 2) + '\n');
  }
  const env = { ...process.env, ...opts.env };
  const sup = new Supervisor(join(dir, 'logs'), env);
  const died = (): string | null => {
    const p = sup.processes.find((x) => x.child.exitCode !== null || x.child.signalCode !== null);
    return p ? `${p.role} ${p.id} (see ${p.log})` : null;
  };
  try {
    const metaDir = join(dir, 'meta');
    for (const m of layout.meta) sup.start('meta', m.id, `http://127.0.0.1:${m.api}`, ['meta', 'start', '--dir', join(metaDir, m.id)]);
    const token = (await readFile(join(metaDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
    const meta = new MetaClient({ endpoints: layout.meta.map((m) => `http://127.0.0.1:${m.api}`), token, deadlineMs: 2000 });
    await waitFor('a meta leader', async () => (await meta.status()).leader !== null, 30_000, died);

    const gateway = `http://127.0.0.1:${layout.gateway}`;
    sup.start('gateway', 'gateway', gateway, [
      'gateway', 'start', '--meta', metaDir, '--listen', `127.0.0.1:${layout.gateway}`,
      '--secrets', join(metaDir, 'secrets.json'),
    ]);
    await waitFor('the gateway', () => httpOk(`${gateway}/readyz`, token), 30_000, died);

    const secrets = await loadClusterSecrets(join(metaDir, 'secrets.json'));
    for (const n of layout.nodes) {
      const nodeDir = join(dir, 'nodes', n.id);
      const joined = await readFile(join(nodeDir, 'credentials.json')).then(() => true, () => false);
      const args = ['node', 'start', '--gateway', gateway, '--listen', `127.0.0.1:${n.port}`, '--dir', nodeDir, '--id', n.id];
      if (!joined) {
        const now = Math.floor(Date.now() / 1000);
        args.push('--join-token', mintToken(secrets.authority, { role: 'join', sub: n.id, iat: now, exp: now + 600 }));
      }
      sup.start('node', n.id, `http://127.0.0.1:${n.port}`, args);
    }
    for (const n of layout.nodes) {
      await waitFor(`node ${n.id}`, () => httpOk(`http://127.0.0.1:${n.port}/healthz`), 30_000, died);
    }
    await waitFor('every node up in meta', async () => {
      const { state } = await meta.state();
      return layout!.nodes.every((n) => state.nodes[n.id]?.state === 'up');
    }, 30_000, died);
    if (fresh) {
      // A local cluster repairs after seconds, not the production default of minutes.
      await meta.command({ type: 'settings', repairGraceMs: DEV_REPAIR_GRACE_MS });
    }
    const sentinelPort = layout.sentinel ?? (await freePort());
    sup.start('sentinel', 'sentinel', `http://127.0.0.1:${sentinelPort}`, [
      'sentinel', 'start', '--meta', metaDir, '--secrets', join(metaDir, 'secrets.json'), '--id', 'sentinel-dev',
      '--listen', `127.0.0.1:${sentinelPort}`, '--interval', '500ms', '--down-after', '3s',
    ]);
    await waitFor('the sentinel', () => httpOk(`http://127.0.0.1:${sentinelPort}/healthz`), 30_000, died);
    return { dir, gateway, console: `${gateway}/console`, token, supervisor: sup, processes: sup.processes };
  } catch (err) {
    await sup.stop(2000);
    throw err;
  }
}
