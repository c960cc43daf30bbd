// The EEH timeline's text summary under `vfiotrace show -c` and in
// `vfiotrace audit` (text and JSON), on the golden sPAPR + EEH recording.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run as audit } from '../../src/commands/audit.js';
import { run as show } from '../../src/commands/show.js';
import { encodeRecording } from '../../src/trace/writer.js';
import { spaprPrefix } from '../audit/qemu.js';
import { runCli, tmp } from '../integration/helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GOLDEN = path.join(HERE, '../golden/spapr-eeh.ppc64le.vft');
// The golden scenario: INJECT_ERR at 24 ms (#24), GET_STATE = STOPPED 1 ms later (#25),
// a refused RESET_HOT (#26), RESET_HOT, RESET_DEACTIVATE, CONFIGURE, GET_STATE = NORMAL (#30).
const STORY =
  'PE of container 3</dev/vfio/vfio> [pid 7310]: frozen at 0.024000 s by INJECT_ERR (#24), ' +
  'detected 1.000 ms later by GET_STATE = STOPPED (#25), ' +
  'recovered in 5.000 ms (GET_STATE = NORMAL at 0.030000 s, #30) by RESET_HOT, RESET_DEACTIVATE, CONFIGURE; ' +
  'frozen 6.000 ms in all; 1 failed op: RESET_HOT EINVAL (#26)';

describe('EEH timeline summary', () => {
  it('show -c prints it under the table, whatever -e shows', async () => {
    for (const extra of [[], ['-e', 'device']]) {
      const r = await runCli(show, ['-c', ...extra, GOLDEN], tmp());
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`\nEEH timeline\n  ${STORY}\n`);
      expect(r.stdout.indexOf('EEH timeline')).toBeGreaterThan(r.stdout.indexOf('total'));
    }
  });

  it('show -c of a session whose PE never froze ends with the table', async () => {
    const dir = tmp();
    const rec = path.join(dir, 'eeh.vft');
    const s = spaprPrefix().eeh(1).eeh(4, 0).exit();
    writeFileSync(rec, encodeRecording(s.header, s.records));
    const r = await runCli(show, ['-c', rec], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('VFIO_EEH_PE_OP');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/ total$/);
    const a = await runCli(audit, ['--no-explain', rec], dir, 'audit.txt');
    expect(a.stdout).toContain('\nEEH timeline\n  PE of container 3</dev/vfio/vfio> [pid ');
    expect(a.stdout).toContain(': no freeze in 2 EEH ops, last state NORMAL\n');
  });

  it('show without -c and show -c --json leave it out', async () => {
    for (const flags of [[], ['-c', '--json']]) {
      const r = await runCli(show, [...flags, GOLDEN], tmp());
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('EEH timeline');
    }
  });

  it('audit prints it after the findings, and --json carries the same lines', async () => {
    const t = await runCli(audit, ['--no-explain', GOLDEN], tmp());
    expect(t.code).toBe(1);
    expect(t.stdout.endsWith(`\nEEH timeline\n  ${STORY}\n`)).toBe(true);
    const j = await runCli(audit, ['--json', GOLDEN], tmp());
    expect((JSON.parse(j.stdout) as { eeh: string[] }).eeh).toEqual([STORY]);
  });
});
