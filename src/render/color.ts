// ANSI colour for text output on a terminal (--color): errno in red,
// findings in yellow. Applied to finished lines, so cached line parts stay plain.

export type ColorWhen = 'auto' | 'always' | 'never';

export const RED = '\x1b[31m';
export const YELLOW = '\x1b[33m';
export const RESET = '\x1b[0m';

/** auto = the output is a terminal and NO_COLOR is unset or empty (no-color.org). */
export function colorWanted(when: ColorWhen, isTty: boolean): boolean {
  if (when === 'always') return true;
  if (when === 'never') return false;
  const noColor = process.env.NO_COLOR;
  return isTty && (noColor === undefined || noColor === '');
}

/** ` = -1 ERRNO (…)` at the end of a call's text, in red. */
export function colorErrno(tail: string): string {
  const k = tail.lastIndexOf(' = -1 ');
  return k < 0 ? tail : tail.slice(0, k) + ' = ' + RED + tail.slice(k + 3) + RESET;
}

/** Each line of a block, in `color`. */
export function colorLines(block: string, color: string): string {
  return block.replace(/^(.+)$/gm, `${color}$1${RESET}`);
}
