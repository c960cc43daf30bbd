// Worker entry of an emulated session answering through the engine's
// seccomp listener (notifySession.ts starts it; notifyLoop.ts is its life).
// The loop is imported here, not at the top: the main thread waits for the
// worker in Atomics.wait, where no 'error' event can reach it, so a module
// that fails to load must be reported through the start-up handshake.

import { workerData } from 'node:worker_threads';
import { failStartup, STARTUP, type NotifyWorkerData } from './notifyProtocol.js';

const d = workerData as NotifyWorkerData;
try {
  const loop = await import('./notifyLoop.js');
  loop.run(d);
} catch (e) {
  // Before start-up completed the main thread is told this way; later, the
  // error ends the worker and the main thread ends the command.
  if (Atomics.load(d.startup, STARTUP.kernel) !== 0) throw e;
  failStartup(d, `the answering worker failed: ${(e as Error).message}`);
}
