// Standard output and error that went away. A reader that stops reading
// (`vfiotrace … | head -1`) ends vfiotrace's output quietly with status 141,
// as a tool killed by SIGPIPE reports it (Node ignores SIGPIPE, so writes fail
// with EPIPE instead); any other write error is one line and status 2.

/** 128 + SIGPIPE: what a shell reports for a writer whose reader went away. */
export const BROKEN_PIPE_STATUS = 141;

let status: number | null = null;

/** The status the broken stream calls for, or null while both streams are fine. */
export function stdioStatus(): number | null {
  return status;
}

/** Catches write errors on stdout and stderr (an 'error' event with no listener would end in a stack trace). */
export function guardStdio(): void {
  for (const [name, stream] of [['standard output', process.stdout], ['standard error', process.stderr]] as const) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (status !== null) return; // one report is enough; later writes fail the same way
      if (e.code === 'EPIPE') status = BROKEN_PIPE_STATUS;
      else {
        status = 2;
        if (stream !== process.stderr) process.stderr.write(`vfiotrace: cannot write ${name}: ${e.code ?? e.message}\n`);
      }
      process.exitCode = status;
    });
  }
}
