// `vfiotrace show FILE`: prints a recording exactly as the live run printed it.

import { Command } from 'commander';
import { addOutputOptions, fail, filterVocabulary, openOutput, outputFlags, parseArgs, printOptions } from '../render/cliOptions.js';
import { Printer, printAll } from '../render/printer.js';
import { BROKEN_PIPE_STATUS } from '../render/stdio.js';
import type { TraceRecord } from '../trace/events.js';
import { openPipeline, openRecordingPipeline } from '../session/pipeline.js';
import { recordingFileProblem } from '../trace/reader.js';

export function cliCommand(): Command {
  return addOutputOptions(
    new Command('vfiotrace show')
      .description('print a recording made with -w (or by the standalone recorder), as the live trace printed it')
      .argument('<file>', 'recording (.vft); - reads standard input'),
  );
}

export async function run(argv: string[]): Promise<number> {
  const cmd = cliCommand();
  const code = parseArgs(cmd, argv);
  if (code !== null) return code;
  const file = cmd.args[0] as string;
  const flags = outputFlags(cmd.opts());

  let print;
  try {
    print = printOptions(flags, filterVocabulary());
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  const problem = file === '-' ? null : recordingFileProblem(file);
  if (problem !== null) {
    fail(`${file}: ${problem}`);
    return 2;
  }

  let pipeline;
  try {
    const decodeOpts = {
      onDecodeError: (r: TraceRecord, e: Error) => fail(`${file}: cannot decode the record at byte ${r.offset}: ${e.message}`),
    };
    pipeline = file === '-' ? await openPipeline(process.stdin, decodeOpts) : await openRecordingPipeline(file, decodeOpts);
  } catch (e) {
    fail(`${file}: ${(e as Error).message}`);
    return 1;
  }
  let out;
  try {
    out = openOutput(flags);
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  const printer = new Printer(pipeline.header, print, out);
  const error = await printAll(pipeline, printer, true);
  await out.close();
  if (out.closed) return BROKEN_PIPE_STATUS; // the reader stopped early (`| head`): quietly, as a tool killed by SIGPIPE
  if (error) {
    fail(`${file}: ${error.message}`);
    return 1;
  }
  if (printer.end !== null && printer.end.dropped > 0) fail(`${file}: the tracer lost ${printer.end.dropped} events while recording`);
  const incomplete = pipeline.incomplete();
  if (incomplete !== null) {
    fail(`${file}: ${incomplete}`);
    return 1;
  }
  return 0;
}
