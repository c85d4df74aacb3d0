// Small JSON files that hold secrets (identity, credentials): written atomically with mode
// 0600 (temp file, fsync, rename, directory fsync), and refused on read when group or
// others may read or write them.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const MAX_FILE_BYTES = 64 * 1024;

export class SecureFileError extends Error {
  constructor(readonly code: 'not-found' | 'insecure-permissions' | 'invalid', message: string) {
    super(message);
    this.name = 'SecureFileError';
  }
}

export async function writeSecureJson(path: string, doc: unknown): Promise<void> {
  const data = Buffer.from(JSON.stringify(doc, null, 2) + '\n', 'utf8');
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(data);
    await file.sync();
  } finally {
    data.fill(0);
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** The parsed JSON, null when the file does not exist. */
export async function readSecureJson(path: string): Promise<unknown> {
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (file === null) return null;
  let raw: Buffer;
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new SecureFileError('invalid', `${path} is not a regular file`);
    const mode = info.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new SecureFileError('insecure-permissions', `${path} has mode 0${mode.toString(8)}; it must be readable by its owner only (chmod 600)`);
    }
    if (info.size > MAX_FILE_BYTES) throw new SecureFileError('invalid', `${path} is too large`);
    raw = await file.readFile();
  } finally {
    await file.close();
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new SecureFileError('invalid', `${path} is not valid JSON`);
  } finally {
    raw.fill(0);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
