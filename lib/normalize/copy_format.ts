/**
 * Values in Postgres `COPY ... FROM STDIN` text format (the default `FORMAT text`): columns
 * separated by tabs, `\N` for null, backslash, newline, carriage return and tab escaped.
 *
 * @module
 */

import type { DataType } from "../schema/types.ts";
import { JsonFloat, stringifyJson } from "./json_value.ts";

/** The COPY text representation of null. */
export const COPY_NULL = "\\N";

/**
 * Replaces NUL characters, which Postgres text and jsonb cannot hold, by the six characters
 * `\u0000`, so the row still loads. The one place to change if a different policy is wanted.
 *
 * @example
 * ```ts
 * replaceNul("a\u0000b"); // "a\\u0000b"
 * ```
 */
export function replaceNul(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\\u0000") : text;
}

const ESCAPE_RE = /[\\\n\r\t]/g;
const HAS_ESCAPE = /[\\\n\r\t]/;
/** Anything {@linkcode copyEscape} changes: one scan for the common text that has none. */
// deno-lint-ignore no-control-regex
const HAS_SPECIAL = /[\\\n\r\t\u0000]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes text for a COPY text-format field (backslash, newline, CR, tab; NUL replaced).
 *
 * @example
 * ```ts
 * copyEscape("a\tb\\c"); // "a\\tb\\\\c"
 * ```
 */
export function copyEscape(text: string): string {
  if (!HAS_SPECIAL.test(text)) return text;
  const s = replaceNul(text);
  return HAS_ESCAPE.test(s) ? s.replace(ESCAPE_RE, (c) => ESCAPES[c]) : s;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function numberText(value: unknown): string {
  const n = value instanceof JsonFloat ? value.value : value;
  if (typeof n === "number") {
    if (Number.isNaN(n)) return "NaN";
    if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  }
  return String(n);
}

/**
 * Encodes one value of a column of type `dataType` as a COPY text field: `\N` for null and
 * undefined, `t`/`f` for bool, JSON text for json, numbers as text (`bigint` exact), bytea
 * as `\x<hex>`, everything else as escaped text.
 *
 * @example
 * ```ts
 * encodeCopyValue(true, "bool"); // "t"
 * encodeCopyValue(null, "text"); // "\\N"
 * ```
 */
export function encodeCopyValue(value: unknown, dataType: DataType | undefined): string {
  if (value === null || value === undefined) return COPY_NULL;
  switch (dataType) {
    case "bool":
      return value ? "t" : "f";
    case "bigint":
    case "double":
    case "decimal":
    case "wei":
      return numberText(value);
    case "json":
      return copyEscape(stringifyJson(value, { mapString: replaceNul }));
    case "binary":
      return value instanceof Uint8Array ? `\\\\x${hex(value)}` : copyEscape(String(value));
    default:
      if (typeof value === "string") return copyEscape(value);
      if (typeof value === "object") return copyEscape(stringifyJson(value));
      return copyEscape(String(value));
  }
}

/**
 * Encodes a row as one COPY text line (without newline): the values of `columns` in order,
 * tab separated, `\N` for the ones the row lacks.
 *
 * @example
 * ```ts
 * encodeCopyRow(new Map([["id", 1]]), [{ name: "id", type: "bigint" }, { name: "x", type: "text" }]);
 * // "1\t\\N"
 * ```
 */
export function encodeCopyRow(
  row: Map<string, unknown>,
  columns: { name: string; type: DataType | undefined }[],
): string {
  const fields = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    fields[i] = encodeCopyValue(row.get(columns[i].name), columns[i].type);
  }
  return fields.join("\t");
}
