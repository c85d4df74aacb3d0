// Cluster secrets: the authority's Ed25519 key pair (signs tokens and certificates) and
// the key-encryption keys (wrap every object's data key). They live only on meta and
// gateway hosts, in one JSON file of mode 0600, written atomically and never printed.
import { open, link, unlink, rename, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { SecretsFileError } from './errors.js';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import { Secret } from './secret.js';
import { randomBytes, signKeyPair, publicKeyOf, constantTimeEqual, AEAD_KEY_BYTES } from './sodium.js';

export interface AuthorityKeys {
  readonly publicKey: Buffer;
  readonly secretKey: Secret;
}

/** A key-encryption key; `name` + `version` identify it in every encryption header. */
export interface Kek {
  readonly name: string;
  readonly version: number;
  readonly key: Secret;
}

export interface ClusterSecrets {
  readonly authority: AuthorityKeys;
  /** Every KEK version still needed to unwrap stored objects; the newest wraps new ones. */
  readonly keks: readonly Kek[];
}

export const SECRETS_FILE_FORMAT = 'space-opera-cluster-secrets';
export const SECRETS_FILE_VERSION = 1;
export const DEFAULT_KEK_NAME = 'kek';
export const KEK_NAME_MAX_BYTES = 32;
const MAX_FILE_BYTES = 1 << 20;
const KEK_NAME = /^[a-z][a-z0-9_-]*$/;

export function assertKekName(name: string): void {
  if (typeof name !== 'string' || name.length > KEK_NAME_MAX_BYTES || !KEK_NAME.test(name)) {
    throw new Error(`KEK name must be 1..${KEK_NAME_MAX_BYTES} characters of a-z, 0-9, '_' or '-', starting with a letter`);
  }
}

export function assertKekVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) {
    throw new Error('KEK version must be an integer from 1 to 4294967295');
  }
}

/** The printable identity of a KEK, e.g. `kek-1`. Carries no key material. */
export function kekLabel(kek: { readonly name: string; readonly version: number }): string {
  return `${kek.name}-${kek.version}`;
}

export function generateAuthority(): AuthorityKeys {
  const { publicKey, secretKey } = signKeyPair();
  const authority = { publicKey, secretKey: new Secret(secretKey, 'authority secret key') };
  secretKey.fill(0);
  return authority;
}

export function generateKek(name: string, version: number): Kek {
  assertKekName(name);
  assertKekVersion(version);
  const bytes = randomBytes(AEAD_KEY_BYTES);
  const kek = { name, version, key: new Secret(bytes, `KEK ${name}-${version}`) };
  bytes.fill(0);
  return kek;
}

export function generateClusterSecrets(kekName: string = DEFAULT_KEK_NAME): ClusterSecrets {
  return { authority: generateAuthority(), keks: [generateKek(kekName, 1)] };
}

/** The KEK new wraps use: the highest version. Throws if two KEKs share that version. */
export function currentKek(keks: readonly Kek[]): Kek {
  const [first, ...rest] = keks;
  if (first === undefined) throw new Error('no KEK loaded');
  let newest = first;
  for (const kek of rest) if (kek.version > newest.version) newest = kek;
  const tied = keks.filter((k) => k.version === newest.version);
  if (tied.length > 1) throw new Error(`ambiguous current KEK: ${tied.map(kekLabel).join(', ')} share version ${newest.version}`);
  return newest;
}

/** Secrets with one more KEK (version = newest + 1), which becomes the one new wraps use. */
export function rotateKek(secrets: ClusterSecrets, name: string = currentKek(secrets.keks).name): ClusterSecrets {
  const next = generateKek(name, currentKek(secrets.keks).version + 1);
  return { authority: secrets.authority, keks: [...secrets.keks, next] };
}

function toFileJson(secrets: ClusterSecrets): string {
  assertValid(secrets);
  return JSON.stringify({
    format: SECRETS_FILE_FORMAT,
    version: SECRETS_FILE_VERSION,
    authority: {
      publicKey: encodeBase64url(secrets.authority.publicKey),
      secretKey: encodeBase64url(secrets.authority.secretKey.expose()),
    },
    keks: secrets.keks.map((k) => ({ name: k.name, version: k.version, key: encodeBase64url(k.key.expose()) })),
  }, null, 2) + '\n';
}

