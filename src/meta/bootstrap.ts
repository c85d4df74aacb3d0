// `opera meta bootstrap` and `opera meta add`: create the cluster's secrets, its initial
// state and configuration, and one directory per member. Refuses to overwrite a cluster.
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateClusterSecrets, loadClusterSecrets, saveClusterSecrets, type ClusterSecrets } from '../crypto/secrets.js';
import { mintToken } from '../crypto/tokens.js';
import { RaftStorage } from '../raft/storage/raft-storage.js';
import type { Config, Snapshot } from '../raft/types.js';
import { MetaMachine, type MemberAddress } from './machine.js';
import { checkHostPort, checkMemberId, RAFT_DIR, SECRETS_FILE, writeMemberFile } from './member-files.js';
import { apply, initialState } from './state.js';

export const CLUSTER_FILE = 'cluster.json';
export const ADMIN_TOKEN_FILE = 'admin.token';
const INITIAL_SNAPSHOT_FILE = 'initial-snapshot.json';
const ADMIN_TOKEN_TTL_S = 365 * 86400;

export interface MemberSpec extends MemberAddress {
  readonly id: string;
}

export interface ClusterFile {
  readonly format: 'space-opera/cluster';
  readonly clusterId: string;
  readonly members: MemberSpec[];
  readonly partitions: number;
  readonly replication: number;
}

/**
 * Parses `m1=HOST:PORT[:RAFTPORT],...`: PORT serves the HTTP API; the Raft port
 * defaults to PORT + 1000.
 */
