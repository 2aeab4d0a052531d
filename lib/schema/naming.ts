/**
 * dlt's default `snake_case` naming convention (`dlt/common/normalizers/naming/snake_case.py`
 * and `naming.py`), with identifiers shortened to Postgres' 63 characters.
 *
 * It lives in `lib/schema` because the schema itself needs it (hints are normalized when they
 * are applied); `lib/normalize/naming.ts` re-exports it for the normalizer.
 *
 * @module
 */

import { shake128Base64 } from "../common/shake128.ts";
import { MAX_IDENTIFIER_LENGTH, PATH_SEPARATOR } from "./names.ts";

/** Identifier used for empty or whitespace-only keys. */
export const EMPTY_KEY_IDENTIFIER = "_empty";

const REDUCE_FROM = "+-*@|";
const REDUCE_TO = "x_xal";
// Python's `\d` matches every Unicode decimal digit, hence `\p{Nd}`
const RE_NON_ALPHANUMERIC = /[^a-zA-Z\p{Nd}_]+/gu;
const RE_LEADING_DIGITS = /^\p{Nd}+/u;
const RE_UNDERSCORES = /__+/g;
const RE_BREAK_1 = /([^_])([A-Z][a-z]+)/g;
const RE_BREAK_2 = /([a-z0-9])([A-Z])/g;
const RE_TRAILING_UNDERSCORES = /_+$/;

const identifierCache = new Map<string, string>();
const pathCache = new Map<string, string>();

/** Code points of `s` (Python counts and slices strings by code point). */
function codePoints(s: string): string[] {
  return Array.from(s);
}

function isAscii(s: string): boolean {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/**
 * The 6-character tag dlt puts in the middle of shortened identifiers: base64 of the first
 * 4 bytes of shake_128 of `identifier` (UTF-8), without `=`, `/` → `a`, `+` → `b`, lower case.
 *
 * @example
 * ```ts
 * identifierTag("hello"); // "jrs2qq"
 * ```
 */
export function identifierTag(identifier: string): string {
  return shake128Base64(identifier, 4)
    .replaceAll("/", "a")
    .replaceAll("+", "b")
    .toLowerCase();
}

/** Options of {@linkcode shortenIdentifier}. */
export interface ShortenOptions {
  /** The identifier the tag is computed from. @default {the normalized identifier} */
  original?: string;
  /** Maximum length in characters. @default {63} */
  maxLength?: number;
}

/**
 * Shortens `normalized` to `maxLength` characters when it is longer, dlt style: the first 29
 * characters, the tag of `original`, the last 28 characters (for 63).
 *
 * @example
 * ```ts
 * shortenIdentifier("a".repeat(70)).length; // 63
 * ```
 */
export function shortenIdentifier(normalized: string, options: ShortenOptions = {}): string {
  const maxLength = options.maxLength ?? MAX_IDENTIFIER_LENGTH;
  // UTF-16 length >= code point count: nothing to shorten (the common case, checked cheaply)
  if (!maxLength || normalized.length <= maxLength) return normalized;
  const original = options.original ?? normalized;
  const ascii = isAscii(normalized);
  const chars = ascii ? undefined : codePoints(normalized);
  const length = ascii ? normalized.length : chars!.length;
  if (!maxLength || length <= maxLength) return normalized;
  const tag = identifierTag(original);
  const remaining = maxLength - tag.length;
  const head = Math.floor(remaining / 2) + (remaining % 2);
  const tail = Math.floor(remaining / 2);
  if (ascii) return normalized.slice(0, head) + tag + normalized.slice(length - tail);
  return chars!.slice(0, head).join("") + tag + chars!.slice(length - tail).join("");
}

function toSnakeCase(identifier: string): string {
  let s = identifier.replace(RE_BREAK_1, "$1_$2");
  s = s.replace(RE_BREAK_2, "$1_$2").toLowerCase();
  if (RE_LEADING_DIGITS.test(s)) s = "_" + s;
  const trailing = RE_TRAILING_UNDERSCORES.exec(s);
  if (trailing) s = s.slice(0, trailing.index) + "x".repeat(trailing[0].length);
  return s.replace(RE_UNDERSCORES, "_");
}

/** Python's whitespace (`str.isspace`): JS `trim()` also strips U+FEFF, and keeps U+001C–1F, U+0085. */
const PY_SPACE =
  "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");

