// A real cluster for the Jepsen tests: 3 (or 5) meta members, a gateway, 3 storage nodes and a
// sentinel, each its own `opera` process (the same commands `opera dev` runs, through
// its Supervisor), with the meta Raft links and the nodes behind fault-injecting
// proxies. The nemesis kills, restarts, pauses and partitions these processes.
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../../src/common/ports.js';
import { loadClusterSecrets } from '../../../src/crypto/secrets.js';
import { mintToken } from '../../../src/crypto/tokens.js';
import { ADMIN_TOKEN_FILE, bootstrapCluster } from '../../../src/meta/bootstrap.js';
import { MetaClient } from '../../../src/meta/client.js';
import type { MetaState } from '../../../src/meta/types.js';
import { Supervisor, type DevProcess, type DevRole } from '../../../src/dev/supervisor.js';
import { DISK_FAULT_ENV } from '../../../src/common/fault-disk.js';
import { RAFT_DIR } from '../../../src/meta/member-files.js';
import { SOURCE_ADDRESS_ENV } from '../../../src/common/http-request.js';
import { META_VIA_ENV } from '../../../src/meta/client.js';
import { faketimeEnv, findFaketimeLibrary, TRUE_CLOCK, writeClockFile, type ClockSpec } from '../nemesis/clock.js';
import { Links } from './links.js';

/** How many meta members: m1…m3 by default, m1…m5 with `--meta 5`. */
export type MetaSize = 3 | 5;
export const META_SIZES: readonly MetaSize[] = [3, 5];

function metaIds(size: MetaSize): string[] {
  return Array.from({ length: size }, (_, i) => `m${i + 1}`);
}
export const NODE_IDS = ['n1', 'n2', 'n3'] as const;
/** A node's read lease; pauses longer than this (and than meta's election timeout) test stale leaders. */
export const NODE_LEASE_MS = 2400;
export const PARTITIONS = 8;
/** The loopback address node i (n1, n2, …) dials its peers from in links runs: 127.0.0.11, .12, … */
export function nodeSourceAddress(index: number): string {
  return `127.0.0.${11 + index}`;
}

export interface ClusterProcess {
  readonly role: DevRole;
  readonly id: string;
  readonly url: string;
  /** Arguments of every start after the first (a node joins only once). */
  args: string[];
  proc: DevProcess | null;
  paused: boolean;
  /** Where its data lives: a meta member's Raft directory, a node's LevelDB directory. */
  readonly dataDir: string | null;
  /** libfaketime's file for this process (clock runs only). */
  readonly clockFile: string | null;
  /** What the clock file says now, and when (Date.now()) the process last started. */
  clock: ClockSpec;
  startedAt: number;
  /** The disk fault file (OPERA_FAULT_DISK) of this process (slow-disk runs only). */
  readonly diskFile: string | null;
  /** Environment of every start (links runs: its source address, its own paths to meta). */
  readonly env: NodeJS.ProcessEnv;
}

/** What a run's nemesis needs from the processes beyond kills, pauses and links. */
export interface ClusterFaultOptions {
  /** Start every process under libfaketime with its own clock file. */
  readonly clock?: boolean;
  /** Give every meta member and node a disk fault file (OPERA_FAULT_DISK). */
  readonly disk?: boolean;
  /** fsync on (the default is --no-fsync; slow disks need real fsyncs to slow down). */
  readonly fsync?: boolean;
  /** Storage nodes scrub this often (storage faults: rot must be found while the run lasts). */
  readonly scrubIntervalMs?: number;
  /**
   * Link faults between two nodes and between a process and meta: every node dials its
   * peers from a loopback address of its own, and the gateway, the sentinel and every
   * node call meta's API through proxies of their own (cluster/links.ts).
   */
  readonly links?: boolean;
}

