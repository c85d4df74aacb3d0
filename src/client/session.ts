// A client's session: the long-lived token is sent to the gateway only to open a session;
// every other request (to the gateway and, in direct mode, to storage nodes) carries the
// short-lived session. It is renewed before it runs out and again whenever a request is
// refused with 401, and renewal ends in a clear error when the token itself is refused.
import { decodeBase64url } from '../crypto/base64url.js';
import { GatewayError } from './gateway-http.js';

/** Roles whose tokens are exchanged for sessions (the gateway's SESSION_ROLES). */
export const EXCHANGEABLE_ROLES: readonly string[] = ['client', 'admin'];
/** A session with less time left than this is renewed before use. */
export const RENEW_MARGIN_MS = 60_000;

export interface StoredSession {
  readonly token: string;
  /** The id of the long-lived token it came from. */
  readonly parent: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

interface Opened {
  session: string;
  id: string;
  parent: string;
  expiresAt: number;
}

/** The unverified claims of a token, to decide what to do with it (the server verifies). */
export function peekClaims(token: string): { id?: string; role?: string; parent?: string; exp?: number } {
  const payload = decodeBase64url(token.split('.')[1] ?? '');
  if (payload === null) return {};
  try {
    const c = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    return {
      ...(typeof c['id'] === 'string' ? { id: c['id'] } : {}),
      ...(typeof c['role'] === 'string' ? { role: c['role'] } : {}),
      ...(typeof c['par'] === 'string' ? { parent: c['par'] } : {}),
      ...(typeof c['exp'] === 'number' ? { exp: c['exp'] } : {}),
    };
  } catch {
    return {};
  }
}

/** True when `token` is a long-lived client or admin token, which should be exchanged. */
export function exchangeable(token: string): boolean {
  const c = peekClaims(token);
  return c.parent === undefined && c.role !== undefined && EXCHANGEABLE_ROLES.includes(c.role);
}

/** The long-lived token was refused (revoked, expired, forged): only a new login helps. */
export class TokenRefusedError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'TokenRefusedError';
  }
}

export interface SessionOptions {
  /** Called with each new session (e.g. to save it); failures are the caller's to report. */
  readonly onRenewed?: (session: StoredSession) => Promise<void>;
  readonly now?: () => number;
  /** Asked lifetime (seconds); the gateway's own limit applies. */
  readonly ttlSeconds?: number;
}

export class SessionCredential {
  #session: StoredSession | null;
  #renewing: Promise<void> | null = null;
  readonly #now: () => number;

  constructor(
    readonly gateway: string,
    private readonly parentToken: string,
    stored: StoredSession | null,
    private readonly opts: SessionOptions = {},
  ) {
    this.#now = opts.now ?? Date.now;
    const parentId = peekClaims(parentToken).id;
    this.#session = stored !== null && stored.parent === parentId ? stored : null;
  }

  /** The session to send now (call `ready()` first). */
  get token(): string {
    if (this.#session === null) throw new Error('no session yet: await ready() first');
    return this.#session.token;
  }

  get session(): StoredSession | null {
    return this.#session;
  }

  /** Opens a session unless the current one has more than RENEW_MARGIN_MS left. */
  async ready(): Promise<void> {
    if (this.#session !== null && this.#session.expiresAt - this.#now() > RENEW_MARGIN_MS) return;
    await this.#exchangeOnce();
  }

  /**
   * After a 401 for `rejected`: true once a different session is ready (retry the request).
   * Throws TokenRefusedError when the long-lived token itself is refused.
   */
  async renew(rejected: string): Promise<boolean> {
    if (this.#session !== null && this.#session.token !== rejected) return true;
    await this.#exchangeOnce();
    return true;
  }

  /** Concurrent callers share one exchange. */
  #exchangeOnce(): Promise<void> {
    this.#renewing ??= this.#exchange().finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  async #exchange(): Promise<void> {
    const url = this.gateway.replace(/\/+$/, '') + '/v1/sessions';
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.parentToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(this.opts.ttlSeconds !== undefined ? { ttl: this.opts.ttlSeconds } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new GatewayError(`cannot reach the gateway at ${this.gateway}: ${(err as Error).message}`, 503, 'unreachable');
    }
    const body = (await res.json().catch(() => null)) as (Opened & { error?: { code: string; message: string } }) | null;
    if (res.status === 401 || res.status === 403) {
      const code = body?.error?.code ?? 'unauthenticated';
      const id = peekClaims(this.parentToken).id ?? '?';
      throw new TokenRefusedError(
        `the gateway refused the token (id ${id}): ${body?.error?.message ?? code}. Ask an admin for a new token and run \`opera login\` again`,
        code,
      );
    }
    if (!res.ok || body === null || typeof body.session !== 'string') {
      throw new GatewayError(body?.error?.message ?? `opening a session failed: HTTP ${res.status}`, res.status, body?.error?.code ?? 'http-error');
    }
    const session: StoredSession = { token: body.session, parent: body.parent, expiresAt: body.expiresAt };
    this.#session = session;
    await this.opts.onRenewed?.(session);
  }
}
