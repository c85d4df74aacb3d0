#!/usr/bin/env node
// The `opera` binary: a thin launcher for the compiled CLI (built by `npm run build`,
// which `npm install` runs through the `prepare` script).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    console.error('opera: the project is not built yet; run `npm run build` first');
    process.exit(2);
  }
  throw err;
});
