// The gateway's Koa application: shared middleware, then every route file's routes on
// one router. Building it calls nothing: routes only touch the context when requests come.
import Router from '@koa/router';
import Koa from 'koa';
import { jsonErrors } from '../common/http-errors.js';
import type { GatewayContext, RegisterRoutes } from './context.js';
import { observeRequests, requestIdOf, translateFailures } from './request-context.js';
import { routeModules } from './routes/index.js';

export interface GatewayApp {
  readonly app: Koa;
  readonly router: Router;
}

export function createGatewayApp(g: GatewayContext, modules: readonly RegisterRoutes[] = routeModules): GatewayApp {
  const app = new Koa();
  const router = new Router();
  for (const register of modules) register(router, g);
  app.use(observeRequests(g));
  app.use(jsonErrors((err, ctx) => g.log.error({ err, requestId: requestIdOf(ctx), method: ctx.method, path: ctx.path }, 'gateway request failed')));
  app.use(translateFailures(g));
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa logs unhandled errors itself; jsonErrors answers them, so keep the default quiet.
  app.silent = true;
  return { app, router };
}

/** Every registered route as [METHOD, path template] (HEAD, added for each GET, left out). */
export function registeredRoutes(router: Router): [string, string][] {
  const out: [string, string][] = [];
  for (const layer of router.stack) {
    if (typeof layer.path !== 'string') continue;
    // GET layers also answer HEAD; an explicit HEAD route is a layer of its own.
    const explicitHead = layer.methods.length === 1 && layer.methods[0] === 'HEAD';
    for (const method of layer.methods) if (method !== 'HEAD' || explicitHead) out.push([method, layer.path]);
  }
  return out;
}
