// JSON calls to the gateway with a bearer token; errors become GatewayError with the
// server's code, so callers can tell "retry" from "refused".
import { httpRequest, readJsonOrNull } from '../common/http-request.js';

export class GatewayError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = 'GatewayError';
  }
}

export interface GatewayAccess {
  readonly gateway: string;
  /** The bearer credential; read at each request, so it may change (a renewed session). */
  readonly token: string;
  /**
   * Called after a 401 for the credential `rejected`; resolves true when a fresh one is
   * ready and the request may be sent once more. Absent: a 401 is final.
   */
  readonly renew?: (rejected: string) => Promise<boolean>;
}

export async function gatewayJson<T>(access: GatewayAccess, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const url = access.gateway.replace(/\/$/, '') + path;
  for (let attempt = 0; ; attempt++) {
    const token = access.token;
    let status: number;
    let json: { error?: { code: string; message: string } } | null;
    try {
      const res = await httpRequest(method, url, {
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      json = (await readJsonOrNull(res.body)) as typeof json;
    } catch (err) {
      throw new GatewayError(`cannot reach the gateway at ${access.gateway}: ${(err as Error).message}`, 503, 'unreachable');
    }
    if (status === 401 && attempt === 0 && access.renew !== undefined && (await access.renew(token))) continue;
    if (status < 200 || status >= 300) throw new GatewayError(json?.error?.message ?? `HTTP ${status}`, status, json?.error?.code ?? 'http-error');
    return json as T;
  }
}
