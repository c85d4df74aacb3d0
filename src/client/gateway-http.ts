// JSON calls to the gateway with a bearer token; errors become GatewayError with the
// server's code, so callers can tell "retry" from "refused".
export class GatewayError extends Error {
  constructor(message: string, readonly status: number, readonly code: string) {
    super(message);
    this.name = 'GatewayError';
  }
}

export interface GatewayAccess {
  readonly gateway: string;
  readonly token: string;
}

export async function gatewayJson<T>(access: GatewayAccess, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const url = access.gateway.replace(/\/$/, '') + path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${access.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new GatewayError(`cannot reach the gateway at ${access.gateway}: ${(err as Error).message}`, 503, 'unreachable');
  }
  const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) throw new GatewayError(json?.error?.message ?? `HTTP ${res.status}`, res.status, json?.error?.code ?? 'http-error');
  return json as T;
}
