// A real meta group for tests: `opera meta bootstrap` into a temp dir, then one
// `opera meta start` process per member on free 127.0.0.1 ports.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaClient } from '../../src/meta/client.js';
import type { MemberStatus } from '../../src/meta/member.js';
import { freePorts } from '../helpers/ports.js';
import { eventually, runOpera, spawnOpera, type OperaProcess, type Teardownable } from '../helpers/processes.js';

export interface MetaCluster {
  readonly dir: string;
  readonly token: string;
  readonly ids: string[];
  readonly apis: Map<string, string>;
  readonly procs: Map<string, OperaProcess>;
  client(): MetaClient;
  start(id: string): OperaProcess;
  kill(id: string): Promise<void>;
  leader(): Promise<string>;
  statusOf(id: string): Promise<MemberStatus | null>;
}

export const FAST_ENV = { OPERA_META_TICK_MS: '20', OPERA_LOG_LEVEL: 'warn' };

export async function startMetaCluster(
  t: Teardownable, n = 3, env: Record<string, string> = {}, opts: { partitions?: number; replication?: number } = {},
): Promise<MetaCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'opera-meta-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ports = await freePorts(n * 2);
  const ids = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  const spec = ids.map((id, i) => `${id}=127.0.0.1:${ports[2 * i]}:${ports[2 * i + 1]}`).join(',');
  const boot = await runOpera(['meta', 'bootstrap', '--dir', join(dir, 'c'), '--members', spec,
    '--partitions', String(opts.partitions ?? 16), '--replication', String(opts.replication ?? 3)]);
  if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
  const cdir = join(dir, 'c');
  const token = (await readFile(join(cdir, 'admin.token'), 'utf8')).trim();
  const apis = new Map(ids.map((id, i) => [id, `http://127.0.0.1:${ports[2 * i]}`]));
  const procs = new Map<string, OperaProcess>();
  const fullEnv = { ...FAST_ENV, ...env };
  const cluster: MetaCluster = {
    dir: cdir,
    token,
    ids,
    apis,
    procs,
    client: () => new MetaClient({ endpoints: [...apis.values()], token, deadlineMs: 30_000 }),
    start(id) {
      const p = spawnOpera(t, id, ['meta', 'start', '--dir', join(cdir, id)], fullEnv);
      procs.set(id, p);
      return p;
    },
    async kill(id) {
      const p = procs.get(id);
      if (!p) return;
      p.kill('SIGKILL');
      await p.exited();
      procs.delete(id);
    },
    async statusOf(id) {
      return cluster.client().statusOf(apis.get(id)!, 1000);
    },
    async leader() {
      return eventually('a meta leader', async () => {
        for (const id of procs.keys()) {
          const s = await cluster.statusOf(id);
          if (s?.role === 'leader') return id;
        }
        return undefined;
      }, 60_000); // three fresh processes on a loaded 2-core machine may take long to start
    },
  };
  for (const id of ids) cluster.start(id);
  await cluster.leader();
  return cluster;
}
