// The key service (DESIGN.md, Security): callers send data keys to wrap with the current
// KEK, or wrapped keys to unwrap, in batches of up to 1000; the KEK never leaves the
// gateway. Every call is authenticated, so a revoked credential can no longer unwrap.
// Responses carry data keys: they are never logged, and are marked no-store.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { validateKey } from '../../common/keys.js';
import { encodeBase64url } from '../../crypto/base64url.js';
import type { WrappedKey } from '../../crypto/envelope-format.js';
import { MAX_KEY_BATCH, type UnwrapRequest, type WrapRequest } from '../../crypto/key-service.js';
import { Secret } from '../../crypto/secret.js';
import { guard } from '../auth.js';
import { readJsonObject, type Fields } from '../body.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';

const KEK_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const KEY_ROLES = ['client', 'admin', 'gateway'] as const;

/** The JSON form of a WrappedKey: bytes in base64url. */
export interface WrappedKeyJson {
  readonly kekName: string;
  readonly kekVersion: number;
  readonly nonce: string;
  readonly wrappedKey: string;
}

export function wrappedKeyToJson(w: WrappedKey): WrappedKeyJson {
  return { kekName: w.kekName, kekVersion: w.kekVersion, nonce: encodeBase64url(w.nonce), wrappedKey: encodeBase64url(w.wrappedKey) };
}

function objectKeyOf(f: Fields): string {
  const key = f.raw['objectKey'];
  if (typeof key !== 'string') f.fail('objectKey', 'must be a string (the object\'s key)');
  try {
    validateKey(key);
  } catch (err) {
    f.fail('objectKey', `is not a valid key: ${(err as Error).message}`);
  }
  return key;
}

function wrappedKeyOf(f: Fields): WrappedKey {
  f.only(['kekName', 'kekVersion', 'nonce', 'wrappedKey']);
  return {
    kekName: f.string('kekName', KEK_NAME, 'must be a KEK name: 1..32 of a-z 0-9 _ -, starting with a letter'),
    kekVersion: f.integer('kekVersion', 1, 0xffffffff),
    nonce: f.bytes('nonce', 24),
    wrappedKey: f.bytes('wrappedKey', 48),
  };
}

export const registerKeyRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  router.post('/v1/keys/wrap', guard(g, KEY_ROLES), async (ctx: Context) => {
    const items = (await readJsonObject(ctx, g.limits.keyBodyBytes)).only(['items']).objects('items', MAX_KEY_BATCH);
    const requests: WrapRequest[] = items.map((f) => {
      f.only(['objectKey', 'dataKey']);
      const objectKey = objectKeyOf(f);
      const bytes = f.bytes('dataKey', 32);
      const dataKey = new Secret(bytes, 'data key');
      bytes.fill(0);
      return { objectKey, dataKey };
    });
    try {
      const wrapped = await g.keys.wrap(requests);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { items: wrapped.map(wrappedKeyToJson) };
    } finally {
      for (const r of requests) r.dataKey.wipe();
    }
  });

  router.post('/v1/keys/unwrap', guard(g, KEY_ROLES), async (ctx: Context) => {
    const items = (await readJsonObject(ctx, g.limits.keyBodyBytes)).only(['items']).objects('items', MAX_KEY_BATCH);
    const requests: UnwrapRequest[] = items.map((f) => {
      f.only(['objectKey', 'header']);
      return { objectKey: objectKeyOf(f), header: wrappedKeyOf(f.object('header')) };
    });
    const results = await g.keys.unwrap(requests);
    if (results.length !== requests.length) throw new Error('key service returned a wrong number of results');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      items: results.map((r) => {
        if (!r.ok) return { ok: false, error: { code: r.error.code, message: r.error.message } };
        const dataKey = encodeBase64url(r.dataKey.expose());
        r.dataKey.wipe();
        return { ok: true, dataKey };
      }),
    };
  });
};
