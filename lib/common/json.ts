/**
 * JSON values and the helpers shared by the schema and state hashes.
 *
 * @module
 */

/** A JSON value as `JSON.parse` gives it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Whether a parsed JSON or YAML value is a mapping (an object that is not a list).
 *
 * @example
 * ```ts
 * isMapping({ a: 1 }); // true
 * isMapping([1]); // false
 * ```
 */
export function isMapping(value: Json | undefined): value is { [key: string]: Json };
export function isMapping(value: unknown): value is Record<string, unknown>;
export function isMapping(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Compact JSON with object keys sorted at every level, like Python's
 * `orjson.dumps(..., option=OPT_SORT_KEYS)` (no spaces, non-ASCII kept as is).
 *
 * @example
 * ```ts
 * sortedJson({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
      return out;
    }
    return v;
  });
}
