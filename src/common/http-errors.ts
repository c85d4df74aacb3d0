// Errors as every HTTP API of the project returns them: JSON {"error": {"code", "message"}}
// with the right status; unexpected failures become 500 without leaking internals.
import type { Context, Next } from 'koa';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Koa middleware: the outermost one, so that every failure has the same shape. */
export function jsonErrors(onUnexpected: (err: Error, ctx: Context) => void) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'not-found', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      if (err instanceof ApiError) {
        ctx.status = err.status;
        for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
        ctx.body = errorBody(err.code, err.message);
        return;
      }
      const status = (err as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = errorBody('bad-request', (err as Error).message);
        return;
      }
      onUnexpected(err as Error, ctx);
      ctx.status = 500;
      ctx.body = errorBody('internal', 'internal error; see the server log');
    }
  };
}

/** Reads a JSON body of at most `limit` bytes; anything else is a clear 4xx. */
export async function readJson(ctx: Context, limit = 1 << 20): Promise<unknown> {
  const type = ctx.get('content-type');
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, 'unsupported-media-type', 'the body must be application/json');
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new ApiError(413, 'too-large', `the body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, 'too-large', `the body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'bad-json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
