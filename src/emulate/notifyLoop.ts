// The answering worker's life (notifyWorker.ts loads it): the emulated
// kernel lives here, on a thread that does nothing but answer calls, so a
// call never waits for Node's main thread. The PE's events go to the main
// thread as messages; the main thread's requests (a freeze) come on
// `control`, and a wake of the listener makes the loop look at them at once.

import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { notifyBinding } from '../trace/native.js';
import { answerCalls } from './answerer.js';
import { HOST_LE, hostKernel } from './hostKernel.js';
import { failStartup, signalStartup as signal, STARTUP, type ControlMessage, type NotifyWorkerData, type WorkerMessage } from './notifyProtocol.js';

export function run(d: NotifyWorkerData): void {
  const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
  let kernel;
  try {
    kernel = hostKernel(d.machine);
  } catch (e) {
    failStartup(d, (e as Error).message);
    return;
  }
  signal(d, STARTUP.kernel, 1);
  Atomics.wait(d.startup, STARTUP.handle, 0);
  const h = Atomics.load(d.startup, STARTUP.handle);
  if (h < 0) {
    kernel.dispose();
    signal(d, STARTUP.disposed, 1);
    d.control.close();
    return;
  }
  const handle = h - 1;
  const nb = notifyBinding();
  kernel.pe.onOp((op, ret) => post({ t: 'pe-op', op, ret }));
  kernel.pe.onChange((change) => post({ t: 'pe-change', change }));
  const k = kernel;
  const idle = (): void => {
    for (let m = receiveMessageOnPort(d.control); m; m = receiveMessageOnPort(d.control)) {
      const c = m.message as ControlMessage;
      if (c.t !== 'freeze') continue;
      k.pe.freeze(c.reason, c.permanent);
      post({ t: 'ack', ack: c.ack });
    }
  };
  try {
    const end = answerCalls(nb, handle, k, d.readCap, HOST_LE, {
      idle,
      internalError: (call, e) => post({ t: 'internal-error', path: call.fdPath, message: e.message }),
    });
    post({ t: 'done', errno: end.over ? null : end.errno });
  } finally {
    nb.close(handle);
    k.dispose();
    d.control.close();
  }
}

