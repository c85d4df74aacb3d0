// Every `opera` command, registered by main.ts.
import { devCommands } from './dev.js';
import { gatewayCommands } from './gateway.js';
import { importCommands } from './import.js';
import { metaCommands } from './meta.js';
import { objectCommands } from './objects.js';
import { tokenCommands } from './token.js';

export const commands = [...devCommands, ...metaCommands, ...gatewayCommands, ...tokenCommands, ...objectCommands, ...importCommands];
