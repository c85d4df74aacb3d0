// The one-time join through a gateway (docs/data-plane.md): POST /v1/join with the join
// token and the node's public key; the answer is the node's certificate, a node token,
// the authority's public key and where meta is. The caller saves it as credentials.json.
import { encodeBase64url } from '../crypto/base64url.js';
import { parseCredentialFields, type NodeCredentials } from './credentials.js';
import type { NodeIdentity } from './identity.js';
import { isRecord } from './secure-file.js';

export interface JoinOptions {
  readonly gateway: string;
  readonly joinToken: string;
  readonly identity: NodeIdentity;
  /** Where other processes reach this node: http://HOST:PORT. */
  readonly url: string;
  readonly zone?: string;
  /** Placement weight (relative capacity). */
  readonly capacity: number;
  readonly timeoutMs?: number;
}

export class JoinError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = 'JoinError';
  }
}

export async function joinThroughGateway(opts: JoinOptions): Promise<NodeCredentials> {
  const base = opts.gateway.replace(/\/+$/, '');
  const body = {
    nodeId: opts.identity.nodeId,
    publicKey: encodeBase64url(opts.identity.publicKey),
    url: opts.url,
    capacity: opts.capacity,
    ...(opts.zone !== undefined ? { zone: opts.zone } : {}),
  };
  let res: Response;
  try {
    res = await fetch(`${base}/v1/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.joinToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new JoinError(`the gateway ${base} did not answer: ${(err as Error).message}`, 503, 'unavailable');
  }
  const json = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const error = isRecord(json) && isRecord(json['error']) ? json['error'] : {};
    const code = typeof error['code'] === 'string' ? error['code'] : 'http-error';
    const message = typeof error['message'] === 'string' ? error['message'] : `HTTP ${res.status}`;
    throw new JoinError(`the gateway refused the join: ${message}`, res.status, code);
  }
  if (!isRecord(json)) throw new JoinError('the gateway answered the join with something other than a JSON object', 502, 'bad-answer');
  const credentials = parseCredentialFields({ ...json, nodeId: json['nodeId'] ?? opts.identity.nodeId, gateway: base }, (why) => new JoinError(`the gateway's join answer is invalid: ${why}`, 502, 'bad-answer'));
  if (credentials.nodeId !== opts.identity.nodeId) throw new JoinError(`the gateway admitted ${credentials.nodeId}, not ${opts.identity.nodeId}`, 502, 'bad-answer');
  return credentials;
}
