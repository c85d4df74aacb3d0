// One JSON call from the CLI to a gateway, with the gateway's error turned into one
// readable line ("gateway refused: forbidden: role ... (HTTP 403)"). A 401 lets the
// access renew its session once before the call is given up.
import type { GatewayAccess } from '../client/gateway-http.js';

export class GatewayCallError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = 'GatewayCallError';
  }
}

export type GatewayTarget = GatewayAccess;

export async function callGateway<T>(target: GatewayTarget, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const base = target.gateway.replace(/\/+$/, '');
  for (let attempt = 0; ; attempt++) {
    const token = target.token;
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new GatewayCallError(`cannot reach the gateway at ${base}: ${cause}`, 0, 'unreachable');
    }
    const json = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (res.ok) return json as T;
    if (res.status === 401 && attempt === 0 && target.renew !== undefined && (await target.renew(token))) continue;
    const code = json?.error?.code ?? 'http-error';
    const message = json?.error?.message ?? res.statusText;
    throw new GatewayCallError(`gateway refused: ${code}: ${message} (HTTP ${res.status})`, res.status, code);
  }
}
