/**
 * "Did you mean" suggestions by edit distance, for unknown keys, values and names.
 *
 * @module
 */

/**
 * Edit distance between two strings: insert, delete, substitute, or swap two neighbours, each
 * costing 1 (optimal string alignment distance).
 *
 * @example
 * ```ts
 * editDistance("mrege", "merge"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `word`, when it is close enough to be a likely typo: at most a third
 * of the word's length away (at least 1, at most 3), equal ignoring case, `-` and `_`, or one a
 * prefix of the other ignoring case (`warn` → `WARNING`, `hostname` → `host`).
 *
 * @example
 * ```ts
 * closest("paginater", ["path", "paginator"]); // "paginator"
 * closest("colour", ["path", "paginator"]); // undefined
 * ```
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const a = fold(word);
    const b = fold(candidate);
    let distance = a === b ? 0 : editDistance(word, candidate);
    // a prefix match ranks after every typo-distance match
    if (
      distance > limit && a.length >= 3 && b.length >= 3 && (a.startsWith(b) || b.startsWith(a))
    ) {
      distance = limit + 0.5;
    }
    if (distance <= limit + 0.5 && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * ` (did you mean "x"?)` when a close candidate exists, else the empty string.
 *
 * @example
 * ```ts
 * `unknown key "paginater"${didYouMean("paginater", ["paginator"])}`;
 * // 'unknown key "paginater" (did you mean "paginator"?)'
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? "" : ` (did you mean "${match}"?)`;
}

/**
 * `"a", "b", "c"`: values quoted and joined for a message.
 *
 * @example
 * ```ts
 * quoteList(["GET", "POST"]); // '"GET", "POST"'
 * ```
 */
export function quoteList(values: Iterable<string>): string {
  return [...values].map((v) => `"${v}"`).join(", ");
}
