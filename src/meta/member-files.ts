// A meta member's directory: member.json (who it is, where its peers are), its copy of
// the cluster secrets (mode 0600) and the Raft storage. Read and written here only.
import { createHmac } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterSecrets } from '../crypto/secrets.js';
import type { MemberAddress } from './machine.js';

export interface MemberFile {
  readonly format: 'space-opera/meta-member';
  readonly clusterId: string;
  readonly id: string;
  readonly address: MemberAddress;
  /** The members known when this directory was made; the log keeps the list current. */
  readonly peers: Record<string, MemberAddress>;
}

export const MEMBER_FILE = 'member.json';
export const SECRETS_FILE = 'secrets.json';
export const RAFT_DIR = 'raft';

const MEMBER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function checkMemberId(id: string): void {
  if (!MEMBER_ID.test(id)) throw new Error(`member id "${id}" must be 1..63 characters of a-z, 0-9, '_' or '-'`);
}

/** "host:port" with a port in range; the host is kept as given. */
export function checkHostPort(value: string, what: string): void {
  const m = /^(.+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`${what} "${value}" must be HOST:PORT`);
}

/**
 * Parses `m2=HOST:PORT,m3=HOST:PORT`: the Raft addresses this member dials for those
 * peers instead of the ones recorded in the log (a local override, never replicated).
 */
export function parsePeerRaft(spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`--peer-raft "${part}" must look like ID=HOST:PORT`);
    const id = part.slice(0, eq);
    const address = part.slice(eq + 1);
    checkMemberId(id);
    checkHostPort(address, `--peer-raft ${id}`);
    if (out.has(id)) throw new Error(`--peer-raft names ${id} twice`);
    out.set(id, address);
  }
  return out;
}

export async function writeMemberFile(dir: string, file: MemberFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${MEMBER_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, join(dir, MEMBER_FILE));
}

export async function readMemberFile(dir: string): Promise<MemberFile> {
  let text: string;
  try {
    text = await readFile(join(dir, MEMBER_FILE), 'utf8');
  } catch {
    throw new Error(`${dir} is not a meta member directory (no ${MEMBER_FILE}); run \`opera meta bootstrap\` first`);
  }
  const file = JSON.parse(text) as MemberFile;
  if (file.format !== 'space-opera/meta-member') throw new Error(`${join(dir, MEMBER_FILE)} is not a meta member file`);
  checkMemberId(file.id);
  checkHostPort(file.address.api, 'api address');
  checkHostPort(file.address.raft, 'raft address');
  return file;
}

/** The key that authenticates Raft connections: derived, so the authority key itself never travels. */
export function raftTransportSecret(secrets: ClusterSecrets): Uint8Array {
  return createHmac('sha256', secrets.authority.secretKey.expose()).update('space-opera raft transport v1').digest();
}

/**
 * One process per member directory: two members writing one log would corrupt it.
 * The lock file holds the owner's pid; a lock left by a dead process is taken over.
 */
export async function lockMemberDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`${dir} is in use by process ${owner}; a member directory serves one process at a time`);
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new Error(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
