// The VFIO state view: the session model's snapshot as an indented tree —
// process → container → groups → devices (regions, IRQ wiring), DMA
// mappings, and the EEH PE state with its history of ops.

import { EXTENSIONS, VFIO_SPAPR_TCE_v2_IOMMU } from '../../decoders/container.js';
import { DEVICE_INFO_FLAGS, IRQ_INDEXES, REGION_INFO_FLAGS } from '../../decoders/device.js';
import { DMA_MAP_FLAGS } from '../../decoders/type1.js';
import { flagsText } from '../decode/format.js';
import type { AttemptSnap, ContainerSnap, DeviceSnap, DmaSnap, ProcessSnap, SessionSnapshot } from '../model/snapshot.js';
import type { SpaprSnap } from '../model/spapr.js';

export type SnapshotLike = SessionSnapshot;

const MAPPINGS_LISTED = 16;
const EEH_OPS_LISTED = 24;
const REGISTERED_LISTED = 16;

/** The kernel's name for a value in a decoders/ table, else the number. */
function nameOf(table: readonly (readonly [string, number])[], v: number): string {
  return table.find(([, x]) => x === v)?.[0] ?? String(v);
}

/** CHECK_EXTENSION's answer: 1 yes, 0 no, anything else as the kernel said it. */
function answerText(a: number | null): string {
  return a === null ? 'failed' : a === 1 ? 'yes' : a === 0 ? 'no' : String(a);
}

function outcome(a: AttemptSnap): string {
  return a.ok ? `#${a.seq}` : `#${a.seq} FAILED ${a.errno ?? ''}`.trimEnd();
}

function dmaLines(d: DmaSnap, pad: string, out: string[]): void {
  out.push(`${pad}DMA: ${d.mappings.length} mapping(s), ${d.mappedBytes} bytes mapped${d.failedMaps ? `, ${d.failedMaps} failed map(s)` : ''}`);
  for (const m of d.mappings.slice(0, MAPPINGS_LISTED)) {
    out.push(`${pad}  iova ${m.iova} size ${m.size}${m.vaddr ? ` vaddr ${m.vaddr}` : ''} flags ${flagsText(DMA_MAP_FLAGS, m.flags)} (#${m.seq})`);
  }
  if (d.mappings.length > MAPPINGS_LISTED) out.push(`${pad}  ... ${d.mappings.length - MAPPINGS_LISTED} more`);
}

/** TCE windows, DDW limits and preregistered memory, by the kernel's field names. */
function spaprLines(s: SpaprSnap, v2: boolean, pad: string, out: string[]): void {
  const removed = s.defaultRemoved !== null ? ` (default 32-bit window removed by #${s.defaultRemoved})` : '';
  // Without GET_INFO the default window is not known: say only what is.
  if (s.windows.length > 0 || s.info !== null || removed) out.push(`${pad}TCE windows: ${s.windows.length || 'none'}${removed}`);
  for (const w of s.windows) {
    out.push(w.default
      ? `${pad}  dma32_window_start ${w.start_addr} dma32_window_size ${w.window_size} (default 32-bit window, #${w.seq})`
      : `${pad}  start_addr ${w.start_addr} window_size ${w.window_size} page_shift ${w.page_shift ?? '?'} levels ${w.levels ?? '?'} (#${w.seq})`);
  }
  const ddw = s.info?.ddw;
  if (ddw) out.push(`${pad}DDW: pgsizes ${ddw.pgsizes} max_dynamic_windows_supported ${ddw.max_dynamic_windows_supported} levels ${ddw.levels} (#${s.info?.seq ?? '?'})`);
  // Preregistration is v2's (v1 has none to show).
  if (s.registeredCount === 0) {
    if (v2) out.push(`${pad}registered memory: none`);
    return;
  }
  out.push(`${pad}registered memory: ${s.registeredCount} region(s), ${s.registeredBytes} bytes`);
  for (const r of s.registered.slice(0, REGISTERED_LISTED)) out.push(`${pad}  vaddr ${r.vaddr} size ${r.size} (#${r.seq})`);
  if (s.registeredCount > REGISTERED_LISTED) out.push(`${pad}  ... ${s.registeredCount - REGISTERED_LISTED} more`);
}