export interface JepsenCluster {
  readonly dir: string;
  readonly gateway: string;
  readonly clientToken: string;
  readonly links: Links;
  /** The meta members: m1…m3 or m1…m5 at first, then as the meta workload adds and removes them. */
  readonly metaIds: readonly string[];
  readonly processes: ReadonlyMap<string, ClusterProcess>;
  readonly meta: MetaClient;
  /** Exits nobody asked for (a crash is a finding even when the checks pass). */
  readonly unexpectedExits: string[];
  metaLeader(): Promise<string | null>;
  metaState(): Promise<MetaState | null>;
  kill(id: string): Promise<void>;
  start(id: string): void;
  pause(id: string): void;
  resume(id: string): void;
  /** The next exit of this process is wanted (a refusal to start); resolves with how it exited, or null after `timeoutMs`. */
  awaitExit(id: string, timeoutMs: number): Promise<{ code: number | null; signal: string | null } | null>;
  /** Never restart this process again (it refused to start on damaged data). */
  retire(id: string): void;
  /** Sets a process's clock (clock runs only). */
  setClock(id: string, spec: ClockSpec): void;
  /** Sets a process's fsync delay (slow-disk runs only). */
  setFsyncDelay(id: string, delayMs: number): void;
  /** The admin credential and the bootstrap directory (for membership changes). */
  readonly adminToken: string;
  readonly metaDir: string;
  /** Starts a process the run adds (a new meta member, a node); kills, pauses and heals then cover it too. */
  addProcess(role: DevRole, id: string, url: string, args: string[], firstArgs?: string[]): void;
  /** Stops a process for good and forgets it (a removed meta member, a removed node): heals no longer restart it. */
  dropProcess(id: string): Promise<void>;
  /** Heals every link, resumes every paused process, restarts every dead one. */
  healAll(): void;
  /**
   * serving: every partition has a primary, every node is up, the gateway is ready.
   * full: also every partition back to its whole in-sync set with no learner.
   */
  waitHealthy(timeoutMs: number, level?: 'serving' | 'full'): Promise<void>;
  stop(): Promise<void>;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function httpOk(url: string, token?: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000), headers: token ? { authorization: `Bearer ${token}` } : {} });
  await res.arrayBuffer();
  return res.ok;
}

async function ports(n: number): Promise<number[]> {
  const out = new Set<number>();
  for (let i = 0; i < 10 * n && out.size < n; i++) out.add(await freePort());
  if (out.size < n) throw new Error('could not find enough free ports');
  return [...out];
}

