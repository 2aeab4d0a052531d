/**
 * Lossless JSON for records on their way from the HTTP body to the extracted job file.
 * `JSON.parse` turns `12345678901234567890` into `12345678901234567000` and `1.0` into `1`;
 * {@linkcode parseJsonLossless} keeps both, as small wrapper objects that compare like numbers
 * (`valueOf`) and serialize back to their exact literal with the plain `JSON.stringify`
 * (`toJSON` returns `JSON.rawJSON`), so code that stringifies records stays lossless without
 * changes.
 *
 * @module
 */

/** `JSON.rawJSON` (V8, TC39 "JSON.parse source text access"), typed locally. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * Formats a double like orjson (shortest round trip, `.0` on integral values, `1e16` exponent
 * form from 1e16 up).
 *
 * @example
 * ```ts
 * formatJsonFloat(1); // "1.0"
 * formatJsonFloat(1.5); // "1.5"
 * ```
 */
export function formatJsonFloat(x: number): string {
  if (!Number.isFinite(x)) return "null";
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  if (Math.abs(x) >= 1e16 && !s.includes("e")) return x.toExponential().replace("e+", "e");
  return s.replace("e+", "e");
}

/** A float literal whose value is integral (`1.0`, `1e3`): a double, not an integer. */
export class JsonFloat {
  /** The number. */
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  /** The number, so comparisons and arithmetic work. */
  valueOf(): number {
    return this.value;
  }
  /** `1.0`, not `1`. */
  toString(): string {
    return formatJsonFloat(this.value);
  }
  /** Serializes as the float literal (`1.0`) with the plain `JSON.stringify`. */
  toJSON(): unknown {
    return rawJSON(formatJsonFloat(this.value));
  }
}

/** An integer literal beyond ±2^53 − 1, kept exact as a `bigint`. */
export class JsonInteger {
  /** The exact integer. */
  readonly value: bigint;
  constructor(value: bigint) {
    this.value = value;
  }
  /** The `bigint`, so comparisons work. */
  valueOf(): bigint {
    return this.value;
  }
  /** The decimal digits. */
  toString(): string {
    return this.value.toString();
  }
  /** Serializes as the exact integer literal with the plain `JSON.stringify`. */
  toJSON(): unknown {
    return rawJSON(this.value.toString());
  }
}

/**
 * `JSON.parse` that keeps integers beyond 2^53 exact ({@linkcode JsonInteger}) and integral
 * float literals as floats ({@linkcode JsonFloat}); everything else is as `JSON.parse` gives
 * it. `JSON.stringify` of the result reproduces those numbers exactly.
 *
 * @example
 * ```ts
 * const v = parseJsonLossless('{"id": 12345678901234567890, "x": 1.0}');
 * JSON.stringify(v); // '{"id":12345678901234567890,"x":1.0}'
 * ```
 */
export function parseJsonLossless(text: string): unknown {
  // A reviver makes JSON.parse several times slower; most bodies have no number it would
  // change, so the plain parse is used unless a number token could be one.
  return mayHaveLossyNumber(text) ? parseJsonExact(text) : JSON.parse(text);
}

/**
 * Whether `text` may hold a number that plain `JSON.parse` changes (false means it has none).
 *
 * @example
 * ```ts
 * mayHaveLossyNumber('{"id": 1, "at": "2024-01-01T00:00:00.000Z"}'); // false
 * mayHaveLossyNumber('{"x": 1.0}'); // true
 * ```
 */
export function mayHaveLossyNumber(text: string): boolean {
  // One pass over the text outside its strings, each string skipped with `indexOf` (a
  // vectorized search): numbers sit only there, and GitLab's bodies are mostly strings (the
  // regex this replaces, which had to try every `:`, `,` and `[`, took 1.4-1.8x as long).
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i++);
    if (c === 0x22) {
      // to the closing quote: the first one after an even run of backslashes
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return false; // not JSON: the parse tells
        i = q + 1;
        let k = q - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((q - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (isLossyNumberAt(text, c === 0x2d ? i : i - 1)) return true;
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
    }
  }
  return false;
}

/** A digit, `.`, `e`, `E`, `+` or `-`: a character of a number token. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b ||
    c === 0x2d;
}

/**
 * Whether the number whose digits start at `start` is one plain `JSON.parse` would change: 16
 * or more integer digits (beyond 2^53 at most), an integral fraction (`1.0`, `-2.00`), 17 or
 * more characters of digits and point (`12345.00000000000001` is the float 12345.0, where
 * `JSON.parse` gives the integer 12345), or an exponent.
 */
function isLossyNumberAt(text: string, start: number): boolean {
  const n = text.length;
  let j = start;
  while (j < n && isDigit(text.charCodeAt(j))) j++;
  if (j - start >= 16) return true;
  let c = text.charCodeAt(j);
  if (c === 0x2e) {
    let zeros = true;
    for (j++; j < n && isDigit(c = text.charCodeAt(j)); j++) if (c !== 0x30) zeros = false;
    if (zeros || j - start >= 17) return true;
    c = text.charCodeAt(j);
  }
  return c === 0x65 || c === 0x45;
}

/** `0`–`9`. */
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** An object key V8 would order first (an array index); strings may match too (harmless). */
const INDEX_KEY = /"(?:0|[1-9][0-9]*)"\s*:/;

/**
 * Whether `text` may hold an object key that `JSON.parse` moves before the others (an
 * integer-like key such as `"2"`); false means it has none.
 *
 * @example
 * ```ts
 * mayHaveIndexKey('{"b": 1, "2": 2}'); // true
 * mayHaveIndexKey('{"id": 2}'); // false
 * ```
 */
export function mayHaveIndexKey(text: string): boolean {
  return INDEX_KEY.test(text);
}

/**
 * {@linkcode parseJsonLossless} without the fast path: always parses with the exact reviver.
 *
 * @example
 * ```ts
 * parseJsonExact("[1.0]"); // [JsonFloat(1)]
 * ```
 */
export function parseJsonExact(text: string): unknown {
  // deno-lint-ignore no-explicit-any
  return (JSON.parse as any)(
    text,
    (_key: string, value: unknown, context?: { source?: string }) => {
      if (typeof value !== "number" || context?.source === undefined) return value;
      const source = context.source;
      if (/[.eE]/.test(source)) return Number.isInteger(value) ? new JsonFloat(value) : value;
      return Number.isSafeInteger(value) ? value : new JsonInteger(BigInt(source));
    },
  );
}
