// The reference: a 3-member etcd cluster (Debian's etcd-server) on 127.0.0.1 free ports,
// default durability (fsync on every commit), driven through its JSON gateway.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePorts, GiveUp, waitFor } from './ports.js';
import type { Managed, ProcessGroup } from './procs.js';
import type { RssSampler } from './proc-stats.js';

export interface EtcdCluster {
  readonly version: string;
  /** The gateway's prefix: /v3 from 3.4 on, /v3beta in 3.3, /v3alpha before. */
  readonly api: string;
  readonly members: { name: string; url: string; proc: Managed }[];
  readonly leaderUrl: string;
}

export type EtcdAvailability = { ok: true; version: string } | { ok: false; reason: string };

function installedVersion(): string | null {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return /etcd Version:\s*(\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

/** Finds etcd; as root on Debian, installs etcd-server with apt-get when it is missing. */
export async function ensureEtcd(procs: ProcessGroup, log: (s: string) => void): Promise<EtcdAvailability> {
  const have = installedVersion();
  if (have) return { ok: true, version: have };
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: 'etcd is not installed and the harness is not root: run `apt-get install -y etcd-server` (Debian) and run again' };
  }
  log('etcd is missing: installing Debian\'s etcd-server with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await procs.run('apt-get install', 'apt-get', ['install', '-y', 'etcd-server'], 600_000, env);
  if (r.code !== 0) {
    await procs.run('apt-get update', 'apt-get', ['update'], 600_000, env);
    r = await procs.run('apt-get install', 'apt-get', ['install', '-y', 'etcd-server'], 600_000, env);
  }
  const now = installedVersion();
  return now ? { ok: true, version: now } : { ok: false, reason: `apt-get install etcd-server failed: ${r.output.slice(-500)}` };
}

function gatewayPrefix(version: string): string {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > 3 || (major === 3 && minor >= 4)) return '/v3';
  return minor === 3 ? '/v3beta' : '/v3alpha';
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

export async function startEtcdCluster(procs: ProcessGroup, rss: RssSampler, dir: string, version: string): Promise<EtcdCluster> {
  const ports = await freePorts(6);
  const names = ['e1', 'e2', 'e3'];
  const peer = (i: number): string => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const client = (i: number): string => `http://127.0.0.1:${ports[2 * i]}`;
  const initialCluster = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const token = `bench-${randomBytes(6).toString('hex')}`;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const quiet = major > 3 || (major === 3 && minor >= 4) ? ['--logger', 'zap', '--log-level', 'warn'] : [];
  const members = names.map((name, i) => {
    const proc = procs.start(`etcd ${name}`, 'etcd', 'etcd', [
      '--name', name, '--data-dir', join(dir, name),
      '--listen-client-urls', client(i), '--advertise-client-urls', client(i),
      '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      ...quiet,
    ]);
    rss.track({ name: `etcd ${name}`, role: 'etcd', pid: proc.pid });
    return { name, url: client(i), proc };
  });
  const api = gatewayPrefix(version);
  const leaderUrl = await waitFor('an etcd leader', async () => {
    for (const m of members) {
      if (!m.proc.running()) throw new GiveUp(`etcd ${m.name} exited: ${m.proc.output().slice(-1000)}`);
    }
    for (const m of members) {
      const s = await postJson(`${m.url}${api}/maintenance/status`, {});
      const header = s['header'] as { member_id?: string } | undefined;
      if (s['leader'] && s['leader'] !== '0' && header?.member_id === s['leader']) return m.url;
    }
    return undefined;
  }, 60_000);
  return { version, api, members, leaderUrl };
}
