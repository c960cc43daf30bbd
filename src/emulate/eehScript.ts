// The EEH fault-injection script (docs/emulation.md):
//
//   RULE [; RULE …]
//   RULE   := TRIGGER ':' ACTION
//   TRIGGER:= 'after' N OP          the N-th call of OP (counted from 1) has completed
//           | 'now'                 before the first call
//   ACTION := 'state' STATE ['until' OP[,OP…]]   freeze: report STATE; stays frozen
//                                                until the OPs were issued in that order
//           | 'fail' ERRNO ['once']              every later EEH call (only the next one
//                                                with 'once') returns -ERRNO
//
// OP is an EEH op name without the VFIO_EEH_PE_ prefix (ENABLE, GET_STATE,
// RESET_HOT, …); STATE is NORMAL, RESET, STOPPED, STOPPED_DMA or UNAVAIL.

import {
  VFIO_EEH_PE_STATE_NORMAL, VFIO_EEH_PE_STATE_RESET, VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_STOPPED_DMA,
  VFIO_EEH_PE_STATE_UNAVAIL,
} from '../../decoders/eeh.js';
import { EEH_OP_NAMES } from '../model/vfio.js';
import { E, type ErrnoName } from './errno.js';

export const PE_STATES: Readonly<Record<string, number>> = {
  NORMAL: VFIO_EEH_PE_STATE_NORMAL,
  RESET: VFIO_EEH_PE_STATE_RESET,
  STOPPED: VFIO_EEH_PE_STATE_STOPPED,
  STOPPED_DMA: VFIO_EEH_PE_STATE_STOPPED_DMA,
  UNAVAIL: VFIO_EEH_PE_STATE_UNAVAIL,
};

export type EehAction =
  | { kind: 'state'; state: number; until: number[] }
  | { kind: 'fail'; errno: ErrnoName; once: boolean };

export interface EehRule {
  /** null: fires before the first call ("now"). */
  after: { count: number; op: number } | null;
  action: EehAction;
  /** The rule text, for messages. */
  text: string;
}

export function eehOpByName(name: string): number {
  const up = name.trim().toUpperCase().replace(/^VFIO_EEH_PE_/, '');
  const i = EEH_OP_NAMES.indexOf(`VFIO_EEH_PE_${up}`);
  if (i < 0) throw new Error(`unknown EEH op "${name}" (one of ${EEH_OP_NAMES.map((n) => n.slice(12)).join(', ')})`);
  return i;
}

function parseRule(text: string): EehRule {
  const colon = text.indexOf(':');
  if (colon < 0) throw new Error(`EEH rule "${text}": want TRIGGER: ACTION, e.g. "after 3 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE"`);
  const trig = text.slice(0, colon).trim().split(/\s+/);
  const act = text.slice(colon + 1).trim().split(/\s+/);
  let after: EehRule['after'];
  if (trig.length === 1 && trig[0]!.toLowerCase() === 'now') after = null;
  else if (trig.length === 3 && trig[0]!.toLowerCase() === 'after' && /^[1-9][0-9]*$/.test(trig[1]!)) after = { count: Number(trig[1]), op: eehOpByName(trig[2]!) };
  else throw new Error(`EEH rule "${text}": trigger must be "now" or "after N OP"`);
  const verb = act[0]?.toLowerCase();
  if (verb === 'state') {
    const st = act[1]?.toUpperCase() ?? '';
    const state = PE_STATES[st];
    if (state === undefined) throw new Error(`EEH rule "${text}": unknown state "${act[1] ?? ''}" (NORMAL, RESET, STOPPED, STOPPED_DMA, UNAVAIL)`);
    let until: number[] = [];
    if (act.length > 2) {
      if (act[2]!.toLowerCase() !== 'until' || act.length < 4) throw new Error(`EEH rule "${text}": want "until OP[,OP…]" after the state`);
      until = act.slice(3).join('').split(/[,+]/).filter((s) => s !== '').map(eehOpByName);
    }
    return { after, action: { kind: 'state', state, until }, text };
  }
  if (verb === 'fail') {
    const name = (act[1] ?? '').toUpperCase();
    if (!(name in E)) throw new Error(`EEH rule "${text}": unknown errno "${act[1] ?? ''}" (${Object.keys(E).join(', ')})`);
    const rest = act.slice(2).map((s) => s.toLowerCase());
    if (rest.some((s) => s !== 'once')) throw new Error(`EEH rule "${text}": only "once" may follow the errno`);
    return { after, action: { kind: 'fail', errno: name as ErrnoName, once: rest.includes('once') }, text };
  }
  throw new Error(`EEH rule "${text}": action must be "state STATE [until OPS]" or "fail ERRNO [once]"`);
}

export function parseEehScript(script: string): EehRule[] {
  return script
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'))
    .map(parseRule);
}
