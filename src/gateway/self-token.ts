// The gateway's own credential towards storage nodes: a `gateway` token minted from the
// authority key it holds, renewed at half-life. Used by the object proxy and the console's
// node scrapes.
import { mintToken } from '../crypto/tokens.js';
import type { GatewayContext } from './context.js';

const SELF_TOKEN_TTL_S = 3600;

export function selfToken(g: Pick<GatewayContext, 'secrets' | 'id' | 'now'>): () => string {
  let token = '';
  let renewAt = 0;
  return () => {
    const now = Math.floor(g.now() / 1000);
    if (now >= renewAt) {
      token = mintToken(g.secrets.authority, { role: 'gateway', sub: g.id, iat: now, exp: now + SELF_TOKEN_TTL_S });
      renewAt = now + SELF_TOKEN_TTL_S / 2;
    }
    return token;
  };
}
