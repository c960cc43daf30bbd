// The man page comes from the commands' own --help definitions: every
// command, argument and option of --help is in it, and man renders it
// cleanly. The build writes it to dist/man/vfiotrace.1 (scripts/gen-man.mjs).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { DEFAULT_COMMAND, SUBCOMMANDS } from '../../src/cli.js';
import { afterHelpText, manPage, roffText } from '../../src/commands/manPage.js';
import { onPath } from '../helpers/trace.js';

let page = '';
let commands: [string, Command][] = [];

beforeAll(async () => {
  page = await manPage({ version: '9.8.7', summary: 'the summary line' });
  commands = [['vfiotrace', (await DEFAULT_COMMAND()).cliCommand()]];
  for (const [name, load] of Object.entries(SUBCOMMANDS)) commands.push([name, (await load()).cliCommand()]);
});

/** What man prints for the page, and its warnings. */
function render(): { text: string; warnings: string } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vft-man-')), 'vfiotrace.1');
  writeFileSync(file, page);
  const r = spawnSync('man', ['--warnings', '-l', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '', LANG: 'C.UTF-8' } });
  return { text: r.stdout.replace(/.\x08/g, ''), warnings: r.stderr };
}

describe('the man page', () => {
  it('has the name line, version and a synopsis line for every command', () => {
    expect(page).toContain('.TH VFIOTRACE 1 "" "vfiotrace 9.8.7" "User Commands"');
    expect(page).toContain('vfiotrace \\- the summary line');
    for (const [, cmd] of commands) expect(page).toContain(`\n${roffText(cmd.createHelp().commandUsage(cmd)).replace(/-/g, '\\-')}\n`);
  });

  it("documents every option and argument with --help's own words", () => {
    for (const [name, cmd] of commands) {
      const help = cmd.createHelp();
      for (const o of help.visibleOptions(cmd)) {
        expect(page, `${name} ${o.flags}`).toContain(`.B ${o.flags.replace(/-/g, '\\-')}\n${roffText(help.optionDescription(o))}\n`);
      }
      for (const a of help.visibleArguments(cmd)) expect(page, `${name} ${a.name()}`).toContain(`.I ${a.name()}\n${roffText(help.argumentDescription(a))}\n`);
    }
  });

  it("carries the text commands add after their options (the trace's exit status, emulate's example)", () => {
    const after = afterHelpText((commands[0] as [string, Command])[1]);
    expect(after).toMatch(/^Other commands:\n/);
    expect(after).toContain('Exit status: the traced command');
    expect(page).toContain(roffText(after));
    expect(page).toContain('  vfiotrace emulate --device x86-pci -- qemu-system-x86_64');
  });

  it('renders with man, without a warning', () => {
    expect(onPath('man'), 'man is not installed (apt-get install man-db)').toBe(true);
    const { text, warnings } = render();
    expect(warnings).toBe('');
    expect(text).toMatch(/^VFIOTRACE\(1\) +User Commands +VFIOTRACE\(1\)$/m);
    expect(text).toContain('vfiotrace record-binary [options]');
    expect(text).toContain('--payload-cap <bytes>');
    expect(text).toContain('ARGS…'); // non-ASCII survives as a groff escape
  });
});

describe('--help', () => {
  it("lists every command under 'Other commands'", () => {
    const after = afterHelpText((commands[0] as [string, Command])[1]);
    for (const name of Object.keys(SUBCOMMANDS)) expect(after).toMatch(new RegExp(`^  vfiotrace ${name}\\b`, 'm'));
  });
});
