// The node storage engine: see docs/node-storage.md.
export { NodeStore } from './node-store.js';
export type { StatePatch } from './maintenance.js';
export type { ManyItem, ManyOutcome, ManyResult } from './commit-many.js';
export { MAX_MANY_ITEMS } from './commit-many.js';
export type { ScrubResult } from './scrub.js';
export * from './errors.js';
export type * from './types.js';
