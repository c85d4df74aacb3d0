// The node's identity: an Ed25519 key pair and a node id, made on first start and kept in
// DIR/identity.json (mode 0600). The public key is what meta records and what the node's
// certificate binds; the id is `n-` + 8 random hex digits unless the operator names it.
import { join } from 'node:path';
import { decodeBase64url, encodeBase64url } from '../crypto/base64url.js';
import { publicKeyOf, randomBytes, signKeyPair } from '../crypto/sodium.js';
import { isRecord, readSecureJson, SecureFileError, writeSecureJson } from './secure-file.js';

export const IDENTITY_FILE = 'identity.json';
/** The gateway's rule for node ids. */
export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface NodeIdentity {
  readonly nodeId: string;
  readonly publicKey: Buffer;
  /** libsodium's 64-byte Ed25519 secret key. */
  readonly secretKey: Buffer;
}

export function newNodeId(): string {
  return `n-${randomBytes(4).toString('hex')}`;
}

export function checkNodeId(id: string): void {
  if (!NODE_ID_PATTERN.test(id)) throw new Error(`node id ${JSON.stringify(id)} must match ${NODE_ID_PATTERN.source}`);
}

/** A fresh identity (not yet saved). */
export function generateIdentity(nodeId: string = newNodeId()): NodeIdentity {
  checkNodeId(nodeId);
  const { publicKey, secretKey } = signKeyPair();
  return { nodeId, publicKey, secretKey };
}

export async function saveIdentity(dir: string, identity: NodeIdentity): Promise<void> {
  await writeSecureJson(join(dir, IDENTITY_FILE), {
    nodeId: identity.nodeId,
    publicKey: encodeBase64url(identity.publicKey),
    secretKey: encodeBase64url(identity.secretKey),
  });
}

/** The identity in DIR, or null when there is none yet. */
export async function loadIdentity(dir: string): Promise<NodeIdentity | null> {
  const path = join(dir, IDENTITY_FILE);
  const doc = await readSecureJson(path);
  if (doc === null) return null;
  const invalid = (why: string): SecureFileError => new SecureFileError('invalid', `${path} is invalid: ${why}`);
  if (!isRecord(doc) || typeof doc['nodeId'] !== 'string' || !NODE_ID_PATTERN.test(doc['nodeId'])) throw invalid('nodeId is missing or malformed');
  const publicKey = typeof doc['publicKey'] === 'string' ? decodeBase64url(doc['publicKey']) : null;
  const secretKey = typeof doc['secretKey'] === 'string' ? decodeBase64url(doc['secretKey']) : null;
  if (publicKey === null || publicKey.length !== 32) throw invalid('publicKey must be 32 bytes of base64url');
  if (secretKey === null || secretKey.length !== 64) throw invalid('secretKey must be 64 bytes of base64url');
  if (!publicKeyOf(secretKey).equals(publicKey)) throw invalid('publicKey is not the public half of secretKey');
  return { nodeId: doc['nodeId'], publicKey, secretKey };
}

/**
 * The identity in DIR, made and saved on first start. A requested id must match the
 * saved one: an identity is never silently renamed.
 */
export async function loadOrCreateIdentity(dir: string, requestedId?: string): Promise<{ identity: NodeIdentity; created: boolean }> {
  const existing = await loadIdentity(dir);
  if (existing !== null) {
    if (requestedId !== undefined && requestedId !== existing.nodeId) {
      throw new Error(`${join(dir, IDENTITY_FILE)} belongs to node ${existing.nodeId}, not ${requestedId}`);
    }
    return { identity: existing, created: false };
  }
  const identity = generateIdentity(requestedId);
  await saveIdentity(dir, identity);
  return { identity, created: true };
}
