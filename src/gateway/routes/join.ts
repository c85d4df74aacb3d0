// Node admission (docs/data-plane.md): POST /v1/join with a single-use join token, and
// POST /v1/renew, signed with the node's certificate, for a fresh node token.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../../common/http-errors.js';
import { encodeBase64url } from '../../crypto/base64url.js';
import { issueCertificate, mintToken, newTokenId } from '../../crypto/tokens.js';
import type { ApplyResult } from '../../meta/state.js';
import { claimsOf, guard, verifySigned } from '../auth.js';
import { badRequest, readJsonObject, readRawBody, type Fields } from '../body.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';
import { MapNotLoadedError } from '../map-cache.js';

export const NODE_TOKEN_TTL_S = 30 * 86_400;
export const NODE_CERTIFICATE_TTL_S = 365 * 86_400;

const NODE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ZONE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const MAX_CAPACITY = 1_000_000_000;

export interface JoinRequest {
  readonly nodeId: string;
  readonly publicKey: Buffer;
  readonly url: string;
  readonly zone?: string;
  readonly capacity: number;
}

/** Checks every field of a join body; 400 naming the field otherwise. */
export function parseJoinRequest(f: Fields): JoinRequest {
  f.only(['nodeId', 'publicKey', 'url', 'zone', 'capacity']);
  const nodeId = f.string('nodeId', NODE_ID, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$');
  const publicKey = f.bytes('publicKey', 32);
  const url = nodeUrl(f);
  const capacity = f.integer('capacity', 1, MAX_CAPACITY);
  const zone = f.has('zone') ? f.string('zone', ZONE, 'must be 1..32 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit') : undefined;
  return { nodeId, publicKey, url, capacity, ...(zone !== undefined ? { zone } : {}) };
}

/** http(s)://HOST:PORT with an explicit port and nothing else (no path, query or credentials). */
function nodeUrl(f: Fields): string {
  const raw = f.raw['url'];
  const rule = 'must be http://HOST:PORT or https://HOST:PORT (explicit port, no path)';
  if (typeof raw !== 'string' || raw.length > 300) f.fail('url', rule);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    f.fail('url', rule);
  }
  const portWritten = /:[0-9]{1,5}\/?$/.test(raw);
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !portWritten || u.username !== '' || u.password !== '' ||
    (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '' || u.hostname === '') {
    f.fail('url', rule);
  }
  // URL drops a default port (":80" for http); the node's address keeps it explicit.
  const port = u.port || (u.protocol === 'http:' ? '80' : '443');
  if (port === '0') f.fail('url', rule);
  return `${u.protocol}//${u.hostname}:${port}`;
}

/** meta's refusal of a node-join, as the HTTP answer the node gets. */
function joinRefused(result: Extract<ApplyResult, { ok: false }>): ApiError {
  switch (result.code) {
    case 'token-used':
      return new ApiError(409, 'token-used', 'this join token was already used: ask an operator for a new one');
    case 'node-exists':
      return new ApiError(409, 'node-exists', result.message);
    case 'conflict':
      return new ApiError(409, 'conflict', result.message);
    case 'token-expired':
      return new ApiError(401, 'credential-expired', 'the join token has expired');
    case 'not-initialized':
      return new ApiError(503, 'not-initialized', result.message, { 'Retry-After': '1' });
    default:
      return badRequest(`meta refused the join: ${result.message}`);
  }
}

/** The cluster id, from the cached map; 503 before the map is loaded. */
function clusterIdOf(g: GatewayContext): string {
  const map = g.mapCache.current();
  if (map === null) throw new MapNotLoadedError();
  return map.settings.clusterId;
}

export const registerJoinRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.post('/v1/join', guard(g, ['join']), async (ctx: Context) => {
    const claims = claimsOf(ctx);
    const req = parseJoinRequest(await readJsonObject(ctx, g.limits.jsonBodyBytes));
    const clusterId = clusterIdOf(g);
    const result = await g.meta.command({
      type: 'node-join',
      nodeId: req.nodeId,
      url: req.url,
      publicKey: encodeBase64url(req.publicKey),
      ...(req.zone !== undefined ? { zone: req.zone } : {}),
      capacity: req.capacity,
      tokenId: claims.id,
      tokenExpiresAt: claims.exp * 1000,
    });
    if (!result.ok) throw joinRefused(result);
    void g.mapCache.refresh('join').catch(() => undefined);
    const iat = Math.floor(g.now() / 1000);
    // The ids are logged (they are not secrets) so an operator can revoke a lost node's credentials.
    const [certificateId, tokenId] = [newTokenId(), newTokenId()];
    const certificate = issueCertificate(g.secrets.authority, {
      id: certificateId, role: 'node', sub: req.nodeId, iat, exp: iat + NODE_CERTIFICATE_TTL_S, publicKey: req.publicKey,
    });
    const token = mintToken(g.secrets.authority, { id: tokenId, role: 'node', sub: req.nodeId, iat, exp: iat + NODE_TOKEN_TTL_S });
    g.log.info({ nodeId: req.nodeId, url: req.url, zone: req.zone, joinToken: claims.id, tokenId, certificateId }, 'node joined');
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      nodeId: req.nodeId,
      certificate,
      certificateExpiresAt: (iat + NODE_CERTIFICATE_TTL_S) * 1000,
      token,
      tokenExpiresAt: (iat + NODE_TOKEN_TTL_S) * 1000,
      authorityPublicKey: encodeBase64url(g.secrets.authority.publicKey),
      metaEndpoints: [...g.meta.endpoints],
      clusterId,
    };
  });

  router.post('/v1/renew', async (ctx: Context) => {
    const body = await readRawBody(ctx, g.limits.jsonBodyBytes);
    const cert = await verifySigned(g, ctx, body, ['node'], clusterIdOf(g));
    if (body.length > 0 && body.toString('utf8').trim() !== '{}') throw badRequest('the body of /v1/renew must be empty or {}');
    const state = await g.mapCache.state(5000);
    // A node meta removed (or never admitted) gets nothing, whatever its certificate says.
    const node = Object.hasOwn(state.nodes, cert.sub) ? state.nodes[cert.sub]! : undefined;
    if (node === undefined || node.state === 'removed') {
      throw new ApiError(403, 'node-not-admitted', `node "${cert.sub}" is not an admitted node of this cluster`);
    }
    if (node.publicKey !== encodeBase64url(cert.publicKey)) {
      throw new ApiError(403, 'key-mismatch', `the certificate's key is not the key meta holds for node "${cert.sub}"`);
    }
    const iat = Math.floor(g.now() / 1000);
    const [certificateId, tokenId] = [newTokenId(), newTokenId()];
    const token = mintToken(g.secrets.authority, { id: tokenId, role: 'node', sub: cert.sub, iat, exp: iat + NODE_TOKEN_TTL_S });
    // A fresh certificate too, so a node that keeps renewing never has to join again.
    const certificate = issueCertificate(g.secrets.authority, {
      id: certificateId, role: 'node', sub: cert.sub, iat, exp: iat + NODE_CERTIFICATE_TTL_S, publicKey: cert.publicKey,
    });
    g.log.info({ nodeId: cert.sub, tokenId, certificateId, previousCertificate: cert.id }, 'node credentials renewed');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      token,
      tokenExpiresAt: (iat + NODE_TOKEN_TTL_S) * 1000,
      certificate,
      certificateExpiresAt: (iat + NODE_CERTIFICATE_TTL_S) * 1000,
    };
  });
};
