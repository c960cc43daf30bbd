// `vfiotrace export --format perfetto` on a large synthetic POWER recording
// (decodeRecording.ts: sPAPR v2 + EEH set-up, then a steady mix of DMA maps,
// EEH ops, region infos, SET_IRQS and failing calls): wall time, events/s
// and the export process's peak RSS, which must stay flat however long the
// recording (the writer streams; nothing per event is kept). `show --json`
// on the same file is the reference: the other writer that formats every
// event. Each run is its own process, so RSS is that run's alone.
//
//   node dist/bench/perfetto.js [EVENTS]      (default 1,000,000)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDecodeRecording } from './decodeRecording.js';

const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;

async function child(kind: string, rec: string, out: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const code = kind === 'perfetto'
    ? await (await import('../src/commands/export.js')).run(['--format', 'perfetto', '-o', out, rec])
    : await (await import('../src/commands/show.js')).run(['--json', '-o', out, rec]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  // maxRSS is in KiB.
  console.log(JSON.stringify({ code, secs, maxRss: process.resourceUsage().maxRSS * 1024 }));
}

function measure(kind: string, rec: string, out: string): { secs: number; maxRss: number } {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, rec, out], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  const m = JSON.parse(line) as { code: number; secs: number; maxRss: number };
  if (m.code !== 0) throw new Error(`${kind} exited ${m.code}: ${r.stderr}`);
  return m;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  const events = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-perfetto-'));
  try {
    const rec = path.join(dir, 'rec.vft');
    const bytes = writeDecodeRecording(rec, events);
    console.log(`recording: ${events.toLocaleString('en-US')} events, ${mb(bytes)}`);
    for (const kind of ['perfetto', 'json'] as const) {
      const out = path.join(dir, `out.${kind}`);
      const m = measure(kind, rec, out);
      const label = kind === 'perfetto' ? 'perfetto export' : 'show --json (reference)';
      console.log(`${label}: ${(events / m.secs).toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} events/s, ${m.secs.toFixed(2)} s, peak RSS ${mb(m.maxRss)}, output ${mb(statSync(out).size)}`);
      rmSync(out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
