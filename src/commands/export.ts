// `vfiotrace export --format perfetto [-o OUT.json] FILE`: a recording in
// another tool's format. One format so far: the Chrome trace-event JSON that
// ui.perfetto.dev and chrome://tracing open (src/render/perfetto.ts).

import { statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { fail, parseArgs } from '../render/cliOptions.js';
import { Output } from '../render/output.js';
import { PerfettoWriter } from '../render/perfetto.js';
import type { TraceRecord } from '../trace/events.js';
import { openPipeline, openRecordingPipeline, type Pipeline } from '../session/pipeline.js';

export function cliCommand(): Command {
  return new Command('vfiotrace export')
    .description('convert a recording for another tool: perfetto = Chrome trace-event JSON (open it in ui.perfetto.dev)')
    .argument('<file>', 'recording (.vft); - reads standard input')
    .addOption(new Option('--format <format>', 'output format').choices(['perfetto']).makeOptionMandatory())
    .option('-o, --output <file>', 'write to FILE instead of standard output');
}

export async function run(argv: string[]): Promise<number> {
  const cmd = cliCommand();
  const code = parseArgs(cmd, argv);
  if (code !== null) return code;
  const file = cmd.args[0] as string;
  const o = cmd.opts<{ format: string; output?: string }>();
  try {
    if (file !== '-' && !statSync(file).isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
  } catch (e) {
    fail(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`}`);
    return 2;
  }
  let pipeline: Pipeline;
  try {
    const decodeOpts = { onDecodeError: (r: TraceRecord, e: Error) => fail(`${file}: cannot decode the record at byte ${r.offset}: ${e.message}`) };
    pipeline = file === '-' ? await openPipeline(process.stdin, decodeOpts) : await openRecordingPipeline(file, decodeOpts);
  } catch (e) {
    fail(`${file}: ${(e as Error).message}`);
    return 1;
  }
  let out: Output;
  try {
    out = o.output === undefined || o.output === '-' ? Output.stream(process.stdout) : Output.file(o.output);
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  const w = new PerfettoWriter(pipeline.header, out);
  w.begin();
  let error: Error | null = null;
  try {
    for await (const b of pipeline.batches()) {
      await w.batch(b);
      if (out.closed) break;
    }
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  // A cut-short recording still gives a well-formed document of everything before the cut.
  await w.finish();
  await out.close();
  if (error) {
    fail(`${file}: ${error.message} (the export holds everything before it)`);
    return 1;
  }
  return 0;
}
