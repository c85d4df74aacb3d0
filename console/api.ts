// Calls to the gateway with the signed-in token (same origin), and its errors as the API
// states them: {"error": {"code", "message"}} with the HTTP status.
import type { ConsoleView } from './types.js';

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
  override toString(): string {
    return `${this.status} ${this.code}: ${this.message}`;
  }
}

async function failureOf(res: Response): Promise<ApiFailure> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) return new ApiFailure(res.status, body.error.code, body.error.message ?? '');
  } catch {
    // not JSON: fall through
  }
  return new ApiFailure(res.status, `http-${res.status}`, text || res.statusText);
}

/** The path of an object key, each segment escaped and its / separators kept. */
export function objectPath(key: string): string {
  return `/v1/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
}

const READ_ATTEMPTS = 4;

export class Api {
  constructor(readonly token: string) {}

  /**
   * A request; throws ApiFailure for an error status. A read answered 503 (retryable by
   * the API's contract: a failover, a lease being renewed) is tried again a few times,
   * as the project's clients do; the last error is shown.
   */
  async call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    const read = (init.method ?? 'GET') === 'GET';
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(path, { ...init, headers, cache: 'no-store' });
      if (res.ok) return res;
      if (!read || res.status !== 503 || attempt >= READ_ATTEMPTS || init.signal?.aborted) throw await failureOf(res);
      await res.body?.cancel();
      const wait = Math.min(2, Number(res.headers.get('retry-after')) || 1) * 1000;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.call(path, init)).json()) as T;
  }

  /**
   * Follows GET /v1/console/events (EventSource cannot send a bearer token, so the stream
   * is read with fetch). Reconnects after a failure until `signal` aborts; `onState` tells
   * whether the stream is live.
   */
  async follow(onView: (view: ConsoleView) => void, onState: (live: boolean, error: string | null) => void, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const res = await this.call('/v1/console/events', { signal, headers: { accept: 'text/event-stream' } });
        onState(true, null);
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event?.type === 'view') onView(JSON.parse(event.data) as ConsoleView);
          }
        }
        onState(false, 'the stream ended');
      } catch (err) {
        if (signal.aborted) return;
        onState(false, err instanceof ApiFailure ? err.toString() : String(err));
        // A credential the gateway refuses will not get better by retrying.
        if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) throw err;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function parseEvent(block: string): { type: string; data: string } | null {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { type, data: data.join('\n') } : null;
}
