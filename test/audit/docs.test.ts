// docs/audit-rules.md carries every rule with its explanation, word for word.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
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
