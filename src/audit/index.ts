// Public surface of the audit.
export { Auditor, audit, atLeast } from './auditor.js';
export { RULES, RULES_BY_ID } from './rules.js';
export type { AuditFinding, RuleInfo } from './types.js';
