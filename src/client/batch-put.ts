// Many small values to one partition in one request (POST /v1/partitions/{p}/batch on its
// primary): each value encrypted with its own data key (the wraps of a batch go to the
// gateway together), one request and one group commit per batch instead of one per value.
// A stale route is refreshed and the batch sent again; a value already written by an
// attempt whose answer was lost then shows up as a failed precondition, never twice.
import { request } from 'node:http';
import { sealValue } from '../crypto/envelope.js';
import type { KeyService } from '../crypto/key-service.js';
import { encodeBase64url } from '../crypto/base64url.js';
import type { GatewayAccess } from './gateway-http.js';
import { ObjectError } from './objects.js';
import type { PartitionMapSource } from './partition-map.js';

/** Plaintext at most this size fits the node's inline limit (64 KiB) once encrypted. */
export const MAX_BATCHED_VALUE_BYTES = 60 * 1024;
export const MAX_BATCH_ITEMS = 1000;

export interface BatchPutItem {
  readonly key: string;
  readonly value: Uint8Array;
  readonly contentType: string;
  /** Create only: refused (412) when the key exists. */
  readonly ifNoneMatch?: boolean;
}

export type BatchPutResult =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

const RETRYABLE = new Set(['stale-epoch', 'not-primary', 'not-enough-replicas', 'unreachable', 'no-primary']);
/**
 * A batch keeps trying for this long (and at least 8 times): a bulk load should ride out a
 * replica dropped from the in-sync set under load, which comes back only after it has
 * copied the partition again, often longer than a few quick retries.
 */
export const BATCH_RETRY_MS = 120_000;
const MIN_ATTEMPTS = 8;

export async function putBatch(
  access: GatewayAccess, map: PartitionMapSource, keys: KeyService, partition: number, items: readonly BatchPutItem[],
): Promise<BatchPutResult[]> {
  if (items.length === 0 || items.length > MAX_BATCH_ITEMS) throw new Error(`a batch holds 1 to ${MAX_BATCH_ITEMS} items`);
  const sealed = await Promise.all(items.map(async (it) => {
    if (it.value.byteLength > MAX_BATCHED_VALUE_BYTES) throw new Error(`${it.key}: values over ${MAX_BATCHED_VALUE_BYTES} bytes are put one by one`);
    return {
      key: it.key, value: encodeBase64url(await sealValue(keys, it.key, it.value)), contentType: it.contentType,
      plainSize: it.value.byteLength, ...(it.ifNoneMatch ? { ifNoneMatch: true } : {}),
    };
  }));
  const body = Buffer.from(JSON.stringify({ items: sealed }), 'utf8');
  let lastError: unknown;
  let renewed = false;
  const deadline = Date.now() + BATCH_RETRY_MS;
  for (let attempt = 0; attempt < MIN_ATTEMPTS || Date.now() < deadline; attempt++) {
    const route = await map.partition(partition);
    const sent = access.token;
    try {
      const primary = route.primary;
      if (primary === null || primary.url === null) throw new ObjectError(`partition ${partition} has no primary right now`, 503, 'no-primary');
      const answer = await post(`${primary.url}/v1/partitions/${partition}/batch`, {
        'content-type': 'application/json', 'x-opera-epoch': String(route.epoch), authorization: `Bearer ${sent}`,
      }, body);
      return answer.items;
    } catch (err) {
      lastError = err;
      if (!(err instanceof ObjectError)) throw err;
      if (err.status === 401 && !renewed && access.renew !== undefined) {
        renewed = true;
        if (await access.renew(sent)) continue;
      }
      if (!(RETRYABLE.has(err.code) || err.status === 503)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
      await map.refresh();
    }
  }
  throw lastError;
}

function post(url: string, headers: Record<string, string>, body: Buffer): Promise<{ items: BatchPutResult[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new ObjectError(`${new URL(url).host}: ${err.message}`, 503, 'unreachable')));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: { items?: BatchPutResult[]; error?: { code: string; message: string } };
        try {
          parsed = text ? (JSON.parse(text) as typeof parsed) : {};
        } catch {
          reject(new ObjectError(`${new URL(url).host} answered ${res.statusCode} with a body that is not JSON`, 502, 'bad-answer'));
          return;
        }
        const status = res.statusCode ?? 500;
        if (status >= 400 || !Array.isArray(parsed.items)) {
          reject(new ObjectError(parsed.error?.message ?? `HTTP ${status}`, status, parsed.error?.code ?? 'http-error'));
          return;
        }
        resolve({ items: parsed.items });
      });
    });
    req.on('error', (err) => reject(new ObjectError(`${new URL(url).host}: ${err.message}`, 503, 'unreachable')));
    req.end(body);
  });
}
