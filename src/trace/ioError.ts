// One wording for a failed write to an output file, whichever layer wrote.

/** "NAME: no space left on device (ENOSPC)" from a failed write's Node error. */
export function writeFailure(name: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const what = (err.message ?? String(e)).replace(/^[A-Z0-9]+: /, '').replace(/, \w+( '.*')?$/, '');
  return `${name}: ${what}${err.code ? ` (${err.code})` : ''}`;
}
