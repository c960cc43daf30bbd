// What the main thread and the answering worker (notifyWorker.ts) tell
// each other: the start-up handshake and the messages either way.

import type { MessagePort } from 'node:worker_threads';
import type { PeChange } from './eeh.js';
import type { MachineSpec } from './hostKernel.js';

export interface NotifyWorkerData {
  machine: MachineSpec;
  readCap: number;
  /** Start-up handshake (notifySession.ts STARTUP): the kernel's state, the handle, the disposal. */
  startup: Int32Array;
  control: MessagePort;
}

/** Slots of the start-up handshake, waited on with Atomics by both sides. */
export const STARTUP = {
  /** 0 building the kernel, 1 built, 2 failed (a 'fail' message on control says why). */
  kernel: 0,
  /** 0 waiting, handle + 1 to answer its calls, -1 to dispose of the kernel unused. */
  handle: 1,
  /** 1 once the kernel is disposed of unused. */
  disposed: 2,
} as const;

/** Main thread → worker, and the worker's start-up failure back. */
export type ControlMessage = { t: 'freeze'; reason: string; permanent: boolean; ack: number } | { t: 'fail'; message: string };

/** Worker → main thread. */
export type WorkerMessage =
  | { t: 'pe-op'; op: number; ret: number }
  | { t: 'pe-change'; change: PeChange }
  | { t: 'ack'; ack: number }
  | { t: 'internal-error'; path: string; message: string }
  | { t: 'done'; errno: number | null };

export function signalStartup(d: NotifyWorkerData, slot: number, value: number): void {
  Atomics.store(d.startup, slot, value);
  Atomics.notify(d.startup, slot);
}

/** The worker cannot answer: the main thread, waiting in Atomics.wait, learns why at once. */
export function failStartup(d: NotifyWorkerData, message: string): void {
  d.control.postMessage({ t: 'fail', message } satisfies ControlMessage);
  signalStartup(d, STARTUP.kernel, 2);
  d.control.close();
}
