// DIR/credentials.json (mode 0600): what the node received when it joined, reused on
// every restart. The node token is the bearer credential the node presents to meta and to
// other nodes; the authority public key verifies every token the node is shown.
import { join } from 'node:path';
import { decodeBase64url } from '../crypto/base64url.js';
import { isRecord, readSecureJson, SecureFileError, writeSecureJson } from './secure-file.js';

export const CREDENTIALS_FILE = 'credentials.json';
const FORMAT = 'space-opera-node-credentials';
const VERSION = 1;

export interface NodeCredentials {
  readonly nodeId: string;
  readonly clusterId: string;
  /** The authority's certificate for the node's public key (request signing, renewal). */
  readonly certificate: string;
  /** A `node` bearer token. */
  readonly token: string;
  readonly authorityPublicKey: Buffer;
  readonly metaEndpoints: readonly string[];
  /** Where the node joined (for renewal); null when it was admitted another way. */
  readonly gateway: string | null;
}

export async function saveCredentials(dir: string, c: NodeCredentials): Promise<void> {
  await writeSecureJson(join(dir, CREDENTIALS_FILE), {
    format: FORMAT,
    version: VERSION,
    nodeId: c.nodeId,
    clusterId: c.clusterId,
    certificate: c.certificate,
    token: c.token,
    authorityPublicKey: c.authorityPublicKey.toString('base64url'),
    metaEndpoints: c.metaEndpoints,
    gateway: c.gateway,
  });
}

/** The credentials in DIR, or null when the node has not joined yet. */
export async function loadCredentials(dir: string): Promise<NodeCredentials | null> {
  const path = join(dir, CREDENTIALS_FILE);
  const doc = await readSecureJson(path);
  if (doc === null) return null;
  const invalid = (why: string): SecureFileError => new SecureFileError('invalid', `${path} is invalid: ${why}`);
  if (!isRecord(doc) || doc['format'] !== FORMAT) throw invalid(`format is not ${FORMAT}`);
  if (doc['version'] !== VERSION) throw invalid(`unsupported version (this build reads ${VERSION})`);
  return parseCredentialFields(doc, invalid);
}

/** Checks the fields shared by the file and the gateway's join answer. */
export function parseCredentialFields(doc: Record<string, unknown>, invalid: (why: string) => Error): NodeCredentials {
  const str = (name: string): string => {
    const v = doc[name];
    if (typeof v !== 'string' || v.length === 0 || v.length > 8192) throw invalid(`${name} must be a non-empty string`);
    return v;
  };
  const authorityPublicKey = decodeBase64url(str('authorityPublicKey'));
  if (authorityPublicKey === null || authorityPublicKey.length !== 32) throw invalid('authorityPublicKey must be 32 bytes of base64url');
  const endpoints = doc['metaEndpoints'];
  if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((e) => typeof e === 'string' && e.length > 0)) {
    throw invalid('metaEndpoints must be a non-empty list of URLs');
  }
  const gateway = doc['gateway'];
  if (gateway !== undefined && gateway !== null && typeof gateway !== 'string') throw invalid('gateway must be a URL or null');
  return {
    nodeId: str('nodeId'),
    clusterId: str('clusterId'),
    certificate: str('certificate'),
    token: str('token'),
    authorityPublicKey,
    metaEndpoints: endpoints as string[],
    gateway: typeof gateway === 'string' ? gateway : null,
  };
}
