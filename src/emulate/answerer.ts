// The loop that answers a session's calls from the engine's seccomp
// listener: take a notice, let the emulated kernel decide, hand the verdict
// back. Synchronous on purpose: it runs on a thread of its own (a worker),
// and a call costs the kernel's decision plus two crossings into the engine.

import type { NotifyBinding } from '../trace/native.js';
import type { EmulatedKernel } from './kernel.js';
import { NOTICE_HEADER_LEN, NOTICE_PATH_MAX, NoticeReader } from './notice.js';
import { RUN, type EmuCall, type Verdict } from './types.js';
import { VerdictEncoder } from './wire.js';

/** How long a wait for the next call lasts before control messages are looked at anyway. */
const WAIT_MS = 200;

export interface AnswererHooks {
  /** Between calls, whenever the listener had nothing or was woken. */
  idle(): void;
  /** A model bug: the call runs on the real kernel instead (it would fail there, as without emulation). */
  internalError(call: EmuCall, e: Error): void;
}

/** Why the loop ended: the listener closed (every client exited), or the engine refused. */
export type AnswerEnd = { over: true } | { over: false; errno: number };

/**
 * Answers calls until the listener is over. `readCap` is the largest payload
 * a notice can carry (the largest capture rule's cap, or -s if larger).
 */
export function answerCalls(nb: NotifyBinding, handle: number, kernel: EmulatedKernel, readCap: number, le: boolean, hooks: AnswererHooks): AnswerEnd {
  const notices = new NoticeReader(NOTICE_HEADER_LEN + NOTICE_PATH_MAX + readCap, le);
  const verdicts = new VerdictEncoder(le);
  let answer: Uint8Array | null = null;
  for (;;) {
    const n = answer ? nb.answerNext(handle, answer, notices.msg, WAIT_MS) : nb.next(handle, notices.msg, WAIT_MS);
    answer = null;
    if (n === -32) return { over: true }; // EPIPE
    if (n < 0) return { over: false, errno: -n };
    if (n === 0) {
      hooks.idle();
      continue;
    }
    const notice = notices.read();
    if (notice.kind === 'fork') {
      kernel.fork(notice.parent, notice.child);
      continue;
    }
    let v: Verdict;
    try {
      v = kernel.handle(notice.call);
    } catch (e) {
      hooks.internalError(notice.call, e as Error);
      v = RUN;
    }
    answer = verdicts.encode(v);
  }
}
