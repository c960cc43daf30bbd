#!/usr/bin/env -S node --max-semi-space-size=64
// A larger young generation: decoding keeps ~2 MB alive per scavenge, so
// fewer, larger scavenges cut show's GC time (10–20% on calls that never repeat).
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install`).
import inspector from 'node:inspector';

// vfiotrace runs as root. Node opens its inspector (a debugger port) on
// SIGUSR1 unless a listener takes the signal; Node 20 has no
// --disable-sigusr1. A listener is a handler, not SIG_IGN, so commands the
// tracer execs get the default disposition back.
process.on('SIGUSR1', () => {});
// --inspect from NODE_OPTIONS (or the command line) has opened one already:
// refuse rather than trace as root with a debugger port open.
if (inspector.url() !== undefined) {
  process.stderr.write('vfiotrace: refusing to run with the Node inspector open (--inspect in NODE_OPTIONS?): it gives anyone who reaches the port control of this process\n');
  process.exit(2);
}
import('../dist/src/cli.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write(`vfiotrace: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 2; },
);
