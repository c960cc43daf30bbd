// docs/audit-rules.md carries every rule with its explanation, word for word.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DECODER_SEVERITY } from '../../src/audit/decoderSeverity.js';
import { RULES } from '../../src/audit/rules.js';

it('docs/audit-rules.md documents every rule', () => {
  const doc = readFileSync(new URL('../../docs/audit-rules.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  for (const r of RULES) {
    expect(doc).toContain(`## \`${r.id}\` (${r.severity})`);
    expect(doc).toContain(r.explanation.replace(/\s+/g, ' '));
  }
  const documented = [...doc.matchAll(/## `([a-z0-9-]+)` \(/g)].map((m) => m[1]);
  expect(documented.sort()).toEqual(RULES.map((r) => r.id).sort());
});

it('docs/audit-rules.md names every decoder finding the audit restates', () => {
  const doc = readFileSync(new URL('../../docs/audit-rules.md', import.meta.url), 'utf8');
  for (const [rule, { severity }] of DECODER_SEVERITY) {
    expect(doc).toContain(`\`${rule}\``);
    expect(severity).toBe('info');
  }
});
