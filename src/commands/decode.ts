// `vfiotrace decode IOCTL --fd-kind KIND --in HEX [...]`: decode one ioctl's
// argument bytes without tracing anything (bytes from a log, a hexdump, gdb).

import { Command, CommanderError, Option } from 'commander';
import { RuleKind, type IoctlRecord, type RecordingHeader } from '../trace/events.js';
import type { DecodedEvent, DecodedIoctl, FdKind, FieldNode } from '../decode/types.js';
import { createDecoder } from '../decode/decoder.js';
import { resolveIoctlName } from '../decode/registry.js';
import { registry } from '../../decoders/index.js';
import { AUDIT_ARCH, encodeIo } from '../decode/encoding.js';
import { errnoNumber, errnoFlavor } from '../decode/errno.js';
import type { IoctlDesc } from '../decode/ioctlDesc.js';
import { escapeBytes } from '../decode/format.js';

const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 'ppc64'] as const;
const KINDS: readonly FdKind[] = ['container', 'group', 'device', 'iommufd', 'migration', 'dmabuf'];

/** A path that makes the decoder see the wanted fd kind. */
const PATHS: Partial<Record<FdKind, string>> = {
  container: '/dev/vfio/vfio',
  group: '/dev/vfio/42',
  device: '/dev/vfio/devices/vfio0',
  iommufd: '/dev/iommu',
};

