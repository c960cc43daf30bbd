// The main thread's side of an emulated session answered through the
// engine's seccomp listener: the worker that holds the emulated kernel
// (notifyWorker.ts), its start-up, and the PE as the main thread sees it.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { notifyBinding, packageRoot } from '../trace/native.js';
import type { PeChange } from './eeh.js';
import type { MachineSpec } from './hostKernel.js';
import { STARTUP, type ControlMessage, type NotifyWorkerData, type WorkerMessage } from './notifyProtocol.js';

/** What the main thread may do with the machine's PE (the EEH scenarios drive it). */
export interface PeControl {
  /** The platform freezes the PE; settles once the emulated kernel has done so. */
  freeze(reason: string, permanent?: boolean): Promise<void>;
  onOp(fn: (op: number, ret: number) => void): void;
  onChange(fn: (c: PeChange) => void): void;
}

/** Building the kernel takes well under a second; this is for a machine gone wrong. */
const KERNEL_BUILD_MS = 60_000;

/** The compiled worker beside this module; from the sources (tests), the compiled tree's. */
function workerFile(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./notifyWorker.js', import.meta.url);
  const built = path.join(packageRoot(), 'dist', 'src', 'emulate', 'notifyWorker.js');
  if (!existsSync(built)) throw new Error(`the answering worker is not built (${built}): npm run build:ts`);
  return pathToFileURL(built);
}

/**
 * The worker with the emulated kernel built, waiting for the listener's
 * handle (begin) or to be let go unused (abandon). Blocks until the kernel
 * is built, so its backing files exist before the command's sandbox is set up.
 */
export class AnsweringWorker {
  private readonly startup = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly channel = new MessageChannel();
  private readonly worker: Worker;
  private handle = -1;
  private gone = false;
  private acks = 0;
  private readonly waiting = new Map<number, () => void>();
  private readonly ops: ((op: number, ret: number) => void)[] = [];
  private readonly changes: ((c: PeChange) => void)[] = [];
  /** Settles when the worker has ended: null, or why it failed. */
  readonly ended: Promise<string | null>;

  constructor(machine: MachineSpec, readCap: number, onInternalError: (path: string, message: string) => void) {
    const data: NotifyWorkerData = { machine, readCap, startup: this.startup, control: this.channel.port2 };
    this.worker = new Worker(workerFile(), { workerData: data, transferList: [this.channel.port2] });
    let failure: string | null = null;
    this.ended = new Promise((resolve) => {
      this.worker.on('error', (e) => (failure = e.message));
      this.worker.on('exit', () => {
        this.gone = true;
        for (const f of [...this.waiting.values()]) f(); // nothing left to freeze
        resolve(failure);
      });
    });
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.t === 'pe-op') this.ops.forEach((f) => f(m.op, m.ret));
      else if (m.t === 'pe-change') this.changes.forEach((f) => f(m.change));
      else if (m.t === 'ack') this.waiting.get(m.ack)?.();
      else if (m.t === 'internal-error') onInternalError(m.path, m.message);
      else if (m.t === 'done' && m.errno !== null) failure = `the engine's listener failed (errno ${m.errno})`;
    });
    if (Atomics.wait(this.startup, STARTUP.kernel, 0, KERNEL_BUILD_MS) === 'timed-out') {
      void this.worker.terminate();
      throw new Error('the emulated kernel was not built in time');
    }
    if (Atomics.load(this.startup, STARTUP.kernel) === 2) {
      const m = receiveMessageOnPort(this.channel.port1)?.message as ControlMessage | undefined;
      this.channel.port1.close();
      throw new Error(m?.t === 'fail' ? m.message : 'the emulated kernel could not be built');
    }
  }

  /** Answers the calls of the listener `handle` from now on. */
  begin(handle: number): void {
    this.handle = handle;
    Atomics.store(this.startup, STARTUP.handle, handle + 1);
    Atomics.notify(this.startup, STARTUP.handle);
  }

  /** The session did not start: the kernel is disposed of (its files gone) before this returns. */
  abandon(): void {
    Atomics.store(this.startup, STARTUP.handle, -1);
    Atomics.notify(this.startup, STARTUP.handle);
    Atomics.wait(this.startup, STARTUP.disposed, 0, KERNEL_BUILD_MS);
    this.channel.port1.close();
  }

  readonly pe: PeControl = {
    freeze: (reason, permanent = false) =>
      new Promise<void>((resolve) => {
        if (this.gone) return resolve();
        const ack = ++this.acks;
        this.waiting.set(ack, () => {
          this.waiting.delete(ack);
          resolve();
        });
        this.channel.port1.postMessage({ t: 'freeze', reason, permanent, ack } satisfies ControlMessage);
        // The loop may be waiting for a call: make it look at once.
        if (this.handle >= 0) notifyBinding().wake(this.handle);
      }),
    onOp: (fn) => void this.ops.push(fn),
    onChange: (fn) => void this.changes.push(fn),
  };
}
