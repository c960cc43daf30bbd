// --color: errno in red and findings in yellow on a terminal, never in a file
// unless asked; NO_COLOR turns `auto` off.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { colorWanted } from '../../src/render/cliOptions.js';
import { TextRenderer } from '../../src/render/text.js';
import { colorAuditReport } from '../../src/commands/audit.js';
import { ioctl } from './helpers.js';

afterEach(() => vi.unstubAllEnvs());

const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

describe('colour', () => {
  const failed = ioctl({ ret: { value: -22, errno: 'EINVAL', meaning: 'argsz < minsz (8)' }, findings: [{ rule: 'argsz-too-small', severity: 'error', message: 'argsz 4 < 8' }] });

  it('text: the errno part red, findings yellow; nothing without colour', () => {
    const on = new TextRenderer(null, { color: true }).render(failed);
    expect(on).toContain(` = ${RED}-1 EINVAL (Invalid argument: argsz < minsz (8))${RESET}\n`);
    expect(on).toContain(`${YELLOW}  ^ error argsz-too-small: argsz 4 < 8${RESET}\n`);
    const off = new TextRenderer(null, {}).render(failed);
    expect(off).not.toContain('\x1b');
  });

  it('auto: only on a terminal, and not with NO_COLOR; always and never as they say', () => {
    expect(colorWanted('always', false)).toBe(true);
    expect(colorWanted('never', true)).toBe(false);
    expect(colorWanted('auto', false)).toBe(false);
    vi.stubEnv('NO_COLOR', '');
    expect(colorWanted('auto', true)).toBe(true);
    vi.stubEnv('NO_COLOR', '1');
    expect(colorWanted('auto', true)).toBe(false);
  });

  it('audit: finding headings in yellow (errors in red), the rest plain', () => {
    const report = 'error   eeh-reset-not-deactivated ×1: title\n  #4: message\nwarning eeh-x ×2: t\n';
    expect(colorAuditReport(report)).toBe(`${RED}error   eeh-reset-not-deactivated ×1: title${RESET}\n  #4: message\n${YELLOW}warning eeh-x ×2: t${RESET}\n`);
  });
});
