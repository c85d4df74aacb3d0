// One health probe: GET <node>/healthz with a short timeout, over a kept-alive connection. Any 2xx answer in time is
// a success; a timeout (a slow or stopped process), a refused connection (a dead
// process), any other network error or a non-2xx status is a miss, with its reason.
import { httpRequest, readText } from '../common/http-request.js';
import type { MissReason } from './detector.js';

export type ProbeResult =
  | { readonly ok: true; readonly latencyMs: number }
  | { readonly ok: false; readonly reason: MissReason; readonly detail: string };

/** Probes `url` (the node's base URL); never throws. Injected by tests. */
export type ProbeFn = (nodeId: string, url: string, timeoutMs: number) => Promise<ProbeResult>;

export const httpProbe: ProbeFn = async (_nodeId, url, timeoutMs) => {
  const started = performance.now();
  try {
    const res = await httpRequest('GET', `${url.replace(/\/+$/, '')}/healthz`, { headers: {}, signal: AbortSignal.timeout(timeoutMs) });
    // Read the (tiny) body so the connection can be reused, under the same deadline.
    await readText(res.body);
    if (res.status < 200 || res.status >= 300) return { ok: false, reason: 'status', detail: `HTTP ${res.status}` };
    return { ok: true, latencyMs: performance.now() - started };
  } catch (err) {
    return { ok: false, ...classify(err) };
  }
};

function classify(err: unknown): { reason: MissReason; detail: string } {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { reason: 'timeout', detail: 'no answer in time' };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return { reason: 'refused', detail: 'connection refused' };
  return { reason: 'error', detail: code ?? e.cause?.message ?? e.message ?? 'unknown error' };
}
