// The OpenAPI document and the router agree: every registered route is documented with
// its method and path (`:param` and `*param` written `{param}`), and every documented one exists.
import t from 'tap';
import { createGatewayApp, registeredRoutes } from '../../src/gateway/app.js';
import type { GatewayContext } from '../../src/gateway/context.js';
import { openApiDocument } from '../../src/gateway/openapi.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Liveness and the console's static files (no data in them); everything else needs a credential. */
const ANONYMOUS = new Set(['/healthz', '/console', '/console/assets/{file}']);

t.test('every route is documented and every documented route exists', async (t) => {
  // Building the app registers routes without calling the context.
  const { router } = createGatewayApp({} as GatewayContext);
  const registered = new Set(registeredRoutes(router).map(([method, path]) => `${method.toLowerCase()} ${path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}')}`));
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(item)) if (HTTP_METHODS.includes(method)) documented.add(`${method} ${path}`);
  }
  t.ok(registered.size >= 15, `the gateway registers its routes (${registered.size})`);
  for (const route of registered) t.ok(documented.has(route), `${route} is documented`);
  for (const route of documented) t.ok(registered.has(route), `${route} is registered`);
  t.equal(openApiDocument.openapi, '3.0.3');
});

t.test('the document is valid enough to use', async (t) => {
  const doc = JSON.parse(JSON.stringify(openApiDocument)) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
    components: { schemas: Record<string, unknown> };
  };
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
  for (const ref of new Set(refs)) t.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} resolves`);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      t.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
      if (!ANONYMOUS.has(path)) t.ok(Array.isArray(op.security) && op.security.length > 0, `${method} ${path} needs a credential`);
    }
  }
});
