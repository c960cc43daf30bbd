// The TypeScript mirrors of the engine's C constants (record types and
// sizes, flag bits, process kinds, end reasons, rule kinds, the payload cap,
// the verdict wire format) against the C headers and record.c itself,
// compiled as static asserts: the two sides cannot drift apart unnoticed.
// The record layouts (src/trace/layout.ts) are held to record.c's structs
// field by field, and to docs/recording-format.md's tables.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORD_PENDING } from '../../src/emulate/tap.js';
import { VERDICT_ACTION, VERDICT_HEADER_LEN, VERDICT_MAGIC } from '../../src/emulate/wire.js';
import { NOTICE_FIELDS, NOTICE_HEADER_LEN, NOTICE_KIND, NOTICE_NO_FAULT, NOTICE_PATH_MAX } from '../../src/emulate/notice.js';
import { EndReason, IOCTL_FLAG, ProcessEventKind, RuleKind } from '../../src/trace/events.js';
import { MAX_PAYLOAD_CAP } from '../../src/trace/native.js';
import { END, IOCTL, PROCESS, RECORD_HEADER, RECORD_LAYOUTS, type RecordLayout } from '../../src/trace/layout.js';
import { END_FIXED_LEN, IOCTL_FIXED_LEN, PROCESS_FIXED_LEN, RECORD_END, RECORD_IOCTL, RECORD_PROCESS } from '../../src/trace/reader.js';
import { gccCheck, hasGcc } from '../decoders/kheaders.js';
import { ROOT } from '../helpers/trace.js';

const NATIVE = path.join(ROOT, 'native');

/** C expression → the value TypeScript uses for it. */
const MIRRORS: [string, number][] = [
  ['REC_IOCTL', RECORD_IOCTL],
  ['REC_PROCESS', RECORD_PROCESS],
  ['REC_END', RECORD_END],
  ['VFT_REC_PENDING', RECORD_PENDING],
  ['sizeof(struct rec_ioctl)', IOCTL_FIXED_LEN],
  ['sizeof(struct rec_process)', PROCESS_FIXED_LEN],
  ['sizeof(struct rec_end)', END_FIXED_LEN],
  ['IOF_TRUNCATED', IOCTL_FLAG.TRUNCATED],
  ['IOF_IN_FAULT', IOCTL_FLAG.IN_FAULT],
  ['IOF_OUT_FAULT', IOCTL_FLAG.OUT_FAULT],
  ['IOF_NO_EXIT', IOCTL_FLAG.NO_EXIT],
  ['VFT_IOF_EMULATED', IOCTL_FLAG.EMULATED],
  ['PK_START', ProcessEventKind.Start],
  ['PK_EXEC', ProcessEventKind.Exec],
  ['PK_EXIT', ProcessEventKind.Exit],
  ['PK_KILLED', ProcessEventKind.Killed],
  ['PK_DETACHED', ProcessEventKind.Detached],
  ['PK_SIGNAL', ProcessEventKind.Signal],
  ['PK_THREAD', ProcessEventKind.Thread],
  ['VFT_END_EXITED', EndReason.Exited],
  ['VFT_END_KILLED', EndReason.Killed],
  ['VFT_END_DETACHED', EndReason.Detached],
  ['VFT_END_ERROR', EndReason.TracerError],
  ['VFT_RULE_NONE', RuleKind.None],
  ['VFT_RULE_INTEGER', RuleKind.Integer],
  ['VFT_RULE_FIXED', RuleKind.Fixed],
  ['VFT_RULE_SIZED', RuleKind.Sized],
  ['VFT_RULE_CSTRING', RuleKind.CString],
  ['VFT_MAX_PAYLOAD_CAP', MAX_PAYLOAD_CAP],
  ['VFT_VERDICT_MAGIC', VERDICT_MAGIC],
  ['VFT_VERDICT_HEADER_LEN', VERDICT_HEADER_LEN],
  ['VFT_VERDICT_RUN', VERDICT_ACTION.run],
  ['VFT_VERDICT_RETURN', VERDICT_ACTION.return],
  ['VFT_VERDICT_OPENAT', VERDICT_ACTION.openat],
  ['VFT_NOTICE_HEADER_LEN', NOTICE_HEADER_LEN],
  ['VFT_NOTICE_CALL', NOTICE_KIND.call],
  ['VFT_NOTICE_FORK', NOTICE_KIND.fork],
  ['VFT_NOTICE_NO_FAULT', NOTICE_NO_FAULT],
  ['sizeof(((struct call *)0)->path)', NOTICE_PATH_MAX],
  ['VFT_NOTIFY_ON', 0x100],
];

