// Direct-mode object access: encrypt locally (data keys wrapped by the gateway), talk to
// the partition's primary, refresh the route on a stale epoch, read from another replica
// when asked. The CLI uses it; the gateway's proxy uses it with its own key service.
import { request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { validateKey, validatePrefix } from '../common/keys.js';
import { createDecryptStream, createEncryptStream, newSealingKey } from '../crypto/envelope.js';
import { decodeHeader, HEADER_LENGTH, plaintextLength } from '../crypto/envelope-format.js';
import { unwrapOne, type KeyService } from '../crypto/key-service.js';
import { putBatch, type BatchPutItem, type BatchPutResult } from './batch-put.js';
import { GatewayError, type GatewayAccess } from './gateway-http.js';
import { ClientMap, type KeyRoute, type MapNode, type PartitionMapSource } from './partition-map.js';
import { RemoteKeyService } from './remote-keys.js';

export interface ObjectInfo {
  readonly key: string;
  readonly version: number;
  /** Plaintext bytes. */
  readonly size: number;
  readonly contentType: string;
  readonly digest: string;
}

export interface PutOptions {
  readonly contentType?: string;
  /** Compare-and-set: only if the current version is this one. */
  readonly ifMatch?: number;
  /** Create only: fail if the key exists. */
  readonly ifNoneMatch?: boolean;
}

export class ObjectError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = 'ObjectError';
  }
}

const RETRYABLE = new Set(['stale-epoch', 'not-primary', 'not-enough-replicas', 'unreachable', 'no-primary']);

