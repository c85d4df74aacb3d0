// The KeyService of a client: the gateway holds the KEK and wraps or unwraps data keys
// for it, in batches (one round trip per batch, never one per object).
import { decodeBase64url, encodeBase64url } from '../crypto/base64url.js';
import type { WrappedKey } from '../crypto/envelope-format.js';
import { EnvelopeError } from '../crypto/errors.js';
import { MAX_KEY_BATCH, type KeyService, type UnwrapRequest, type UnwrapResult, type WrapRequest } from '../crypto/key-service.js';
import { Secret } from '../crypto/secret.js';
import { gatewayJson, type GatewayAccess } from './gateway-http.js';

interface WrappedKeyJson {
  kekName: string;
  kekVersion: number;
  nonce: string;
  wrappedKey: string;
}

function bytes(s: string, what: string): Buffer {
  const b = decodeBase64url(s);
  if (b === null) throw new Error(`the gateway sent a malformed ${what}`);
  return b;
}

export class RemoteKeyService implements KeyService {
  constructor(private readonly access: GatewayAccess) {}

  async wrap(requests: readonly WrapRequest[]): Promise<WrappedKey[]> {
    const out: WrappedKey[] = [];
    for (let i = 0; i < requests.length; i += MAX_KEY_BATCH) {
      const batch = requests.slice(i, i + MAX_KEY_BATCH);
      const res = await gatewayJson<{ items: WrappedKeyJson[] }>(this.access, 'POST', '/v1/keys/wrap', {
        items: batch.map((r) => ({ objectKey: r.objectKey, dataKey: encodeBase64url(r.dataKey.expose()) })),
      });
      for (const w of res.items) {
        out.push({ kekName: w.kekName, kekVersion: w.kekVersion, nonce: bytes(w.nonce, 'nonce'), wrappedKey: bytes(w.wrappedKey, 'wrapped key') });
      }
    }
    return out;
  }

  async unwrap(requests: readonly UnwrapRequest[]): Promise<UnwrapResult[]> {
    const out: UnwrapResult[] = [];
    for (let i = 0; i < requests.length; i += MAX_KEY_BATCH) {
      const batch = requests.slice(i, i + MAX_KEY_BATCH);
      const res = await gatewayJson<{ items: ({ ok: true; dataKey: string } | { ok: false; error: { code: string; message: string } })[] }>(
        this.access, 'POST', '/v1/keys/unwrap', {
          items: batch.map((r) => ({
            objectKey: r.objectKey,
            header: { kekName: r.header.kekName, kekVersion: r.header.kekVersion, nonce: encodeBase64url(r.header.nonce), wrappedKey: encodeBase64url(r.header.wrappedKey) },
          })),
        },
      );
      for (const item of res.items) {
        if (item.ok) {
          const raw = bytes(item.dataKey, 'data key');
          out.push({ ok: true, dataKey: new Secret(raw, 'data key') });
          raw.fill(0);
        } else {
          out.push({ ok: false, error: new EnvelopeError('unwrap-failed', item.error.message) });
        }
      }
    }
    return out;
  }
}