export function parseMembers(spec: string): MemberSpec[] {
  const out: MemberSpec[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=([^:\[\]]+|\[[0-9a-fA-F:.]+\]):(\d+)(?::(\d+))?$/.exec(part);
    if (!m) throw new Error(`member "${part}" must look like id=HOST:PORT or id=HOST:PORT:RAFTPORT`);
    const [, id, host, port, raftPort] = m as unknown as [string, string, string, string, string | undefined];
    checkMemberId(id);
    const raft = raftPort ?? String(Number(port) + 1000);
    const member = { id, api: `${host}:${port}`, raft: `${host}:${raft}` };
    checkHostPort(member.api, `member ${id}`);
    checkHostPort(member.raft, `member ${id} raft`);
    if (out.some((o) => o.id === id)) throw new Error(`member id ${id} appears twice`);
    out.push(member);
  }
  if (out.length === 0) throw new Error('--members names no member');
  return out;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

export interface BootstrapResult {
  readonly clusterId: string;
  readonly adminToken: string;
  readonly memberDirs: string[];
}

export interface BootstrapOptions {
  dir: string;
  members: MemberSpec[];
  partitions: number;
  replication: number;
  now?: number;
  /** Disaster recovery: start from a backup's state, with the old cluster's secrets. */
  restore?: { backup: Uint8Array; secrets: ClusterSecrets };
}

export async function bootstrapCluster(opts: BootstrapOptions): Promise<BootstrapResult> {
  const { dir, members } = opts;
  if (await exists(join(dir, CLUSTER_FILE))) {
    throw new Error(`${dir} already holds a cluster (${CLUSTER_FILE} exists); refusing to bootstrap over it`);
  }
  const existing = await readdir(dir).catch(() => null);
  if (existing !== null && existing.length > 0) throw new Error(`${dir} is not empty; refusing to bootstrap into it`);
  if (![1, 3, 5, 7].includes(members.length)) throw new Error(`a meta group needs 1, 3, 5 or 7 members, not ${members.length}`);
  // Everything is built in a sibling directory and renamed into place at the end, so a
  // failed bootstrap leaves nothing half-made behind.
  const staging = `${dir}.bootstrap-${randomBytes(4).toString('hex')}`;
  try {
    const result = await buildCluster(staging, dir, opts);
    if (existing !== null) await rmdir(dir);
    await rename(staging, dir);
    return result;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function buildCluster(staging: string, dir: string, opts: BootstrapOptions): Promise<BootstrapResult> {
  const { members } = opts;
  const now = opts.now ?? Date.now();
  const memberInfo = members.map((m) => ({ id: m.id, url: `http://${m.api}` }));
  let state;
  if (opts.restore) {
    // The backup's state as of its read index; members are the new group's. Client
    // sessions are not carried over: no client of the old group can still be retrying.
    const old = MetaMachine.restore(opts.restore.backup, JSON.parse(Buffer.from(opts.restore.backup).toString('utf8')).applied);
    const renamed = apply(old.state, { type: 'meta-members', members: memberInfo }, now);
    if (!renamed.result.ok) throw new Error(`the backup cannot be restored: ${renamed.result.message}`);
    state = renamed.state;
  } else {
    const init = apply(initialState(), {
      type: 'init-cluster', clusterId: randomBytes(8).toString('hex'), partitions: opts.partitions, replication: opts.replication,
      members: memberInfo,
    }, now);
    if (!init.result.ok) throw new Error(`invalid cluster settings: ${init.result.message}`);
    state = init.state;
  }
  const clusterId = state.settings!.clusterId;
  const addresses = new Map(members.map((m) => [m.id, { api: m.api, raft: m.raft }]));
  const data = new MetaMachine(state, 0, addresses).snapshot();
  const config: Config = { voters: members.map((m) => m.id), learners: [] };
  const snapshot: Snapshot = { meta: { index: 0, term: 0, config }, data };

  const secrets = opts.restore?.secrets ?? generateClusterSecrets();
  await mkdir(staging, { recursive: true });
  await saveClusterSecrets(join(staging, SECRETS_FILE), secrets);
  const cluster: ClusterFile = {
    format: 'space-opera/cluster', clusterId, members,
    partitions: state.settings!.partitions, replication: state.settings!.replication,
  };
  await writeFile(join(staging, INITIAL_SNAPSHOT_FILE), JSON.stringify({ config, data: Buffer.from(data).toString('base64') }));
  for (const m of members) await createMemberDir(join(staging, m.id), cluster, m, secrets, snapshot);
  const adminToken = mintToken(secrets.authority, { role: 'admin', sub: 'admin', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + ADMIN_TOKEN_TTL_S });
  await writeFile(join(staging, ADMIN_TOKEN_FILE), adminToken + '\n', { mode: 0o600 });
  await writeFile(join(staging, CLUSTER_FILE), JSON.stringify(cluster, null, 2) + '\n');
  return { clusterId, adminToken, memberDirs: members.map((m) => join(dir, m.id)) };
}

async function createMemberDir(mdir: string, cluster: ClusterFile, m: MemberSpec, secrets: ClusterSecrets, snapshot: Snapshot): Promise<void> {
  const peers = Object.fromEntries(cluster.members.map((p) => [p.id, { api: p.api, raft: p.raft }]));
  await writeMemberFile(mdir, { format: 'space-opera/meta-member', clusterId: cluster.clusterId, id: m.id, address: { api: m.api, raft: m.raft }, peers });
  await saveClusterSecrets(join(mdir, SECRETS_FILE), secrets);
  const storage = await RaftStorage.open(join(mdir, RAFT_DIR));
  await storage.saveSnapshot(snapshot);
  await storage.close();
}

export async function readClusterFile(dir: string): Promise<ClusterFile> {
  const text = await readFile(join(dir, CLUSTER_FILE), 'utf8').catch(() => {
    throw new Error(`${dir} holds no cluster (no ${CLUSTER_FILE}); run \`opera meta bootstrap\` first`);
  });
  return JSON.parse(text) as ClusterFile;
}

/**
 * Prepares the directory of a new member (it starts from the cluster's initial state and
 * catches up from the log or a snapshot). The member still has to be added to the group.
 */
export async function prepareMemberDir(dir: string, m: MemberSpec, knownMembers: MemberSpec[]): Promise<string> {
  const cluster = await readClusterFile(dir);
  const mdir = join(dir, m.id);
  if (await exists(join(mdir, RAFT_DIR))) throw new Error(`${mdir} already holds a member's data`);
  const initial = JSON.parse(await readFile(join(dir, INITIAL_SNAPSHOT_FILE), 'utf8')) as { config: Config; data: string };
  const secrets = await loadClusterSecrets(join(dir, SECRETS_FILE));
  const members = [...knownMembers.filter((k) => k.id !== m.id), m];
  await createMemberDir(mdir, { ...cluster, members }, m, secrets, {
    meta: { index: 0, term: 0, config: initial.config },
    data: Buffer.from(initial.data, 'base64'),
  });
  return mdir;
}
