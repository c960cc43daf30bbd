// Public surface of the session model.
export { SessionModel, succeeded, attemptOf, type EventContext } from './session.js';
export type { SessionSnapshot, ProcessSnap, ContainerSnap, GroupSnap, DeviceSnap, IommufdSnap } from './snapshot.js';
export { getField, fieldValue, fieldNumber, scalarPayload, arrayValues } from './fields.js';
export type * from './state.js';
