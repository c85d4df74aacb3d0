// The web console: its page and assets (anonymous: they hold no data; the page asks for a
// token before it shows anything), and the two authenticated views it reads: the whole
// picture as JSON and the same picture pushed as server-sent events every sample.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { PassThrough } from 'node:stream';
import { ApiError } from '../../common/http-errors.js';
import { guard } from '../auth.js';
import { ConsoleAssets, type Asset } from '../console/assets.js';
import { withRecentTelemetry, type ConsoleView } from '../console/view.js';
import type { GatewayContext, RegisterRoutes } from '../context.js';

const VIEW_ROLES = ['admin', 'client', 'sentinel', 'node'] as const;
const KEEPALIVE_MS = 15_000;

/** Same-origin code and styles only; no inline script or style, no framing, no forms posting away. */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

function serve(ctx: Context, asset: Asset): void {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  // Names carry no hash: revalidate every time, a 304 when unchanged.
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('ETag', asset.etag);
  if (ctx.get('if-none-match') === asset.etag) {
    ctx.status = 304;
    return;
  }
  ctx.type = asset.type;
  ctx.body = asset.body;
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const registerConsoleRoutes: RegisterRoutes = (router: Router, g: GatewayContext) => {
  const assets = new ConsoleAssets();

  router.get('/console', async (ctx: Context) => {
    // Without its code the page would sit blank; say why instead.
    if ((await assets.get('main.js')) === null) {
      throw new ApiError(503, 'console-not-built', 'the console is not built: run `npm run build`');
    }
    const page = await assets.get('index.html');
    if (page === null) throw new ApiError(503, 'console-not-built', 'the console page is missing from this installation');
    serve(ctx, page);
  });

  router.get('/console/assets/:file', async (ctx: Context) => {
    const name = String((ctx.params as { file?: string }).file ?? '');
    const asset = name === 'index.html' ? null : await assets.get(name);
    if (asset === null) throw new ApiError(404, 'not-found', `no console asset ${name}`);
    serve(ctx, asset);
  });

  router.get('/v1/console/view', guard(g, VIEW_ROLES), async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await g.consoleFeed.view();
  });

  router.get('/v1/console/events', guard(g, VIEW_ROLES), async (ctx: Context) => {
    const first = await g.consoleFeed.view();
    const stream = new PassThrough();
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.req.socket.setNoDelay(true);
    // The first event carries the whole telemetry history, later ones what is new since.
    let sentUpTo = first.at;
    stream.write(`retry: 2000\n\n${sse('view', first)}`);
    const unsubscribe = g.consoleFeed.subscribe((view: ConsoleView) => {
      stream.write(sse('view', withRecentTelemetry(view, sentUpTo - 5000)));
      sentUpTo = view.at;
    });
    const keepalive = setInterval(() => stream.write(': keepalive\n\n'), KEEPALIVE_MS);
    const close = (): void => {
      clearInterval(keepalive);
      unsubscribe();
      stream.end();
    };
    ctx.req.once('close', close);
    stream.once('error', close);
    ctx.body = stream;
  });
};
