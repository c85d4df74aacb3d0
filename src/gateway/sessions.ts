// Short-lived sessions: a client trades its long-lived token for a session once, then
// sends only the session. A session is a token like any other (signed by the authority,
// so storage nodes and meta verify it offline) that names its parent token, and it is
// recorded in the LiveStore: a gateway accepts it only while the record is there, so a
// logout on one gateway ends it on every gateway sharing the store at once.
import { CredentialError } from '../crypto/errors.js';
import { DEFAULT_LEEWAY_SECONDS, mintToken, newTokenId, type Role, type Signer, type TokenClaims } from '../crypto/tokens.js';
import type { LiveStore } from './live-store/index.js';

/** Roles that may open sessions: the people and programs that read and write data. */
export const SESSION_ROLES = ['client', 'admin'] as const satisfies readonly Role[];

export const DEFAULT_SESSION_TTL_S = 15 * 60;
/** The longest session a gateway may be configured to issue. */
export const MAX_SESSION_TTL_S = 24 * 3600;

export interface OpenedSession {
  readonly token: string;
  readonly claims: TokenClaims & { readonly parent: string };
}

/** What the LiveStore keeps about a session (no secret: the token itself is not stored). */
interface SessionRecord {
  readonly parent: string;
  readonly role: string;
  readonly sub: string;
  readonly exp: number;
}

const KEY_PREFIX = 'session:';

export class Sessions {
  constructor(
    private readonly live: LiveStore,
    private readonly authority: Signer,
    private readonly now: () => number,
  ) {}

  /**
   * Opens a session for `parent` lasting `ttlSeconds`, never beyond the parent's own
   * expiry. Throws CredentialError 'expired' when the parent has (almost) no time left.
   */
  async open(parent: TokenClaims, ttlSeconds: number): Promise<OpenedSession> {
    if (parent.parent !== undefined) throw new Error('a session cannot open another session');
    const iat = Math.floor(this.now() / 1000);
    const exp = Math.min(iat + ttlSeconds, parent.exp);
    if (exp <= iat) throw new CredentialError('expired', `token ${parent.id} has expired`);
    const id = newTokenId();
    const token = mintToken(this.authority, { id, role: parent.role, sub: parent.sub, iat, exp, parent: parent.id });
    const record: SessionRecord = { parent: parent.id, role: parent.role, sub: parent.sub, exp };
    // Kept past `exp` by the verification leeway, so that gateways whose clocks differ a
    // little agree; each gateway still refuses the session at `exp` by its own clock.
    await this.live.putSession(KEY_PREFIX + id, JSON.stringify(record), (exp - iat + DEFAULT_LEEWAY_SECONDS) * 1000);
    return { token, claims: { id, role: parent.role, sub: parent.sub, iat, exp, parent: parent.id } };
  }

  /**
   * Throws CredentialError unless the session is recorded for this parent and not past its
   * expiry. Called for every request that presents a session.
   */
  async check(claims: TokenClaims): Promise<void> {
    if (claims.parent === undefined) return;
    if (this.now() >= claims.exp * 1000) throw new CredentialError('expired', `session ${claims.id} has expired`);
    const raw = await this.live.getSession(KEY_PREFIX + claims.id);
    const record = raw === undefined ? undefined : parseRecord(raw);
    if (record === undefined || record.parent !== claims.parent) {
      throw new CredentialError('session-ended', `session ${claims.id} is not open (logged out, expired or never opened here): exchange the token again`);
    }
  }

  /** Ends a session at every gateway sharing the LiveStore; false when it was not open. */
  end(id: string): Promise<boolean> {
    return this.live.deleteSession(KEY_PREFIX + id);
  }
}

function parseRecord(raw: string): SessionRecord | undefined {
  try {
    const v = JSON.parse(raw) as Partial<SessionRecord>;
    return typeof v.parent === 'string' && typeof v.exp === 'number' ? (v as SessionRecord) : undefined;
  } catch {
    return undefined;
  }
}
