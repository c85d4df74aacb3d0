// The workloads' view of the gateway's object API: one request, one bounded wait, and an
// outcome the history can record honestly: "unknown" whenever the request may have
// taken effect without us learning so.
export type Outcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'fail'; readonly error: string }
  | { readonly kind: 'unknown'; readonly error: string };

export interface GatewayTarget {
  readonly url: string;
  readonly token: string;
  readonly timeoutMs: number;
}

/** Refusals that happen before anything is forwarded or written. */
const DEFINITE_REFUSALS = new Set([400, 401, 403, 413, 415, 429]);

export function objectUrl(g: GatewayTarget, key: string): string {
  return `${g.url}/v1/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** refused: the connection was never established, so nothing was sent and nothing can have happened. */
type Answer = { status: number; text: string; etag: string | null } | { error: string; refused: boolean };

async function call(g: GatewayTarget, url: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Answer> {
  try {
    const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${g.token}`, ...init.headers }, signal: AbortSignal.timeout(g.timeoutMs) });
    const text = await res.text();
    return { status: res.status, text, etag: res.headers.get('etag') };
  } catch (err) {
    const e = err as Error;
    const cause = e.cause as (Error & { code?: string }) | undefined;
    return { error: e.name === 'TimeoutError' ? `timeout after ${g.timeoutMs} ms` : `${e.name}: ${cause?.message ?? e.message}`, refused: cause?.code === 'ECONNREFUSED' };
  }
}

function errorOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string } };
    return `${status} ${body.error?.code ?? ''}`.trim();
  } catch {
    return String(status);
  }
}

export interface ReadResult {
  readonly value: string | null;
  readonly version: number | null;
}

export async function readObject(g: GatewayTarget, key: string): Promise<Outcome<ReadResult>> {
  const r = await call(g, objectUrl(g, key), { method: 'GET' });
  if ('error' in r) return { kind: r.refused ? 'fail' : 'unknown', error: r.error };
  if (r.status === 404) return { kind: 'ok', value: { value: null, version: null } };
  if (r.status === 200) return { kind: 'ok', value: { value: r.text, version: Number((r.etag ?? '').replace(/"/g, '')) } };
  // A read changes nothing: a failed one is simply a failure.
  return { kind: 'fail', error: errorOf(r.status, r.text) };
}

export type WriteCondition = { readonly ifMatch: number } | { readonly ifNoneMatch: true } | null;

/** ok(true): written; ok(false): the condition did not hold (412). */
export async function writeObject(g: GatewayTarget, key: string, value: string, cond: WriteCondition, contentType = 'text/plain'): Promise<Outcome<boolean>> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (cond && 'ifMatch' in cond) headers['if-match'] = `"${cond.ifMatch}"`;
  if (cond && 'ifNoneMatch' in cond) headers['if-none-match'] = '*';
  const r = await call(g, objectUrl(g, key), { method: 'PUT', body: value, headers });
  if ('error' in r) return { kind: r.refused ? 'fail' : 'unknown', error: r.error };
  if (r.status === 201 || r.status === 200) return { kind: 'ok', value: true };
  if (r.status === 412 && cond !== null) return { kind: 'ok', value: false };
  if (DEFINITE_REFUSALS.has(r.status)) return { kind: 'fail', error: errorOf(r.status, r.text) };
  // 5xx, 409 and anything else may come after the primary wrote: the outcome is unknown.
  return { kind: 'unknown', error: errorOf(r.status, r.text) };
}

/** ok(true): deleted; ok(false): there was nothing to delete (404). */
export async function deleteObject(g: GatewayTarget, key: string): Promise<Outcome<boolean>> {
  const r = await call(g, objectUrl(g, key), { method: 'DELETE' });
  if ('error' in r) return { kind: r.refused ? 'fail' : 'unknown', error: r.error };
  if (r.status === 204) return { kind: 'ok', value: true };
  if (r.status === 404) return { kind: 'ok', value: false };
  if (DEFINITE_REFUSALS.has(r.status)) return { kind: 'fail', error: errorOf(r.status, r.text) };
  return { kind: 'unknown', error: errorOf(r.status, r.text) };
}

/** Every key under the prefix, page by page; fail if any page fails. */
export async function listKeys(g: GatewayTarget, prefix: string, maxPages = 1000): Promise<Outcome<string[]>> {
  const keys: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const qs = new URLSearchParams({ prefix, limit: '1000', ...(after ? { after } : {}) });
    const r = await call(g, `${g.url}/v1/objects?${qs}`, { method: 'GET' });
    if ('error' in r) return { kind: 'fail', error: r.error };
    if (r.status !== 200) return { kind: 'fail', error: errorOf(r.status, r.text) };
    const body = JSON.parse(r.text) as { items: { key: string }[]; next: string | null };
    keys.push(...body.items.map((i) => i.key));
    if (body.next === null) return { kind: 'ok', value: keys };
    after = body.next;
  }
  return { kind: 'fail', error: `more than ${maxPages} pages` };
}
