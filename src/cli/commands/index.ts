// Every `opera` command, registered by main.ts.
import { metaCommands } from './meta.js';

export const commands = [...metaCommands];
