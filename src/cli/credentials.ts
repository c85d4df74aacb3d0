// The CLI's credentials file: which gateway to talk to, with which token, and the session
// that token was last exchanged for (renewed by any command that finds it expiring). It lives at
// $OPERA_HOME/credentials.json, else ~/.config/opera/credentials.json, mode 0600 (a
// token is a bearer secret). `opera login` and `opera dev` write it; every command that
// calls the gateway reads it last, after flags and OPERA_GATEWAY / OPERA_TOKEN.
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StoredSession } from '../client/session.js';

export interface Credentials {
  readonly gateway?: string;
  readonly token?: string;
  /** The current session of `token` (file only). */
  readonly session?: StoredSession;
}

export type Env = Readonly<Record<string, string | undefined>>;

const MAX_FILE_BYTES = 64 * 1024;

export function credentialsFile(env: Env = process.env): string {
  const home = env['OPERA_HOME'];
  if (home !== undefined && home !== '') return join(home, 'credentials.json');
  return join(env['HOME'] || homedir(), '.config', 'opera', 'credentials.json');
}

/** The file's content; {} when it does not exist. Refuses a file others may read. */
export async function readCredentialsFile(path: string = credentialsFile()): Promise<Credentials> {
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new Error(`cannot read the credentials file ${path}: ${err.code ?? err.message}`);
  });
  if (file === null) return {};
  let text: string;
  try {
    const info = await file.stat();
    if ((info.mode & 0o077) !== 0) {
      throw new Error(`the credentials file ${path} is readable by others (mode 0${(info.mode & 0o777).toString(8)}): run chmod 600 on it`);
    }
    if (info.size > MAX_FILE_BYTES) throw new Error(`the credentials file ${path} is too large`);
    text = await file.readFile('utf8');
  } finally {
    await file.close();
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`the credentials file ${path} is not valid JSON`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`the credentials file ${path} must hold a JSON object`);
  const { gateway, token, session } = doc as Record<string, unknown>;
  if (gateway !== undefined && typeof gateway !== 'string') throw new Error(`${path}: "gateway" must be a URL string`);
  if (token !== undefined && typeof token !== 'string') throw new Error(`${path}: "token" must be a string`);
  const stored = session === undefined || session === null ? undefined : storedSession(session, path);
  return { ...(gateway ? { gateway } : {}), ...(token ? { token } : {}), ...(stored && token ? { session: stored } : {}) };
}

function storedSession(v: unknown, path: string): StoredSession {
  const s = v as Partial<StoredSession> | null;
  if (typeof s !== 'object' || s === null || typeof s.token !== 'string' || typeof s.parent !== 'string' || !Number.isSafeInteger(s.expiresAt)) {
    throw new Error(`${path}: "session" must be {"token", "parent", "expiresAt"} (delete it to open a new one)`);
  }
  return { token: s.token, parent: s.parent, expiresAt: s.expiresAt as number };
}

/** Writes the file atomically with mode 0600 (its directory 0700 when created). */
export async function writeCredentialsFile(credentials: Credentials, path: string = credentialsFile()): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(JSON.stringify({ gateway: credentials.gateway, token: credentials.token, session: credentials.session }, null, 2) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return path;
}

/** Each field from the flags, else the environment, else the credentials file. */
export async function resolveCredentials(flags: Credentials, env: Env = process.env): Promise<Credentials> {
  let gateway = flags.gateway ?? nonEmpty(env['OPERA_GATEWAY']);
  let token = flags.token ?? nonEmpty(env['OPERA_TOKEN']);
  let session: StoredSession | undefined;
  if (gateway === undefined || token === undefined) {
    const file = await readCredentialsFile(credentialsFile(env));
    // The saved session belongs to the saved token on the saved gateway only.
    if (token === undefined && (gateway === undefined || gateway === file.gateway)) session = file.session;
    gateway ??= file.gateway;
    token ??= file.token;
  }
  return { ...(gateway !== undefined ? { gateway } : {}), ...(token !== undefined ? { token } : {}), ...(session !== undefined ? { session } : {}) };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
