// Session state kept per traced process. Every piece of state a caller sets
// (an "attempt") remembers whether the kernel accepted it: a failed call
// changes nothing in the kernel, but it still shows what the caller meant,
// and the audit reasons about both.

import type { FdKind } from '../decode/types.js';
import type { DmaSpace } from './dma.js';
import type { Ring } from './ring.js';
import type { Attempt } from './outcome.js';
import type { SpaprState } from './spapr.js';

export type { Attempt } from './outcome.js';

export interface FdEntry {
  pid: number;
  fd: number;
  kind: FdKind;
  /** Path from /proc/PID/fd at the first ioctl seen on it ('' until known). */
  path: string;
  objectId: string;
  firstSeq: number;
  lastSeq: number;
  /** seq of the call that returned this fd, when seen. */
  createdBy: number | null;
  /** seq at which the fd was found closed or reused, or null while open. */
  closedSeq: number | null;
}

export interface IommuChoice extends Attempt {
  /** VFIO_SET_IOMMU argument: 1 TYPE1, 2 SPAPR_TCE, 3 TYPE1v2, 7 SPAPR_TCE_v2, 8 NOIOMMU. */
  type: number;
}

export interface ExtensionQuery {
  seq: number;
  /** The answer (0 or 1), or null when the call failed. */
  answer: number | null;
}

export type EehStateName = 'NORMAL' | 'RESET' | 'STOPPED' | 'STOPPED_DMA' | 'UNAVAIL' | 'UNKNOWN';

export interface EehOpEntry extends Attempt {
  op: number;
  /** GET_STATE answers, decoded from the positive return value. */
  state?: EehStateName;
}

export interface EehState {
  /** Recent ops on this container, oldest first (the last EEH_OPS_KEEP). */
  ops: Ring<EehOpEntry>;
  /** Last PE state a successful GET_STATE reported. */
  lastState: { seq: number; state: EehStateName; value: number } | null;
  /** RESET_HOT / RESET_FUNDAMENTAL issued and not yet followed by RESET_DEACTIVATE. */
  pendingReset: EehOpEntry | null;
  /** Last RESET_DEACTIVATE that ended a reset (the reset's seq and its own). */
  lastCompletedReset: { resetSeq: number; deactivateSeq: number } | null;
  /** seq of the last CONFIGURE, so a second one needs a new reset first. */
  lastConfigure: number | null;
  /** seq of the last op that starts recovering a frozen PE (UNFREEZE_*, ENABLE, RESET_DEACTIVATE, CONFIGURE). */
  lastRecovery: number | null;
  /** Some EEH op on this container succeeded: the kernel serves EEH here, so a failed op is a real answer. */
  served: boolean;
  /** Last RESET_HOT / RESET_FUNDAMENTAL the kernel refused on a container that serves EEH, until the next reset or deactivate. */
  refusedReset: EehOpEntry | null;
  /** seq of the last op that can change the PE state other than by thawing it (ENABLE, DISABLE, resets, CONFIGURE, INJECT_ERR). */
  lastStateChange: number | null;
}

export interface ContainerState {
  id: string;
  kind: 'container';
  pid: number;
  fd: number;
  /** Groups attached with GROUP_SET_CONTAINER (attempts; see Attempt.ok). */
  groups: Map<string, Attempt>;
  /** Most recent VFIO_SET_IOMMU, success or not: it picks the backend the decoder resolves with. */
  iommu: IommuChoice | null;
  /** The SET_IOMMU the kernel accepted and that still holds (released when the last group leaves). */
  backend: IommuChoice | null;
  /** Every SET_IOMMU issued here, oldest first. */
  iommuHistory: IommuChoice[];
  /** type1 IOMMU_GET_INFO: iova_pgsizes bitmap from the last successful call. */
  pgsizes: { seq: number; bitmap: bigint } | null;
  /** sPAPR v1 IOMMU_ENABLE state. */
  spaprEnabled: Attempt | null;
  /** sPAPR TCE windows and preregistered memory, from the first accepted sPAPR call after the last SET_IOMMU. */
  spapr: SpaprState | null;
  dma: DmaSpace;
  eeh: EehState;
}

export interface IoasState {
  id: number;
  seq: number;
  dma: DmaSpace;
  /** IOAS_IOVA_RANGES out_iova_alignment, when reported. */
  iovaAlignment: bigint | null;
}

export interface IommufdState {
  id: string;
  kind: 'iommufd';
  pid: number;
  fd: number;
  ioas: Map<number, IoasState>;
  groups: Map<string, Attempt>;
}

export interface GroupState {
  id: string;
  kind: 'group';
  pid: number;
  fd: number;
  /** Group number from the path ("42", "noiommu-0"). */
  number: string;
  /** Last GROUP_SET_CONTAINER (container or iommufd object id), or null; cleared by a successful UNSET. */
  container: (Attempt & { targetId: string; targetFd: number }) | null;
  devices: string[];
}

export interface RegionState {
  index: number;
  seq: number;
  flags: number;
  size: bigint;
  offset: bigint;
  capOffset: number;
}

export interface IrqState {
  index: number;
  /** From the last successful GET_IRQ_INFO, or null if never asked. */
  info: { seq: number; flags: number; count: number } | null;
  /** Eventfd per vector from SET_IRQS DATA_EVENTFD|ACTION_TRIGGER (accepted calls only; -1 entries remove). */
  eventfds: Map<number, number>;
  lastSet: (Attempt & { flags: number; start: number; count: number }) | null;
}

export interface DeviceState {
  id: string;
  kind: 'device';
  pid: number;
  fd: number;
  /** Device name passed to GROUP_GET_DEVICE_FD, or the cdev path. */
  name: string | null;
  via: 'group' | 'cdev';
  groupId: string | null;
  bind: (Attempt & { iommufdFd: number; devid: number | null }) | null;
  attach: (Attempt & { ptId: number }) | null;
  info: { seq: number; flags: number; numRegions: number; numIrqs: number } | null;
  regions: Map<number, RegionState>;
  irqs: Map<number, IrqState>;
  migrationFds: string[];
}

export interface MigrationState {
  id: string;
  kind: 'migration';
  pid: number;
  fd: number;
  deviceId: string | null;
  seq: number;
}

export interface OtherState {
  id: string;
  kind: 'dmabuf' | 'other';
  pid: number;
  fd: number;
}

export type ObjectState = ContainerState | IommufdState | GroupState | DeviceState | MigrationState | OtherState;

export interface ProcessState {
  pid: number;
  fds: Map<number, FdEntry>;
  /** Recently closed or reused fds, newest last (bounded). */
  closedFds: FdEntry[];
  /** Extension answers by id, from CHECK_EXTENSION on any container of the process (support is global). */
  extensions: Map<number, ExtensionQuery>;
  exitedSeq: number | null;
  /**
   * Traced from the middle of its life (attached with -p, or forked from such
   * a process): calls before the attach are unknown, so "X was never issued"
   * cannot be concluded.
   */
  midSession: boolean;
}

/** What the per-call handlers and the snapshot read and change of the model (SessionModel is one). */
export interface ModelView {
  readonly processes: Map<number, ProcessState>;
  readonly objects: Map<string, ObjectState>;
  readonly lastSeq: number;
  lookup(pid: number, fd: number): ObjectState | undefined;
  get<T extends ObjectState['kind']>(id: string | null | undefined, kind: T): Extract<ObjectState, { kind: T }> | undefined;
  groupTarget(g: GroupState): ContainerState | IommufdState | undefined;
  openFd(proc: ProcessState, fd: number, kind: FdKind, path: string, seq: number, createdBy: number | null): FdEntry;
}
