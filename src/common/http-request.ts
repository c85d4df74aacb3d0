// One HTTP exchange over node:http (node:https for https: URLs) with keep-alive agents.
// Node-to-node replication and the client's key calls sit on the path of every write and
// read: fetch() (undici, WHATWG streams) cost about four times the CPU of node:http per
// request here, and buffered streamed request bodies without bound (docs/benchmark-notes.md).
import { Agent, request, type IncomingMessage } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface HttpAnswer {
  readonly status: number;
  header(name: string): string | null;
  /** Read it to its end, or abort the request's signal. */
  readonly body: IncomingMessage;
}

export interface HttpCall {
  readonly headers: Record<string, string>;
  readonly body?: string | AsyncIterable<Uint8Array>;
  readonly signal: AbortSignal;
}

/**
 * Test-only: OPERA_SOURCE_ADDRESS binds this process's outgoing connections made here to one
 * local address (e.g. 127.0.0.12), so a fault-injecting proxy in front of a peer can tell
 * callers apart by their source address (the Jepsen harness cuts one node-to-node link
 * this way). Unset (production): the operating system picks, as before.
 */
export const SOURCE_ADDRESS_ENV = 'OPERA_SOURCE_ADDRESS';
const localAddress = process.env[SOURCE_ADDRESS_ENV] || undefined;
const bind = localAddress === undefined ? {} : { localAddress };

const agent = new Agent({ keepAlive: true, maxSockets: 64, ...bind });
const tlsAgent = new TlsAgent({ keepAlive: true, maxSockets: 64, ...bind });

/** Resolves with the answer's status and headers; rejects on a transport error or abort. */
export function httpRequest(method: string, url: string, opts: HttpCall): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('https:');
    const options = { method, headers: opts.headers, signal: opts.signal };
    const onAnswer = (res: IncomingMessage): void => resolve({ status: res.statusCode ?? 0, header: (name) => headerOf(res, name), body: res });
    const req = tls ? tlsRequest(url, { ...options, agent: tlsAgent }, onAnswer) : request(url, { ...options, agent }, onAnswer);
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

/** The whole answer parsed as JSON, or null when it is not JSON (an error page, nothing). */
export async function readJsonOrNull(res: IncomingMessage): Promise<unknown> {
  const text = await readText(res);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
