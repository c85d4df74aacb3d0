// Every route file of the gateway. A new file of routes exports a RegisterRoutes and is
// added here (and its paths to openapi.ts: a test checks the two agree).
import type { RegisterRoutes } from '../context.js';
import { registerClusterRoutes } from './cluster.js';
import { registerCounterRoutes } from './counters.js';
import { registerConsoleRoutes } from './console.js';
import { registerHealthRoutes } from './health.js';
import { registerJoinRoutes } from './join.js';
import { registerKeyRoutes } from './keys.js';
import { registerObjectRoutes } from './objects.js';
import { registerRoutingRoutes } from './routing.js';
import { registerSessionRoutes } from './sessions.js';
import { registerTokenRoutes } from './tokens.js';

export const routeModules: readonly RegisterRoutes[] = [
  registerHealthRoutes,
  registerJoinRoutes,
  registerTokenRoutes,
  registerSessionRoutes,
  registerKeyRoutes,
  registerRoutingRoutes,
  registerClusterRoutes,
  registerObjectRoutes,
  registerCounterRoutes,
  registerConsoleRoutes,
];