/** Every field of a notice (src/emulate/notice.ts): its offset and size in verdict.h's struct vft_notice. */
const NOTICE_MIRRORS: [string, number][] = [
  ['sizeof(struct vft_notice)', NOTICE_HEADER_LEN],
  ...Object.entries(NOTICE_FIELDS).flatMap(([name, [offset, size]]): [string, number][] => [
    [`offsetof(struct vft_notice, ${name})`, offset],
    [`sizeof(((struct vft_notice *)0)->${name})`, size],
  ]),
];

/** Every field of every record layout (src/trace/layout.ts): its offset and size in record.c's struct. */
const LAYOUT_MIRRORS: [string, number][] = RECORD_LAYOUTS.flatMap((l) => [
  [`sizeof(struct ${l.cStruct})`, l.size] as [string, number],
  ...l.fields.flatMap((f): [string, number][] => [
    [`offsetof(struct ${l.cStruct}, ${f.name})`, f.offset],
    [`sizeof(((struct ${l.cStruct} *)0)->${f.name})`, f.size],
  ]),
]);

function source(mirrors: [string, number][]): string {
  // record.c brings the record structs (file-local there) along with engine.h.
  const lines = ['#include <stddef.h>', '#include "src/record.c"', '#include "include/verdict.h"'];
  for (const [c, v] of mirrors) lines.push(`_Static_assert((${c}) == ${v}u, "${c.replace(/"/g, '')} is not ${v}");`);
  return lines.join('\n') + '\n';
}

const gcc = hasGcc();

describe.skipIf(!gcc)(`TypeScript mirrors of the engine's constants${gcc ? '' : ' (skipped: gcc not found)'}`, () => {
  it('equal the C definitions', () => {
    expect(gccCheck(source(MIRRORS), [NATIVE, path.join(NATIVE, 'src')])).toBe('');
  });

  it('every record field sits where record.c\'s struct puts it, with its size', () => {
    expect(LAYOUT_MIRRORS.length).toBeGreaterThan(60);
    expect(gccCheck(source(LAYOUT_MIRRORS), [NATIVE, path.join(NATIVE, 'src')])).toBe('');
  });

  it('every notice field sits where verdict.h\'s struct puts it', () => {
    expect(gccCheck(source(NOTICE_MIRRORS), [NATIVE, path.join(NATIVE, 'src')])).toBe('');
  });

  it('a field out of place is caught', () => {
    expect(gccCheck(source([['offsetof(struct rec_ioctl, in_fault)', 80]]), [NATIVE, path.join(NATIVE, 'src')])).toMatch(/in_fault\) is not 80/);
  });

  it('a wrong mirror is caught', () => {
    expect(gccCheck(source([['PK_THREAD', 8]]), [NATIVE, path.join(NATIVE, 'src')])).toMatch(/PK_THREAD is not 8/);
  });
});

/**
 * The rows of the table under `heading` in docs/recording-format.md whose
 * offset and size are numbers, by the first word of their field cell that
 * names a field of `fields` ("s32 status: exit code…" is status).
 */
function docRows(doc: string, heading: string, fields: readonly string[]): Map<string, { offset: number; size: number }> {
  const section = doc.slice(doc.indexOf(heading), doc.indexOf('\n#', doc.indexOf(heading) + heading.length));
  const rows = new Map<string, { offset: number; size: number }>();
  for (const line of section.split('\n')) {
    const m = /^\| (\d+) \| (\d+) \| ([^|]*)\|/.exec(line);
    const name = m?.[3]?.match(/[a-z_]+/g)?.find((w) => fields.includes(w));
    if (m && name !== undefined && !rows.has(name)) rows.set(name, { offset: Number(m[1]), size: Number(m[2]) });
  }
  return rows;
}

describe('docs/recording-format.md', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'recording-format.md'), 'utf8');
  const sections: [string, RecordLayout<string>][] = [
    ['## Records', RECORD_HEADER],
    ['### type 1: IOCTL', IOCTL],
    ['### type 2: PROCESS', PROCESS],
    ['### type 3: END', END],
  ];
  it('## Notices: every field at the offset and size src/emulate/notice.ts gives', () => {
    const names = Object.keys(NOTICE_FIELDS);
    const rows = docRows(doc, '## Notices', names);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(NOTICE_FIELDS).map(([n, [offset, size]]) => [n, { offset, size }])));
  });

  it.each(sections)('%s: every field at the offset and size the layout gives', (heading, layout) => {
    const own = layout.fields.filter((f) => !f.name.startsWith('h.'));
    const rows = docRows(doc, heading, own.map((f) => f.name));
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(own.map((f) => [f.name, { offset: f.offset, size: f.size }])));
  });
});