export async function startJepsenCluster(dir: string, metaSize: MetaSize = 3, faults: ClusterFaultOptions = {}): Promise<JepsenCluster> {
  const members = metaIds(metaSize);
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const faultDir = join(dir, 'faults');
  await mkdir(faultDir, { recursive: true });
  const faketime = faults.clock ? findFaketimeLibrary() : null;
  if (faults.clock && faketime === null) throw new Error('the clock nemesis needs libfaketime (Debian: apt-get install faketime; or set OPERA_FAKETIME_LIB)');
  const fsyncArgs = faults.fsync ? [] : ['--no-fsync'];
  const [gatewayPort, sentinelPort, ...rest] = await ports(2 + members.length * 2 + NODE_IDS.length);
  const metaPorts = new Map(members.map((id, i) => [id, { api: rest[2 * i]!, raft: rest[2 * i + 1]! }]));
  const nodePorts = new Map(NODE_IDS.map((id, i) => [id, rest[members.length * 2 + i]!]));
  const metaDir = join(dir, 'meta');
  await bootstrapCluster({
    dir: metaDir,
    members: members.map((id) => ({ id, api: `127.0.0.1:${metaPorts.get(id)!.api}`, raft: `127.0.0.1:${metaPorts.get(id)!.raft}` })),
    partitions: PARTITIONS,
    replication: NODE_IDS.length,
  });
  const adminToken = (await readFile(join(metaDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const secrets = await loadClusterSecrets(join(metaDir, 'secrets.json'));
  const now = Math.floor(Date.now() / 1000);
  const clientToken = mintToken(secrets.authority, { role: 'client', sub: 'jepsen', iat: now - 5, exp: now + 86_400 });
  const meta = new MetaClient({ endpoints: members.map((id) => `http://127.0.0.1:${metaPorts.get(id)!.api}`), token: adminToken, deadlineMs: 3000 });

  const links = new Links();
  const sup = new Supervisor(logDir, { ...process.env, OPERA_LOG_LEVEL: process.env['OPERA_LOG_LEVEL'] ?? 'info' });
  const processes = new Map<string, ClusterProcess>();
  const unexpectedExits: string[] = [];
  const expectedExit = new Set<string>();
  const retired = new Set<string>();
  const exitWaiters = new Map<string, (e: { code: number | null; signal: string | null }) => void>();
  sup.onExit = (p, code, signal) => {
    const waiter = exitWaiters.get(p.id);
    if (waiter) {
      exitWaiters.delete(p.id);
      const rec = processes.get(p.id);
      if (rec && rec.proc === p) rec.proc = null;
      waiter({ code, signal });
      return;
    }
    if (expectedExit.delete(p.id)) return;
    unexpectedExits.push(`${p.role} ${p.id} exited (code ${code}, signal ${signal}); see ${p.log}`);
    const rec = processes.get(p.id);
    if (rec && rec.proc === p) rec.proc = null;
  };
  const launch = (rec: ClusterProcess, args: string[]): void => {
    const env: NodeJS.ProcessEnv = { ...rec.env };
    if (rec.clockFile !== null && faketime !== null) {
      // Every start begins on the true clock: libfaketime measures from the process's start.
      rec.clock = TRUE_CLOCK;
      writeClockFile(rec.clockFile, rec.clock);
      Object.assign(env, faketimeEnv(faketime, rec.clockFile));
    }
    if (rec.diskFile !== null) env[DISK_FAULT_ENV] = rec.diskFile;
    rec.startedAt = Date.now();
    rec.proc = sup.start(rec.role, rec.id, rec.url, args, env);
    rec.paused = false;
  };
  const add = (role: DevRole, id: string, url: string, args: string[], firstArgs = args, dataDir: string | null = null, env: NodeJS.ProcessEnv = {}): void => {
    const diskFile = faults.disk && (role === 'meta' || role === 'node') ? join(faultDir, `${id}.disk.json`) : null;
    if (diskFile !== null) writeFileSync(diskFile, '{"fsyncDelayMs": 0}\n');
    const rec: ClusterProcess = {
      role, id, url, args, proc: null, paused: false, dataDir,
      clockFile: faults.clock ? join(faultDir, `${id}.faketime`) : null, clock: TRUE_CLOCK, startedAt: Date.now(), diskFile, env,
    };
    processes.set(id, rec);
    launch(rec, firstArgs);
  };
  const stopAll = async (): Promise<void> => {
    for (const rec of processes.values()) if (rec.proc) expectedExit.add(rec.id);
    await sup.stop(3000);
    await links.stop();
  };

  try {
    for (const from of members) {
      for (const to of members) if (from !== to) await links.addMeta(from, to, metaPorts.get(to)!.raft);
    }
    for (const id of members) {
      const peerRaft = members.filter((p) => p !== id).map((p) => `${p}=${links.metaLink(id, p).address}`).join(',');
      const args = ['meta', 'start', '--dir', join(metaDir, id), ...fsyncArgs, '--peer-raft', peerRaft];
      add('meta', id, `http://127.0.0.1:${metaPorts.get(id)!.api}`, args, args, join(metaDir, id, RAFT_DIR));
    }
    await waitUntil('a meta leader', async () => (await meta.status()).leader !== null, 30_000);
    // links runs: each caller of meta's API gets a proxy per member, and dials it instead of the member (OPERA_META_VIA).
    const metaVia = async (caller: string): Promise<NodeJS.ProcessEnv> => {
      if (!faults.links) return {};
      const pairs: string[] = [];
      for (const m of members) {
        const api = metaPorts.get(m)!.api;
        const proxy = await links.addMetaApi(caller, m, api);
        pairs.push(`http://127.0.0.1:${api}=http://${proxy.address}`);
      }
      return { [META_VIA_ENV]: pairs.join(',') };
    };

    const gateway = `http://127.0.0.1:${gatewayPort}`;
    add('gateway', 'gateway', gateway, ['gateway', 'start', '--meta', metaDir, '--listen', `127.0.0.1:${gatewayPort}`, '--secrets', join(metaDir, 'secrets.json'), '--id', 'gateway-jepsen'], undefined, null, await metaVia('gateway'));
    await waitUntil('the gateway', () => httpOk(`${gateway}/readyz`, adminToken), 30_000);

    for (const [i, id] of NODE_IDS.entries()) {
      const port = nodePorts.get(id)!;
      const source = faults.links ? nodeSourceAddress(i) : undefined;
      const proxy = await links.addNode(id, port, source);
      const env = { ...(await metaVia(id)), ...(source !== undefined ? { [SOURCE_ADDRESS_ENV]: source } : {}) };
      const nodeDir = join(dir, 'nodes', id);
      const args = ['node', 'start', '--listen', `127.0.0.1:${port}`, '--advertise', `http://${proxy.address}`, '--dir', nodeDir,
        '--lease-ms', String(NODE_LEASE_MS), '--heartbeat-ms', '1000', ...fsyncArgs,
        ...(faults.scrubIntervalMs ? ['--scrub-interval', `${Math.ceil(faults.scrubIntervalMs / 1000)}s`] : [])];
      const join_ = mintToken(secrets.authority, { role: 'join', sub: id, iat: now - 5, exp: now + 600 });
      add('node', id, `http://${proxy.address}`, args, [...args, '--gateway', gateway, '--join-token', join_, '--id', id], join(nodeDir, 'data'), env);
    }
    await waitUntil('every node up in meta', async () => {
      const { state } = await meta.state();
      return NODE_IDS.every((n) => state.nodes[n]?.state === 'up');
    }, 60_000);
    // Repair after seconds, not the production default of minutes, as `opera dev` does.
    await meta.command({ type: 'settings', repairGraceMs: 10_000 });
    add('sentinel', 'sentinel', `http://127.0.0.1:${sentinelPort}`, [
      'sentinel', 'start', '--meta', metaDir, '--secrets', join(metaDir, 'secrets.json'), '--id', 'sentinel-jepsen',
      '--listen', `127.0.0.1:${sentinelPort}`, '--interval', '500ms', '--down-after', '3s',
    ], undefined, null, await metaVia('sentinel'));
    await waitUntil('the sentinel', () => httpOk(`http://127.0.0.1:${sentinelPort}/healthz`), 30_000);
  } catch (err) {
    await stopAll();
    const exits = unexpectedExits.length ? `; ${unexpectedExits.join('; ')}` : '';
    throw new Error(`${(err as Error).message}${exits}`);
  }

  const need = (id: string): ClusterProcess => {
    const rec = processes.get(id);
    if (rec === undefined) throw new Error(`no process ${id}`);
    return rec;
  };
  const cluster: JepsenCluster = {
    dir,
    gateway: `http://127.0.0.1:${gatewayPort}`,
    clientToken,
    links,
    metaIds: members,
    adminToken,
    metaDir,
    processes,
    meta,
    unexpectedExits,
    async metaLeader() {
      for (const id of members) {
        const rec = need(id);
        if (rec.proc === null || rec.paused) continue;
        const s = await meta.statusOf(rec.url, 1000);
        if (s?.role === 'leader') return id;
      }
      return null;
    },
    async metaState() {
      return (await meta.state('linearizable').catch(() => null))?.state ?? null;
    },
    async kill(id) {
      const rec = need(id);
      const p = rec.proc;
      if (p === null) return;
      expectedExit.add(id);
      rec.proc = null;
      rec.paused = false;
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
      p.child.kill('SIGKILL');
      await exited;
    },
    start(id) {
      const rec = need(id);
      if (rec.proc === null && !retired.has(id)) launch(rec, rec.args);
    },
    awaitExit(id, timeoutMs) {
      const rec = need(id);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          exitWaiters.delete(id);
          resolve(null);
        }, timeoutMs);
        exitWaiters.set(id, (e) => {
          clearTimeout(timer);
          resolve(e);
        });
        if (rec.proc === null) {
          clearTimeout(timer);
          exitWaiters.delete(id);
          resolve({ code: null, signal: null });
        }
      });
    },
    retire(id) {
      retired.add(id);
    },
    setClock(id, spec) {
      const rec = need(id);
      if (rec.clockFile === null) throw new Error('this cluster was started without the clock nemesis');
      rec.clock = spec;
      writeClockFile(rec.clockFile, spec);
    },
    setFsyncDelay(id, delayMs) {
      const rec = need(id);
      if (rec.diskFile === null) throw new Error(`${id} has no disk fault file (the cluster was started without the slow-disk nemesis)`);
      const tmp = `${rec.diskFile}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ fsyncDelayMs: delayMs })}\n`);
      renameSync(tmp, rec.diskFile);
    },
    pause(id) {
      const rec = need(id);
      if (rec.proc && !rec.paused) {
        rec.proc.child.kill('SIGSTOP');
        rec.paused = true;
      }
    },
    resume(id) {
      const rec = need(id);
      if (rec.proc && rec.paused) {
        rec.proc.child.kill('SIGCONT');
        rec.paused = false;
      }
    },
    healAll() {
      links.healAll();
      for (const id of processes.keys()) {
        cluster.resume(id);
        cluster.start(id);
      }
    },
    async waitHealthy(timeoutMs, level = 'full') {
      let last = 'meta did not answer';
      await waitUntil(level === 'full' ? 'a fully replicated cluster' : 'a serving cluster', async () => {
        const state = await cluster.metaState();
        if (state === null) return false;
        const problems = state.partitions.flatMap((p, i) => {
          if (p.primary === null) return [`p${i} has no primary`];
          if (level === 'serving') return [];
          if (p.replicas.length < NODE_IDS.length) return [`p${i} in-sync ${p.replicas.join(',')}`];
          if (p.learners.length > 0) return [`p${i} learners ${p.learners.join(',')}`];
          return [];
        });
        for (const n of NODE_IDS) if (state.nodes[n]?.state !== 'up') problems.push(`${n} ${state.nodes[n]?.state ?? 'unknown'}`);
        if (problems.length === 0 && !(await httpOk(`${cluster.gateway}/readyz`, clientToken).catch(() => false))) problems.push('gateway not ready');
        last = problems.join('; ');
        return problems.length === 0;
      }, timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}; last seen: ${last}`);
      });
    },
    addProcess(role, id, url, args, firstArgs = args) {
      if (processes.has(id)) throw new Error(`process ${id} exists already`);
      add(role, id, url, args, firstArgs);
      if (role === 'meta') members.push(id);
    },
    async dropProcess(id) {
      await cluster.kill(id);
      processes.delete(id);
      const i = members.indexOf(id);
      if (i >= 0) members.splice(i, 1);
    },
    stop: stopAll,
  };
  return cluster;
}
