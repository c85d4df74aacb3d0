// One HTTP exchange with another node over node:http with a keep-alive agent. Replication
// calls sit on the path of every write: fetch() (undici, WHATWG streams) cost about four
// times the CPU of node:http per request here (docs/benchmark-notes.md), on both sides.
import { Agent, request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface PeerResponse {
  readonly status: number;
  header(name: string): string | null;
  /** Read it to its end, or abort the request's signal. */
  readonly body: IncomingMessage;
}

export interface PeerRequest {
  readonly headers: Record<string, string>;
  readonly body?: string | AsyncIterable<Uint8Array>;
  readonly signal: AbortSignal;
}

/** Peers are few; their connections are kept and reused. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Resolves with the answer's status and headers; rejects on a transport error or abort. */
export function peerRequest(method: string, url: string, opts: PeerRequest): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: opts.headers, signal: opts.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, header: (name) => headerOf(res, name), body: res });
    });
    req.on('error', reject);
    if (opts.body === undefined) req.end();
    else if (typeof opts.body === 'string') req.end(opts.body);
    // A failing body (a store read) destroys the request, which rejects through 'error'.
    else pipeline(Readable.from(opts.body, { objectMode: false }), req).catch((err: Error) => req.destroy(err));
  });
}

function headerOf(res: IncomingMessage, name: string): string | null {
  const v = res.headers[name.toLowerCase()];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/** The whole answer as text (small JSON answers only). */
export async function readText(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of res) parts.push(piece as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
