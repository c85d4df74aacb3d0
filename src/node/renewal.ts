// Keeping the node's credentials fresh: well before its `node` token expires, the node
// asks the gateway it joined through for a new token and certificate (POST /v1/renew,
// signed with its own key and certificate, audience gateway:<clusterId>) and saves them
// in credentials.json. Every client of the node reads the token through a getter, so the
// new one is used from the next request on.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { formatSignatureHeader, signRequest } from '../crypto/request-signing.js';
import { Secret } from '../crypto/secret.js';
import { verifyToken } from '../crypto/tokens.js';
import { saveCredentials, type NodeCredentials } from './credentials.js';
import type { NodeIdentity } from './identity.js';
import { isRecord } from './secure-file.js';

const CHECK_EVERY_MS = 3600_000;

export async function renewThroughGateway(identity: NodeIdentity, credentials: NodeCredentials, timeoutMs = 30_000): Promise<NodeCredentials> {
  if (credentials.gateway === null) throw new Error('the node did not join through a gateway: nowhere to renew its credentials');
  const body = '{}';
  const path = '/v1/renew';
  const key = new Secret(identity.secretKey, 'node secret key');
  const signature = signRequest(
    { secretKey: key, certificate: credentials.certificate },
    { method: 'POST', path, audience: `gateway:${credentials.clusterId}`, bodyDigest: createHash('sha256').update(body).digest() },
    Math.floor(Date.now() / 1000),
  );
  const res = await fetch(`${credentials.gateway}${path}`, {
    method: 'POST',
    headers: { authorization: formatSignatureHeader(signature), 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = (await res.json().catch(() => null)) as unknown;
  if (!res.ok || !isRecord(json) || typeof json['token'] !== 'string' || typeof json['certificate'] !== 'string') {
    const error = isRecord(json) && isRecord(json['error']) ? json['error'] : {};
    throw new Error(`the gateway refused to renew the credentials: ${typeof error['message'] === 'string' ? error['message'] : `HTTP ${res.status}`}`);
  }
  return { ...credentials, token: json['token'], certificate: json['certificate'] };
}

/** Renews when less than a third of the token's life is left; checks hourly. */
export class CredentialRenewer {
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dir: string,
    private readonly identity: NodeIdentity,
    private readonly holder: { credentials: NodeCredentials },
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.check();
    this.#timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async check(): Promise<void> {
    const current = this.holder.credentials;
    if (current.gateway === null) return;
    try {
      const now = Math.floor(Date.now() / 1000);
      const claims = verifyToken(current.authorityPublicKey, current.token, now);
      if (claims.exp - now > (claims.exp - claims.iat) / 3) return;
      const renewed = await renewThroughGateway(this.identity, current);
      await saveCredentials(this.dir, renewed);
      this.holder.credentials = renewed;
      this.log.info('node credentials renewed');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'credential renewal failed; retrying later');
    }
  }
}
