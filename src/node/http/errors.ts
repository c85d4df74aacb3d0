// Errors of the node's HTTP API: the project's JSON shape {"error": {"code", "message",
// ...details}} with the right status. Store, key, wire and replication errors are mapped
// here, in one place; unexpected failures are 500 without internals.
import type { Context, Next } from 'koa';
import { KeyError } from '../../common/keys.js';
import { ApiError } from '../../common/http-errors.js';
import { StoreError } from '../store/index.js';
import { WireError } from '../wire/byte-reader.js';
import { WriteUnconfirmedError } from '../replication/commit-waiters.js';
import { SequenceGapError } from '../replication/ops.js';

/** An ApiError whose body carries extra fields (epoch, primary, lastSeq, currentVersion). */
export class DetailedApiError extends ApiError {
  constructor(status: number, code: string, message: string, readonly details: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(status, code, message, headers);
  }
}

const RETRY = { 'Retry-After': '1' };

export function unavailable(code: string, message: string): ApiError {
  return new ApiError(503, code, message, RETRY);
}

/** The caller's view of the partition is stale, or this node is not the one to ask. */
export function staleEpoch(message: string, epoch: number, primary: string | null, primaryUrl: string | null): DetailedApiError {
  const headers: Record<string, string> = { 'X-Opera-Epoch': String(epoch) };
  if (primary !== null) headers['X-Opera-Primary'] = primary;
  return new DetailedApiError(409, 'stale-epoch', message, { epoch, primary, primaryUrl }, headers);
}

/** Maps a known error to its HTTP answer; anything else is returned as is (a 500). */
export function toApiError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof KeyError) return new DetailedApiError(400, 'invalid-key', err.message, { rule: err.rule });
  if (err instanceof WireError) return new ApiError(err.code === 'too-large' ? 413 : 400, `bad-body-${err.code}`, err.message);
  if (err instanceof SequenceGapError) return new DetailedApiError(409, 'sequence-gap', err.message, { lastSeq: err.lastSeq });
  if (err instanceof WriteUnconfirmedError) {
    return new ApiError(503, err.code === 'stale-epoch' ? 'write-unconfirmed' : err.code, `${err.message}; the write may or may not have been applied`, RETRY);
  }
  if (err instanceof StoreError) {
    switch (err.code) {
      case 'bad-argument':
        return new ApiError(400, 'bad-request', err.message);
      case 'precondition-failed':
        return new DetailedApiError(412, 'precondition-failed', err.message, { currentVersion: (err as StoreError & { currentVersion?: number | null }).currentVersion ?? null });
      case 'digest-mismatch':
        return new ApiError(400, 'digest-mismatch', err.message);
      case 'size-mismatch':
        return new ApiError(400, 'size-mismatch', err.message);
      case 'stale-epoch':
        return new ApiError(409, 'stale-epoch', err.message);
      case 'sequence':
        return new ApiError(409, 'sequence', err.message);
      case 'range-not-satisfiable':
        return new ApiError(416, 'range-not-satisfiable', err.message);
      case 'partition-busy':
      case 'closed':
        return unavailable(err.code, err.message);
      case 'partition-not-empty':
        return new ApiError(409, err.code, err.message);
      case 'import-invalid':
        return new ApiError(400, err.code, err.message);
      case 'corrupt':
        return new ApiError(500, 'corrupt', `${err.message}; the stored copy is damaged and was not returned`);
    }
  }
  return err;
}

/** Koa middleware, outermost: every failure gets the same JSON shape. */
export function nodeErrors(onUnexpected: (err: Error, ctx: Context) => void) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        throw new ApiError(404, 'not-found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (raw) {
      const err = toApiError(raw);
      if (ctx.headerSent || ctx.respond === false) {
        // Too late for an answer: cut the connection so the client sees a failed body, never a short one.
        if (!(err instanceof ApiError) || err.status >= 500) onUnexpected(raw as Error, ctx);
        ctx.res.destroy();
        return;
      }
      if (err instanceof ApiError) {
        ctx.status = err.status;
        for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
        const details = err instanceof DetailedApiError ? err.details : {};
        ctx.body = { error: { code: err.code, message: err.message, ...details } };
        if (err.status >= 500 && err.code === 'corrupt') onUnexpected(raw as Error, ctx);
        return;
      }
      const status = (err as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { error: { code: 'bad-request', message: (err as Error).message } };
        return;
      }
      onUnexpected(err as Error, ctx);
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'internal error; see the node log' } };
    }
  };
}