export function parseHex(s: string): Uint8Array {
  const clean = s.replace(/0x/gi, '').replace(/[\s:,_-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`not a hex byte string: ${JSON.stringify(s.slice(0, 40))}`);
  const out = new Uint8Array(clean.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(clean.slice(2 * k, 2 * k + 2), 16);
  return out;
}

function header(arch: string): RecordingHeader {
  return {
    version: 1,
    byteOrder: arch === 'ppc64' ? 'be' : 'le',
    wordSize: 8,
    auditArch: AUDIT_ARCH[arch] ?? 0,
    arch,
    startRealtimeNs: 0n,
    startMonotonicNs: 0n,
    machine: arch,
    kernelRelease: '',
    hostname: '',
    argv: [],
    attachedPids: [],
    producer: 'vfiotrace decode',
    hostWide: false,
  };
}

function record(req: number, fd: number, path: string, arg: bigint, ret: number, entry: Uint8Array, exit: Uint8Array, seq: number): IoctlRecord {
  return {
    type: 'ioctl',
    offset: seq,
    flags: 0,
    pid: 1,
    tid: 1,
    tEntry: BigInt(seq),
    tExit: BigInt(seq),
    fd: BigInt(fd),
    request: BigInt(req),
    arg,
    ret: BigInt(ret),
    wantLen: entry.length,
    inFault: null,
    outFault: null,
    ruleKind: entry.length > 0 ? RuleKind.Sized : RuleKind.None,
    fdPath: path,
    entry,
    exit,
  };
}

function tree(n: FieldNode, depth: number, lines: string[]): void {
  const mark = n.changed ? ' *' : '';
  const where = `@${n.offset}+${n.size}`;
  if (n.children) {
    lines.push(`${'  '.repeat(depth)}${n.name || n.ctype} (${n.ctype}) ${where}${mark}`);
    for (const c of n.children) tree(c, depth + 1, lines);
  } else {
    lines.push(`${'  '.repeat(depth)}${n.name} = ${n.display} (${n.ctype}) ${where}${mark}${n.unreadable ? ' unreadable' : ''}`);
  }
}

/** Plain indented form of one decoded call. */
export function describe(ev: DecodedIoctl): string {
  const lines: string[] = [];
  const name = ev.ioctl ?? (ev.candidates.length ? ev.candidates.join(' or ') : `0x${ev.request.toString(16)}`);
  lines.push(`${name} on ${ev.fdKind} fd (${ev.resolution}${ev.family ? `, family ${ev.family}` : ''})`);
  if (ev.argDisplay && !ev.in) lines.push(`arg = ${ev.argDisplay}`);
  if (ev.in) {
    lines.push('entry:');
    tree(ev.in, 1, lines);
  }
  if (ev.out) {
    lines.push('exit (* = written by the kernel):');
    tree(ev.out, 1, lines);
  }
  const r = ev.ret;
  lines.push(`return ${r.value}${r.errno ? ` ${r.errno}` : ''}${r.meaning ? ` — ${r.meaning}` : ''}`);
  for (const f of ev.findings) lines.push(`${f.severity}: [${f.rule}] ${f.message}`);
  return lines.join('\n') + '\n';
}

function pickDesc(word: string, kind: FdKind): IoctlDesc | null {
  const byName = registry().byName;
  const name = resolveIoctlName(word, (n) => byName.has(n));
  const all = name !== null ? byName.get(name) ?? [] : [];
  return all.find((d) => d.fdKinds.includes(kind)) ?? all[0] ?? null;
}

export function cliCommand(): Command {
  return new Command('vfiotrace decode')
    .description('decode one VFIO/iommufd ioctl argument from hex bytes')
    .argument('[ioctl]', 'kernel name, e.g. VFIO_EEH_PE_OP (any case; the VFIO_/IOMMU_ prefix may be left out)')
    .addOption(new Option('--fd-kind <kind>', 'kind of fd the call went to (required)').choices(KINDS as string[]))
    .addOption(new Option('--arch <arch>', 'architecture that produced the bytes').choices(ARCHES as unknown as string[]).default('x86_64'))
    .addOption(new Option('--iommu <type>', 'IOMMU backend of the container').choices(['type1', 'spapr']))
    .option('--in <hex>', 'argument bytes at entry (hex)', '')
    .option('--out <hex>', 'argument bytes after the call (hex)')
    .option('--arg <n>', 'integer argument (for ioctls that take one)', '0')
    .option('--ret <n>', 'return value (negative errno, or an errno name like -EINVAL)', '0')
    .option('--json', 'print the decoded event as JSON', false);
}

interface DecodeOpts {
  fdKind: FdKind;
  arch: string;
  iommu?: string;
  in: string;
  out?: string;
  arg: string;
  ret: string;
  json: boolean;
}

/** The call's values from the command line: bytes at entry and exit (exit as long as entry), return value, integer argument. */
interface CallValues {
  entry: Uint8Array;
  exit: Uint8Array;
  ret: number;
  arg: bigint;
}

export async function run(argv: string[]): Promise<number> {
  const prog = cliCommand()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
      outputError: (s, write) => write('vfiotrace decode: ' + s.replace(/^error: /, '')),
    });
  try {
    prog.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const o = prog.opts<DecodeOpts>();
  const name = prog.args[0];
  // Checked here, not by commander, so the ioctl is named first when both are missing.
  if (name === undefined) {
    process.stderr.write('vfiotrace decode: missing the IOCTL argument (e.g. VFIO_EEH_PE_OP); see vfiotrace decode --help\n');
    return 2;
  }
  if ((o.fdKind as FdKind | undefined) === undefined) {
    process.stderr.write("vfiotrace decode: required option '--fd-kind <kind>' not specified\n");
    return 2;
  }
  const desc = pickDesc(name, o.fdKind);
  if (!desc) {
    process.stderr.write(`vfiotrace decode: unknown ioctl ${JSON.stringify(escapeBytes(new TextEncoder().encode(name)))}\n`);
    return 2;
  }
  let call: CallValues;
  try {
    call = callValues(o);
  } catch (e) {
    process.stderr.write(`vfiotrace decode: ${(e as Error).message}\n`);
    return 2;
  }
  const ev = decodeCall(o, desc, call);
  if (ev.kind !== 'ioctl') return 1;
  if (o.json) await printJson(ev);
  else await printText(ev);
  return 0;
}

/** Parses --in, --out, --ret and --arg; throws on a bad one. */
function callValues(o: DecodeOpts): CallValues {
  const entry = parseHex(o.in);
  let exit = o.out !== undefined ? parseHex(o.out) : entry;
  const m = /^-?(E[A-Z0-9_]+)$/.exec(o.ret);
  const n = m ? errnoNumber(m[1] as string, errnoFlavor(o.arch)) : Number(o.ret);
  if (n === null || !Number.isInteger(n)) throw new Error(`bad --ret ${o.ret}`);
  const ret = m ? -n : n;
  const arg = BigInt(o.arg);
  if (exit.length !== entry.length) {
    const x = new Uint8Array(entry.length);
    x.set(exit.subarray(0, entry.length));
    exit = x;
  }
  return { entry, exit, ret, arg };
}

/**
 * Decodes the call as if traced on an fd of the given kind: the fd gets a
 * path (or a creating call) the decoder recognises, and --iommu is a
 * VFIO_SET_IOMMU before it.
 */
function decodeCall(o: DecodeOpts, desc: IoctlDesc, call: CallValues): DecodedEvent {
  const dec = createDecoder(header(o.arch), { registry: registry() });
  const fd = 3;
  const path = PATHS[o.fdKind] ?? 'anon_inode:[vfiotrace-decode]';
  let seq = 0;
  if (!PATHS[o.fdKind]) {
    // Migration and dma-buf fds have no telling path: let a call create it.
    dec.createdFd(1, fd, o.fdKind);
  }
  if (o.iommu && (o.fdKind === 'container' || o.fdKind === 'iommufd')) {
    const setIommu = pickDesc('VFIO_SET_IOMMU', 'container') as IoctlDesc;
    const type = o.iommu === 'type1' ? 3 : 7;
    dec.decode(record(encodeIo(o.arch, setIommu.nr), fd, path, BigInt(type), 0, new Uint8Array(0), new Uint8Array(0), seq++));
  }
  const arg = desc.arg.kind === 'int' || desc.arg.kind === 'none' ? call.arg : 0x1000n;
  return dec.decode(record(encodeIo(o.arch, desc.nr), fd, path, arg, call.ret, call.entry, call.exit, seq++));
}

async function printJson(ev: DecodedIoctl): Promise<void> {
  let line: string;
  try {
    const json = await import('../render/json.js');
    line = json.renderJson(ev);
  } catch {
    line = JSON.stringify(ev, (k, v: unknown) => (typeof v === 'bigint' ? v.toString() : k === 'record' ? undefined : v));
  }
  process.stdout.write(line.endsWith('\n') ? line : line + '\n');
}

/** The strace-style line the tracer would print, then the full tree. */
async function printText(ev: DecodedIoctl): Promise<void> {
  try {
    const { TextRenderer } = await import('../render/text.js');
    const line = new TextRenderer(null, { findings: 'none' }).render(ev);
    if (line) process.stdout.write(line.endsWith('\n') ? line : line + '\n');
  } catch {
    /* renderer not available: the tree alone says it all */
  }
  process.stdout.write(describe(ev));
}