function deviceLines(d: DeviceSnap, pad: string, out: string[]): void {
  out.push(`${pad}device ${d.name ?? '?'} fd ${d.fd} (via ${d.via})`);
  if (d.bind) out.push(`${pad}  bound to iommufd fd ${d.bind.iommufd}, devid ${d.bind.devid ?? '?'} ${outcome(d.bind)}`);
  if (d.attach) out.push(`${pad}  attached to pt ${d.attach.ptId} ${outcome(d.attach)}`);
  if (d.info) out.push(`${pad}  info: flags ${flagsText(DEVICE_INFO_FLAGS, d.info.flags)}, ${d.info.numRegions} regions, ${d.info.numIrqs} irqs`);
  for (const r of d.regions) out.push(`${pad}  region ${r.index}: size ${r.size} offset ${r.offset} ${flagsText(REGION_INFO_FLAGS, r.flags)} (#${r.seq})`);
  for (const i of d.irqs) {
    const wired = i.eventfds.map((e) => `${e.vector}->fd ${e.fd}`).join(', ');
    out.push(`${pad}  irq ${nameOf(IRQ_INDEXES, i.index)}: count ${i.count ?? '?'}${wired ? `, eventfds ${wired}` : ', no eventfds'}`);
  }
  if (d.migrationFds.length) out.push(`${pad}  migration fds: ${d.migrationFds.join(', ')}`);
}

function containerLines(c: ContainerSnap, p: ProcessSnap, out: string[]): void {
  const iommu = c.iommu ? `${c.iommu.name} ${outcome(c.iommu)}` : 'no IOMMU set';
  out.push(`  container fd ${c.fd}: ${iommu}${c.pgsizes ? `, pgsizes ${c.pgsizes}` : ''}`);
  for (const g of c.groups) {
    const grp = p.groups.find((x) => x.id === g.id);
    out.push(`    group ${g.number ?? g.id}${grp ? ` fd ${grp.fd}` : ''} ${outcome(g)}`);
    for (const d of p.devices.filter((x) => x.group === g.id)) deviceLines(d, '      ', out);
  }
  dmaLines(c.dma, '    ', out);
  if (c.spapr) spaprLines(c.spapr, c.iommu?.type === VFIO_SPAPR_TCE_v2_IOMMU, '    ', out);
  const e = c.eeh;
  if (e.ops.length || e.lastState) {
    out.push(`    EEH PE state: ${e.lastState ? `${e.lastState.state} (#${e.lastState.seq})` : 'never asked'}${e.pendingReset !== null ? `, reset pending since #${e.pendingReset}` : ''}`);
    const shown = e.ops.slice(-EEH_OPS_LISTED);
    if (shown.length < e.ops.length) out.push(`      ... ${e.ops.length - shown.length} earlier op(s)`);
    for (const o of shown) out.push(`      ${outcome(o)} ${o.op}${o.state ? ` -> ${o.state}` : ''}`);
  }
}

export function stateLines(s: SessionSnapshot): string[] {
  const out: string[] = [];
  if (s.processes.length === 0) return ['(no VFIO objects seen yet)'];
  for (const p of s.processes) {
    out.push(`pid ${p.pid}${p.exited ? ' (exited)' : ''}: ${p.fds.map((f) => `${f.fd}<${f.kind}>`).join(' ') || 'no fds'}`);
    for (const c of p.containers) containerLines(c, p, out);
    const inContainer = new Set(p.containers.flatMap((c) => c.groups.map((g) => g.id)));
    for (const g of p.groups.filter((x) => !inContainer.has(x.id))) {
      out.push(`  group ${g.number} fd ${g.fd}: ${g.container ? `container ${g.container.id} ${outcome(g.container)}` : 'no container'}`);
      for (const d of p.devices.filter((x) => x.group === g.id)) deviceLines(d, '    ', out);
    }
    for (const f of p.iommufds) {
      out.push(`  iommufd fd ${f.fd}: ${f.ioas.length} IOAS${f.groups.length ? `, groups ${f.groups.join(', ')}` : ''}`);
      for (const a of f.ioas) dmaLines(a.dma, `    ioas ${a.id} `, out);
    }
    for (const d of p.devices.filter((x) => x.group === null)) deviceLines(d, '  ', out);
    if (p.extensions.length) {
      out.push(`  extensions: ${p.extensions.map((x) => `${nameOf(EXTENSIONS, x.id)}=${answerText(x.answer)}`).join(' ')}`);
    }
  }
  return out;
}
