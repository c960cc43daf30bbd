import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/render/filter.js';
import { Summary } from '../../src/render/summary.js';
import { ProcessEventKind } from '../../src/trace/events.js';
import { ioctl, proc } from './helpers.js';

const eeh = ioctl({ ioctl: 'VFIO_EEH_PE_OP', family: 'eeh', fdKind: 'container' });
const check = ioctl({ ioctl: 'VFIO_CHECK_EXTENSION', family: 'container', fdKind: 'container' });
const status = ioctl({ ioctl: 'VFIO_GROUP_GET_STATUS', family: 'group', fdKind: 'group' });
const unknown = ioctl({ ioctl: null, family: null, resolution: 'unknown', fdKind: 'device' });
const all = [eeh, check, status, unknown];
const vocab = { ioctls: ['VFIO_EEH_PE_OP', 'VFIO_CHECK_EXTENSION', 'VFIO_GROUP_GET_STATUS'], families: ['eeh', 'container', 'group'] };

describe('-e filter', () => {
  const pick = (...e: string[]): (string | null)[] => {
    const f = parseFilter(e, vocab)!;
    return all.filter(f).map((x) => (x.kind === 'ioctl' ? x.ioctl : null));
  };
  it('selects by ioctl name, family and fd kind', () => {
    expect(pick('VFIO_EEH_PE_OP')).toEqual(['VFIO_EEH_PE_OP']);
    expect(pick('eeh_pe_op,group')).toEqual(['VFIO_EEH_PE_OP', 'VFIO_GROUP_GET_STATUS']);
    expect(pick('container')).toEqual(['VFIO_EEH_PE_OP', 'VFIO_CHECK_EXTENSION']);
    expect(pick('trace=device')).toEqual([null]);
    expect(pick('unknown')).toEqual([null]);
  });
  it('negates with ! and combines several -e as AND', () => {
    expect(pick('!eeh')).toEqual(['VFIO_CHECK_EXTENSION', 'VFIO_GROUP_GET_STATUS', null]);
    expect(pick('container', '!VFIO_CHECK_EXTENSION')).toEqual(['VFIO_EEH_PE_OP']);
  });
  it('lets process events through and rejects unknown words', () => {
    expect(parseFilter(['eeh'], vocab)!(proc(ProcessEventKind.Exit, 1))).toBe(true);
    expect(() => parseFilter(['VFIO_NOPE'], vocab)).toThrow(/unknown ioctl, family or fd kind: VFIO_NOPE/);
    expect(parseFilter([], vocab)).toBeNull();
  });
});

describe('-c summary', () => {
  it('counts calls, errors and time per ioctl', () => {
    const s = new Summary();
    s.add(check);
    s.add(ioctl({ ret: { value: -25, errno: 'ENOTTY', meaning: '' }, dur: 3000 }));
    s.add(eeh);
    s.add(proc(ProcessEventKind.Exit, 1));
    const rows = s.sorted();
    expect(rows).toEqual([
      { ioctl: 'VFIO_CHECK_EXTENSION', calls: 2, errors: 1, totalNs: 15000 },
      { ioctl: 'VFIO_EEH_PE_OP', calls: 1, errors: 0, totalNs: 12000 },
    ]);
    const lines = s.text().split('\n');
    expect(lines[0]).toBe('% time     seconds  usecs/call     calls    errors ioctl');
    expect(lines[2]).toBe(' 55.56    0.000015           7         2         1 VFIO_CHECK_EXTENSION');
    expect(lines[5]).toBe('100.00    0.000027           9         3         1 total');
    expect(JSON.parse(s.json())).toEqual({ type: 'summary', rows: [
      { ioctl: 'VFIO_CHECK_EXTENSION', calls: 2, errors: 1, total_ns: 15000 },
      { ioctl: 'VFIO_EEH_PE_OP', calls: 1, errors: 0, total_ns: 12000 },
    ], lost: 0 });
  });
});
