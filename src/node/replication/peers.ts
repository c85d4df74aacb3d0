// HTTP calls from this node to other nodes (role `node`, the node's own bearer token):
// epoch start, beacons, replication batches, status, op and partition pulls. Every call
// has a deadline; answers are checked before use.
import { isRecord } from '../secure-file.js';
import { httpRequest, readText, type HttpAnswer } from '../../common/http-request.js';

export class PeerError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    /** Extra fields of the error body (lastSeq, epoch, primary). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

export interface FenceReply {
  readonly lastSeq: number;
  readonly promiseMs: number;
}

export interface BeaconItem {
  readonly partition: number;
  readonly epoch: number;
}

export interface BeaconAnswer {
  readonly partition: number;
  readonly ok: boolean;
  readonly epoch: number;
  readonly lastSeq: number;
  readonly code?: string;
}

export interface PartitionStatusReply {
  readonly epoch: number;
  readonly lastSeq: number;
  readonly sinceBeaconMs: number;
}

export class PeerClient {
  constructor(
    private readonly token: () => string,
    private readonly self: string,
  ) {}

  async fence(url: string, partition: number, epoch: number, timeoutMs: number): Promise<FenceReply> {
    const json = await this.#json('POST', `${url}/v1/partitions/${partition}/epoch-start`, { epoch, primary: this.self }, timeoutMs);
    return { lastSeq: count(json, 'lastSeq'), promiseMs: count(json, 'promiseMs') };
  }

  async beacons(url: string, items: readonly BeaconItem[], timeoutMs: number): Promise<BeaconAnswer[]> {
    const json = await this.#json('POST', `${url}/v1/beacons`, { primary: this.self, items }, timeoutMs);
    const list = json['items'];
    if (!Array.isArray(list)) throw new PeerError('beacon answer has no items', 502, 'bad-answer');
    return list.map((it: unknown) => {
      if (!isRecord(it)) throw new PeerError('beacon answer item is not an object', 502, 'bad-answer');
      return { partition: count(it, 'partition'), ok: it['ok'] === true, epoch: count(it, 'epoch'), lastSeq: count(it, 'lastSeq'), ...(typeof it['code'] === 'string' ? { code: it['code'] } : {}) };
    });
  }

  async status(url: string, partition: number, timeoutMs: number): Promise<PartitionStatusReply> {
    const json = await this.#json('GET', `${url}/v1/partitions/${partition}/status`, undefined, timeoutMs);
    const since = json['sinceBeaconMs'];
    return { epoch: count(json, 'epoch'), lastSeq: count(json, 'lastSeq'), sinceBeaconMs: typeof since === 'number' ? since : Infinity };
  }

  /** Sends one ops batch; resolves with the replica's lastSeq after it applied the batch. */
  async replicate(url: string, partition: number, body: AsyncIterable<Buffer>, signal: AbortSignal): Promise<number> {
    const res = await this.#send('POST', `${url}/v1/partitions/${partition}/replicate`, { body, contentType: 'application/octet-stream', signal });
    const json = await answer(res);
    return count(json, 'lastSeq');
  }

  /** A streamed body (ops or export): the caller reads it to its end or aborts `signal`. */
  async stream(url: string, path: string, signal: AbortSignal): Promise<{ body: AsyncIterable<Uint8Array>; headers: { get(name: string): string | null } }> {
    const res = await this.#send('GET', `${url}${path}`, { signal });
    if (res.status !== 200) await answer(res);
    return { body: res.body, headers: { get: (name) => res.header(name) } };
  }

  async #json(method: string, url: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
    const res = await this.#send(method, url, {
      ...(body !== undefined ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return answer(res);
  }

  async #send(method: string, url: string, opts: { body?: string | AsyncIterable<Uint8Array>; contentType?: string; signal: AbortSignal }): Promise<HttpAnswer> {
    try {
      return await httpRequest(method, url, {
        headers: { authorization: `Bearer ${this.token()}`, ...(opts.contentType ? { 'content-type': opts.contentType } : {}) },
        ...(opts.body !== undefined ? { body: opts.body } : {}),
        signal: opts.signal,
      });
    } catch (err) {
      throw new PeerError(`${method} ${url}: ${(err as Error).message}`, 0, 'unreachable');
    }
  }
}

async function answer(res: HttpAnswer): Promise<Record<string, unknown>> {
  let json: unknown = null;
  try {
    json = JSON.parse(await readText(res.body));
  } catch (err) {
    // An answer cut off (the peer died, the deadline passed) is a transport failure.
    if (!(err instanceof SyntaxError)) throw new PeerError(`reading the answer: ${(err as Error).message}`, 0, 'unreachable');
  }
  const ok = res.status >= 200 && res.status < 300;
  if (ok && isRecord(json)) return json;
  const error = isRecord(json) && isRecord(json['error']) ? json['error'] : {};
  const code = typeof error['code'] === 'string' ? error['code'] : 'http-error';
  const message = typeof error['message'] === 'string' ? error['message'] : `HTTP ${res.status}`;
  throw new PeerError(message, res.status, code, error);
}

function count(json: Record<string, unknown>, field: string): number {
  const v = json[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new PeerError(`peer answer: ${field} is not a count`, 502, 'bad-answer');
  return v;
}
