/** "Did you mean" hints for mistyped option and config keys. */

/** Edit distance (insertions, deletions, substitutions) between two strings. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/**
 * ` (did you mean "k"?)` for the known key nearest to `key` (case-insensitive), or `''` when none is near enough.
 *
 * @example
 * ```ts
 * didYouMean('sede', ['seed', 'scale']); // ' (did you mean "seed"?)'
 * ```
 */
export function didYouMean(key: string, known: Iterable<string>): string {
  const near = [...known].map((k) => [k, distance(key.toLowerCase(), k.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
  return near && near[1] <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean "${near[0]}"?)` : '';
}