export function objectPath(partition: number, key: string): string {
  return `/v1/partitions/${partition}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export class ObjectClient {
  readonly map: PartitionMapSource;
  private readonly keys: KeyService;

  constructor(private readonly access: GatewayAccess, opts: { keys?: KeyService; map?: PartitionMapSource } = {}) {
    this.map = opts.map ?? new ClientMap(access);
    this.keys = opts.keys ?? new RemoteKeyService(access);
  }

  /** Encrypts and stores a value; `open` is called again for each attempt (a stale route retries). */
  async put(key: string, open: () => AsyncIterable<Uint8Array> | Uint8Array, opts: PutOptions = {}): Promise<{ version: number }> {
    validateKey(key);
    return this.withRoute(key, async (route) => {
      const primary = needPrimary(route);
      const sealing = await newSealingKey(this.keys, key);
      const source = open();
      const plain = source instanceof Uint8Array ? Readable.from([source]) : Readable.from(source);
      const cipher = createEncryptStream(sealing);
      // A failing source (a cut-off upload, an unreadable file) aborts the request.
      plain.on('error', (err) => cipher.destroy(err));
      const headers: Record<string, string> = {
        'x-opera-epoch': String(route.epoch),
        'content-type': opts.contentType ?? 'application/octet-stream',
        authorization: `Bearer ${this.access.token}`,
      };
      if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
      if (opts.ifNoneMatch) headers['if-none-match'] = '*';
      const res = await send('PUT', primary.url + objectPath(route.partition, key), headers, plain.pipe(cipher));
      const body = await json<{ version: number }>(res);
      return { version: body.version };
    });
  }

  /** Many small values of one partition in one request, each encrypted with its own data key. */
  putBatch(partition: number, items: readonly BatchPutItem[]): Promise<BatchPutResult[]> {
    for (const it of items) validateKey(it.key);
    return putBatch(this.access, this.map, this.keys, partition, items);
  }

  /** The object's metadata, or null when absent. */
  async stat(key: string): Promise<ObjectInfo | null> {
    validateKey(key);
    return this.withRoute(key, async (route) => {
      const res = await send('HEAD', needPrimary(route).url + objectPath(route.partition, key), this.readHeaders(route));
      res.resume();
      if (res.statusCode === 404) return null;
      if (res.statusCode !== 200) await json(res);
      return infoOf(key, res);
    });
  }

  /** The decrypted value as a stream, or null when absent. Errors in the stream mean "no value". */
  async get(key: string, opts: { consistency?: 'linearizable' | 'any' } = {}): Promise<{ info: ObjectInfo; body: Readable } | null> {
    validateKey(key);
    return this.withRoute(key, async (route) => {
      const node = opts.consistency === 'any' ? pickReplica(route) : needPrimary(route);
      const q = opts.consistency === 'any' ? '?consistency=any' : '';
      const res = await send('GET', node.url + objectPath(route.partition, key) + q, this.readHeaders(route));
      if (res.statusCode === 404) {
        res.resume();
        return null;
      }
      if (res.statusCode !== 200) await json(res);
      const info = infoOf(key, res);
      const header = await readExactly(res, HEADER_LENGTH);
      const dataKey = await unwrapOne(this.keys, key, decodeHeader(header));
      const decrypt = createDecryptStream({ dataKey });
      decrypt.write(header);
      const body = res.pipe(decrypt);
      res.on('error', (err) => decrypt.destroy(err));
      return { info, body };
    });
  }

  async getBytes(key: string, opts: { consistency?: 'linearizable' | 'any' } = {}): Promise<Buffer | null> {
    const got = await this.get(key, opts);
    if (!got) return null;
    const chunks: Buffer[] = [];
    await pipeline(got.body, async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) chunks.push(c);
    });
    return Buffer.concat(chunks);
  }

  async delete(key: string, opts: { ifMatch?: number } = {}): Promise<boolean> {
    validateKey(key);
    return this.withRoute(key, async (route) => {
      const headers = { ...this.readHeaders(route), ...(opts.ifMatch !== undefined ? { 'if-match': `"${opts.ifMatch}"` } : {}) };
      const res = await send('DELETE', needPrimary(route).url + objectPath(route.partition, key), headers);
      if (res.statusCode === 404) {
        res.resume();
        return false;
      }
      await json(res);
      return true;
    });
  }

  /** One page of an ordered listing across every partition, merged by key. */
  async list(prefix = '', opts: { after?: string; limit?: number } = {}): Promise<{ items: ObjectInfo[]; next: string | null }> {
    validatePrefix(prefix);
    const limit = Math.min(Math.max(opts.limit ?? 1000, 1), 10_000);
    const map = await this.map.current();
    const pages = await Promise.all(map.partitions.map((p) => this.retrying(() => this.map.partition(p.partition), async (route) => {
      const node = needPrimary(route);
      const qs = new URLSearchParams({ prefix, limit: String(limit), ...(opts.after ? { after: opts.after } : {}) });
      const res = await send('GET', `${node.url}/v1/partitions/${p.partition}/objects?${qs}`, this.readHeaders(route));
      return (await json<{ items: { key: string; version: number; size: number; contentType: string; digest: string }[] }>(res)).items;
    })));
    const all = pages.flat().sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    const items = all.slice(0, limit).map((o) => ({ key: o.key, version: o.version, size: plaintextLength(o.size), contentType: o.contentType, digest: o.digest }));
    return { items, next: all.length > limit || items.length === limit ? items[items.length - 1]?.key ?? null : null };
  }

  private readHeaders(route: KeyRoute): Record<string, string> {
    return { 'x-opera-epoch': String(route.epoch), authorization: `Bearer ${this.access.token}` };
  }

  /** Runs `fn` with the key's route; a stale epoch or a dead primary refreshes the map and retries. */
  private async withRoute<T>(key: string, fn: (route: KeyRoute) => Promise<T>): Promise<T> {
    return this.retrying(() => this.map.route(key), fn);
  }

  /** Runs `fn` with a fresh route each time; a stale epoch, a dead primary or any 503 refreshes the map and retries, a 401 renews the credential once. */
  private async retrying<T>(routeOf: () => Promise<KeyRoute>, fn: (route: KeyRoute) => Promise<T>): Promise<T> {
    let lastError: unknown;
    let renewed = false;
    for (let attempt = 0; attempt < 8; attempt++) {
      const route = await routeOf();
      const sent = this.access.token;
      try {
        return await fn(route);
      } catch (err) {
        lastError = err;
        // A node refused the credential (an expired session): renew it once and go again.
        if (err instanceof ObjectError && err.status === 401 && !renewed && this.access.renew !== undefined) {
          renewed = true;
          if (await this.access.renew(sent)) continue;
        }
        const known = err instanceof ObjectError || err instanceof GatewayError;
        // Every 503 from a node or the gateway is temporary (it carries Retry-After).
        if (!known || !(RETRYABLE.has(err.code) || err.status === 503)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
        await this.map.refresh();
      }
    }
    throw lastError;
  }
}

function needPrimary(route: KeyRoute): MapNode & { url: string } {
  const p = route.primary;
  if (!p || !p.url) throw new ObjectError(`partition ${route.partition} has no primary right now`, 503, 'no-primary');
  return p as MapNode & { url: string };
}

function pickReplica(route: KeyRoute): MapNode & { url: string } {
  const up = route.replicas.filter((r) => r.url && r.state === 'up');
  return (up[Math.floor(Math.random() * up.length)] as (MapNode & { url: string }) | undefined) ?? needPrimary(route);
}

function infoOf(key: string, res: IncomingMessage): ObjectInfo {
  const etag = String(res.headers['etag'] ?? '').replace(/"/g, '');
  const stored = Number(res.headers['x-opera-size'] ?? res.headers['content-length'] ?? 0);
  return {
    key,
    version: Number(etag),
    size: plaintextLength(stored),
    contentType: String(res.headers['x-opera-content-type'] ?? res.headers['content-type'] ?? 'application/octet-stream'),
    digest: String(res.headers['x-opera-digest'] ?? ''),
  };
}

function send(method: string, url: string, headers: Record<string, string>, body?: Readable): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, resolve);
    req.on('error', (err) => reject(new ObjectError(`${new URL(url).host}: ${err.message}`, 503, 'unreachable')));
    if (body) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end();
  });
}

async function json<T>(res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const body = (text ? JSON.parse(text) : {}) as T & { error?: { code: string; message: string } };
  const status = res.statusCode ?? 500;
  if (status >= 400) throw new ObjectError(body.error?.message ?? `HTTP ${status}`, status, body.error?.code ?? 'http-error');
  return body;
}

/** Reads the first `n` bytes of a response, leaving the rest in the stream. */
async function readExactly(res: IncomingMessage, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = (res.read() as Buffer | null) ?? (await new Promise<Buffer | null>((resolve, reject) => {
      const onReadable = (): void => { cleanup(); resolve(res.read() as Buffer | null); };
      const onEnd = (): void => { cleanup(); resolve(null); };
      const onError = (e: Error): void => { cleanup(); reject(e); };
      const cleanup = (): void => { res.off('readable', onReadable); res.off('end', onEnd); res.off('error', onError); };
      res.on('readable', onReadable);
      res.on('end', onEnd);
      res.on('error', onError);
    }));
    if (chunk === null) {
      if (res.readableEnded) throw new ObjectError('the stored value is truncated (no complete encryption header)', 502, 'truncated');
      continue;
    }
    parts.push(chunk);
    have += chunk.length;
  }
  const all = Buffer.concat(parts);
  if (all.length > n) res.unshift(all.subarray(n));
  return all.subarray(0, n);
}
