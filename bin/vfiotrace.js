#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install`).
import('../dist/src/cli.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write(`vfiotrace: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 2; },
);
