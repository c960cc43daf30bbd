// docs/abi.md, written from the ioctl descriptions: every request with its
// number, fd kinds, argument, the kernel's minimum size and what it copies
// back, and every struct with its offsets. The descriptions are the one
// definition; this page is derived from them (scripts/gen-abi.mjs), and a
// test keeps the checked-in page equal to what they say now.

import { type StructType, type Type } from './dsl.js';
import { VFIO_BASE, type Family, type IoctlDesc } from './ioctlDesc.js';
import { encodeIo, SUPPORTED_ARCHES } from './encoding.js';

/** Where iommufd's command numbers start (below it, VFIO's). */
const IOMMUFD_CMD_BASE = 0x80;

export function abiReference(families: readonly Family[]): string {
  const out: string[] = [
    '# VFIO and iommufd ABI reference',
    '',
    'Every ioctl vfiotrace knows, and the layout of every struct they carry,',
    'as the decoders describe them (decoders/*.ts). This page is generated from',
    'those descriptions by `node scripts/gen-abi.mjs` after `npm run build`;',
    'test/decoders/abiReference.test.ts fails when it is out of date. Layouts are',
    `those of the 64-bit ABIs vfiotrace decodes (${SUPPORTED_ARCHES.join(', ')}): \`__u64\` is 8-byte aligned.`,
    '',
    'All requests are `_IO(\';\', nr)`: type byte 0x3b and no size bits, so the',
    'request number alone does not say which struct follows. The numbers shown',
    `are the generic encoding; POWER's _IO adds its IOC_VOID bit (0x${(encodeIo('ppc64', 0) & ~encodeIo('x86_64', 0)).toString(16)}). VFIO numbers`,
    `count from VFIO_BASE (${VFIO_BASE}), iommufd's from IOMMUFD_CMD_BASE (0x${IOMMUFD_CMD_BASE.toString(16)}).`,
    '',
    '- **minsz**: the bytes the kernel copies in first; `argsz` (or iommufd\'s',
    '  `size`) below it is EINVAL.',
    '- **tail**: `zero` when bytes past the struct the kernel knows must be zero',
    '  (E2BIG otherwise).',
    '- **back**: when the kernel copies the struct back to the caller.',
    '',
    '## Requests',
  ];
  for (const f of families) {
    out.push('', `### ${f.name}`, '', '| ioctl | request | fd | backends | argument | minsz | sizeof | tail | back |', '|---|---|---|---|---|---|---|---|---|');
    for (const d of f.ioctls) out.push(requestRow(d));
    const errors = f.ioctls.filter((d) => Object.keys(d.errnos).length > 0);
    if (errors.length > 0) out.push('', 'Errors, and why the kernel gives them:', '');
    for (const d of errors) out.push(`- \`${d.name}\`: ${Object.entries(d.errnos).map(([e, why]) => `${e}: ${why}`).join('; ')}.`);
  }
  out.push('', '## Structs');
  for (const t of structsOf(families)) out.push('', `### ${t.kind} ${t.name}`, '', `sizeof ${t.size}, align ${t.align}`, '', ...structTable(t));
  return `${out.join('\n')}\n`;
}

function requestRow(d: IoctlDesc): string {
  const nr = d.nr >= IOMMUFD_CMD_BASE ? `IOMMUFD_CMD_BASE + ${d.nr - IOMMUFD_CMD_BASE}` : `VFIO_BASE + ${d.nr - VFIO_BASE}`;
  const request = `0x${encodeIo('x86_64', d.nr).toString(16)} (${nr})`;
  const backends = d.backends === 'any' ? 'any' : d.backends.join(', ');
  const struct = d.arg.kind === 'struct' ? d.arg.type : null;
  const cells = [
    `\`${d.name}\``,
    request,
    d.fdKinds.join(', '),
    backends,
    argument(d),
    struct ? String(d.minsz) : '',
    struct ? String(struct.size) : '',
    d.zeroTail ? 'zero' : '',
    back(d),
  ];
  return `| ${cells.join(' | ')} |`;
}

function argument(d: IoctlDesc): string {
  switch (d.arg.kind) {
    case 'none':
      return 'none';
    case 'int':
      return 'integer';
    case 'struct':
      return `struct ${d.arg.type.name}`;
    case 'fdptr':
      return 'pointer to an __s32 fd';
    case 'u32ptr':
      return `pointer to __u32 ${d.arg.name}`;
    case 'cstring':
      return 'string';
  }
}

function back(d: IoctlDesc): string {
  if (d.arg.kind !== 'struct') return '';
  const w = d.writes;
  if (w === 'never') return 'never';
  if (w === 'success') return 'on success';
  if (typeof w === 'function') return 'depends on the call';
  return `on success, ${w.errnos.join(', ')}`;
}

/** Every struct reachable from the requests, first seen first, each once by name. */
function structsOf(families: readonly Family[]): StructType[] {
  const seen = new Map<string, StructType>();
  const visit = (t: Type): void => {
    if (t.kind === 'struct' || t.kind === 'union') {
      if (t.name === '' || seen.has(`${t.kind} ${t.name}`)) {
        if (t.name === '') for (const f of t.fields) visit(f.type);
        return;
      }
      seen.set(`${t.kind} ${t.name}`, t);
      for (const f of t.fields) visit(f.type);
    } else if (t.kind === 'array' || t.kind === 'flex') visit(t.elem);
    else if (t.kind === 'caps') for (const c of t.caps.values()) visit(c.type);
  };
  for (const f of families) {
    for (const d of f.ioctls) if (d.arg.kind === 'struct') visit(d.arg.type);
    for (const s of f.structs) visit(s);
  }
  return [...seen.values()];
}

function structTable(t: StructType): string[] {
  const rows = ['| offset | field | type | size | direction |', '|---|---|---|---|---|'];
  t.fields.forEach((f, k) => {
    const size = f.type.size === 0 ? 'variable' : String(f.type.size);
    const name = f.name === '' ? '(anonymous)' : `\`${f.name}\``;
    rows.push(`| ${t.offsets[k]} | ${name} | ${typeName(f.type)} | ${size} | ${f.dir}${f.reserved ? ', reserved' : ''} |`);
  });
  return rows;
}

function typeName(t: Type): string {
  switch (t.kind) {
    case 'scalar':
      return t.ctype;
    case 'struct':
    case 'union':
      return t.name === '' ? `anonymous ${t.kind}` : `${t.kind} ${t.name}`;
    case 'array':
      return `${typeName(t.elem)}[${t.count}]`;
    case 'flex':
      return `${typeName(t.elem)}[] (count: ${t.count})`;
    case 'cstring':
      return 'char[] (NUL-terminated)';
    case 'uuid':
      return 'UUID (16 bytes)';
    case 'caps':
      return `capability chain (at ${t.offsetField})`;
  }
}