/**
 * Python's `str.strip()`, which dlt's naming uses (not JS `trim()`).
 *
 * @example
 * ```ts
 * pyStrip(" a\x1f"); // "a"
 * pyStrip("\ufeffa"); // "\ufeffa"
 * ```
 */
export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, "");
}

const PY_BLANK = new RegExp(`^${PY_SPACE}*$`);

/**
 * Whether `text` is empty after Python's `str.strip()`.
 *
 * @example
 * ```ts
 * isBlank(" \x1f"); // true
 * ```
 */
export function isBlank(text: string): boolean {
  return PY_BLANK.test(text);
}

/**
 * Normalizes one identifier (a key, a table name) with dlt's snake_case convention: trim;
 * `+`→`x`, `-`→`_`, `*`→`x`, `@`→`a`, `|`→`l`; other runs of non `[A-Za-z0-9_]` → `_`;
 * camelCase broken into words; lower case; leading digit gets a `_` prefix; every trailing
 * `_` becomes `x`; runs of `__` collapse to `_`; then shortened to 63 characters. An empty or
 * whitespace-only identifier becomes `_empty` (dlt raises there; its normalizer substitutes
 * `_empty` for empty keys).
 *
 * @example
 * ```ts
 * normalizeIdentifier("mergeRequests"); // "merge_requests"
 * normalizeIdentifier("Hello World!"); // "hello_worldx"
 * ```
 */
export function normalizeIdentifier(identifier: string): string {
  const cached = identifierCache.get(identifier);
  if (cached !== undefined) return cached;
  const trimmed = pyStrip(identifier);
  let result: string;
  if (!trimmed) {
    result = EMPTY_KEY_IDENTIFIER;
  } else {
    let s = "";
    for (const ch of trimmed) {
      const i = REDUCE_FROM.indexOf(ch);
      s += i >= 0 ? REDUCE_TO[i] : ch;
    }
    s = s.replace(RE_NON_ALPHANUMERIC, "_");
    result = shortenIdentifier(toSnakeCase(s), { original: trimmed });
  }
  if (identifierCache.size > 100_000) identifierCache.clear();
  identifierCache.set(identifier, result);
  return result;
}

/**
 * Table identifiers use the same rules as column identifiers in snake_case.
 *
 * @example
 * ```ts
 * normalizeTableIdentifier("MergeRequests"); // "merge_requests"
 * ```
 */
export function normalizeTableIdentifier(identifier: string): string {
  return normalizeIdentifier(identifier);
}

/**
 * Joins identifiers with `__`, skipping empty or whitespace-only ones (no normalization).
 *
 * @example
 * ```ts
 * makePath("issues", "", "labels"); // "issues__labels"
 * ```
 */
export function makePath(...identifiers: string[]): string {
  return identifiers.filter((x) => !isBlank(x)).join(PATH_SEPARATOR);
}

/**
 * Splits a path on `__`, dropping empty or whitespace-only parts.
 *
 * @example
 * ```ts
 * breakPath("a__b"); // ["a", "b"]
 * ```
 */
export function breakPath(path: string): string[] {
  return path.split(PATH_SEPARATOR).filter((x) => !isBlank(x));
}

/**
 * Normalizes a path: splits on `__`, normalizes each part, joins with `__` and shortens the
 * whole (the tag is computed from the original path).
 *
 * @example
 * ```ts
 * normalizePath("Author__UserName"); // "author__user_name"
 * ```
 */
export function normalizePath(path: string): string {
  const cached = pathCache.get(path);
  if (cached !== undefined) return cached;
  const result = shortenIdentifier(makePath(...breakPath(path).map(normalizeIdentifier)), {
    original: path,
  });
  if (pathCache.size > 100_000) pathCache.clear();
  pathCache.set(path, result);
  return result;
}

/**
 * Normalizes a path of table names (same as {@linkcode normalizePath} in snake_case).
 *
 * @example
 * ```ts
 * normalizeTablesPath("issues__Labels"); // "issues__labels"
 * ```
 */
export function normalizeTablesPath(path: string): string {
  return normalizePath(path);
}

/**
 * Joins already normalized identifiers with `__` and shortens the result (the tag is computed
 * from the joined path).
 *
 * @example
 * ```ts
 * shortenFragments("issues", "assignees"); // "issues__assignees"
 * ```
 */
export function shortenFragments(...normalized: string[]): string {
  return shortenIdentifier(makePath(...normalized));
}
