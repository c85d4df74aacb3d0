// Every `opera` command, registered by main.ts.
import { clusterCommands } from './cluster.js';
import { counterCommands } from './counter.js';
import { devCommands } from './dev.js';
import { gatewayCommands } from './gateway.js';
import { importCommands } from './import.js';
import { metaCommands } from './meta.js';
import { nodeCommands } from './node.js';
import { objectCommands } from './objects.js';
import { sentinelCommands } from './sentinel.js';
import { tokenCommands } from './token.js';

export const commands = [...devCommands, ...metaCommands, ...nodeCommands, ...gatewayCommands, ...tokenCommands, ...objectCommands, ...importCommands, ...sentinelCommands, ...clusterCommands, ...counterCommands];
