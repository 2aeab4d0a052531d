/**
 * `_dlt_id` values as dlt makes them (`dlt/common/utils.py` `digest128`,
 * `normalizers/utils.py` `generate_dlt_id`, `json/helpers.py`).
 *
 * @module
 */

import { DLT_ID_LENGTH_BYTES } from "../schema/names.ts";
import { stringifyJson } from "./json_value.ts";
import { shake128Base64 } from "../common/shake128.ts";
import { base64NoPad } from "../common/base64.ts";

/**
 * base64 (standard alphabet, `=` stripped) of the first `bytes` bytes of shake_128 of the
 * UTF-8 text: dlt's `digest128`.
 *
 * @example
 * ```ts
 * digest128("a_issues__labels_0", 10).length; // 14
 * ```
 */
export function digest128(text: string, bytes: number = DLT_ID_LENGTH_BYTES): string {
  return shake128Base64(text, bytes);
}

/** Random bytes drawn from the system generator 4 KiB at a time (one call per ~400 ids). */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/**
 * A random row id: 10 random bytes, base64 without `=` (14 characters).
 *
 * @example
 * ```ts
 * generateDltId().length; // 14
 * ```
 */
export function generateDltId(): string {
  const n = DLT_ID_LENGTH_BYTES;
  if (poolAt + n > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const start = poolAt;
  poolAt += n;
  return base64NoPad(pool, start, start + n);
}

/** Where a nested row sits: its table and its position in the parent's list. */
export interface NestedRowPosition {
  /** The nested table. */
  table: string;
  /** 0-based index in the list. */
  listIdx: number;
}

/**
 * The deterministic `_dlt_id` of a nested row:
 * `digest128("<parent row id>_<nested table>_<list index>")`.
 *
 * @example
 * ```ts
 * nestedRowId("abc", { table: "issues__labels", listIdx: 0 });
 * ```
 */
export function nestedRowId(parentRowId: string, position: NestedRowPosition): string {
  return digest128(`${parentRowId}_${position.table}_${position.listIdx}`);
}

/**
 * dlt's `get_row_hash`: shake_128 (10 bytes, base64 without `=`) of the sorted-key compact
 * JSON of the row (keys starting with `_dlt` excluded), or of only the `subset` columns.
 *
 * @example
 * ```ts
 * rowHash(new Map([["id", 1]]), ["id"]);
 * ```
 */
export function rowHash(
  row: Map<string, unknown>,
  subset?: string[],
): string {
  const filtered = new Map<string, unknown>();
  if (subset) {
    for (const k of subset) {
      if (!row.has(k)) throw new Error(`Cannot compute the row hash: column "${k}" is missing`);
      filtered.set(k, row.get(k));
    }
  } else {
    for (const [k, v] of row) if (!k.startsWith("_dlt")) filtered.set(k, v);
  }
  return shake128Base64(stringifyJson(filtered, { sortKeys: true }), DLT_ID_LENGTH_BYTES);
}