function assertValid(secrets: ClusterSecrets): void {
  const { publicKey, secretKey } = secrets.authority;
  if (secretKey.length !== 64 || !constantTimeEqual(publicKeyOf(secretKey.expose()), publicKey)) {
    throw new Error('authority public key does not match its secret key');
  }
  const seen = new Set<string>();
  for (const kek of secrets.keks) {
    assertKekName(kek.name);
    assertKekVersion(kek.version);
    if (kek.key.length !== AEAD_KEY_BYTES) throw new Error(`KEK ${kekLabel(kek)} must be ${AEAD_KEY_BYTES} bytes`);
    if (seen.has(kekLabel(kek))) throw new Error(`duplicate KEK ${kekLabel(kek)}`);
    seen.add(kekLabel(kek));
  }
  currentKek(secrets.keks);
}

/**
 * Writes the secrets atomically with mode 0600 (temp file, fsync, then link or rename,
 * then fsync of the directory). Refuses to replace an existing file unless `overwrite`.
 */
export async function saveClusterSecrets(
  path: string, secrets: ClusterSecrets, options: { overwrite?: boolean } = {},
): Promise<void> {
  const data = Buffer.from(toFileJson(secrets), 'utf8');
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.chmod(0o600); // umask can only remove bits, but be explicit
    await file.writeFile(data);
    await file.sync();
  } finally {
    data.fill(0);
    await file.close();
  }
  try {
    if (options.overwrite === true) {
      await rename(temp, path);
    } else {
      // link() fails if `path` exists: an atomic "create only", unlike rename.
      await link(temp, path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') {
          throw new SecretsFileError('exists', `secrets file ${path} already exists; refusing to overwrite it`);
        }
        throw err;
      });
      await unlink(temp);
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try { await dirHandle.sync(); } finally { await dirHandle.close(); }
}

/** Loads and validates a secrets file; refuses one readable or writable by group or others. */
export async function loadClusterSecrets(path: string): Promise<ClusterSecrets> {
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new SecretsFileError('not-found', `secrets file ${path} does not exist`);
    throw err;
  });
  let raw: Buffer;
  try {
    const info = await file.stat(); // fstat of the opened file: no race with a swapped path
    if (!info.isFile()) throw new SecretsFileError('invalid', `secrets file ${path} is not a regular file`);
    const mode = info.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new SecretsFileError('insecure-permissions',
        `secrets file ${path} has mode 0${mode.toString(8)}; it must be readable by its owner only ` +
        `(mode 0600): run chmod 600 on it, and consider rotating the secrets if others could have read it`);
    }
    if (info.size > MAX_FILE_BYTES) throw new SecretsFileError('invalid', `secrets file ${path} is too large`);
    raw = await file.readFile();
  } finally {
    await file.close();
  }
  try {
    return parseSecrets(raw, path);
  } finally {
    raw.fill(0);
  }
}

function parseSecrets(raw: Buffer, path: string): ClusterSecrets {
  const invalid = (why: string): SecretsFileError => new SecretsFileError('invalid', `secrets file ${path} is invalid: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalid('not valid JSON'); // JSON.parse's own message quotes the content
  }
  if (!isRecord(doc) || doc.format !== SECRETS_FILE_FORMAT) throw invalid(`format is not ${SECRETS_FILE_FORMAT}`);
  if (doc.version !== SECRETS_FILE_VERSION) throw invalid(`unsupported version (this build reads ${SECRETS_FILE_VERSION})`);
  const authority = doc.authority;
  if (!isRecord(authority)) throw invalid('authority is missing');
  const publicKey = bytesField(authority.publicKey, 32, 'authority.publicKey', invalid);
  const secretBytes = bytesField(authority.secretKey, 64, 'authority.secretKey', invalid);
  const secretKey = new Secret(secretBytes, 'authority secret key');
  secretBytes.fill(0);
  if (!Array.isArray(doc.keks) || doc.keks.length === 0) throw invalid('keks must be a non-empty list');
  const keks: Kek[] = doc.keks.map((entry: unknown, i: number) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.version !== 'number') {
      throw invalid(`keks[${i}] must have a name, a version and a key`);
    }
    const keyBytes = bytesField(entry.key, AEAD_KEY_BYTES, `keks[${i}].key`, invalid);
    const kek = { name: entry.name, version: entry.version, key: new Secret(keyBytes, `KEK ${entry.name}-${entry.version}`) };
    keyBytes.fill(0);
    return kek;
  });
  const secrets = { authority: { publicKey, secretKey }, keks };
  try {
    assertValid(secrets);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  return secrets;
}

function bytesField(value: unknown, length: number, name: string, invalid: (why: string) => Error): Buffer {
  const bytes = typeof value === 'string' ? decodeBase64url(value) : null;
  if (bytes === null || bytes.length !== length) throw invalid(`${name} must be ${length} bytes of base64url`);
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True if `path` exists (for "refuse to bootstrap over an existing cluster" checks). */
export async function secretsFileExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false;
    throw err;
  });
}
