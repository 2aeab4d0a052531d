/**
 * `data_selector`: where a response page's records are, given as a JSONPath or found
 * automatically the way dlt's `find_response_page_data` does.
 *
 * @module
 */

import type { Json } from "../catalog/types.ts";
import { isMapping } from "../common/json.ts";
import { findValues } from "../common/jsonpath.ts";

const RECORD_KEYS = new Set([
  "data",
  "items",
  "results",
  "entries",
  "records",
  "rows",
  "entities",
  "payload",
  "content",
  "objects",
  "values",
]);
const NON_RECORD_KEYS = new Set(["meta", "metadata", "pagination", "links", "extras", "headers"]);

function findAllLists(
  obj: { [key: string]: Json },
  path: string[],
  out: string[][],
  maxLevel: number,
): string[][] {
  if (path.length > maxLevel) return out;
  for (const [key, value] of Object.entries(obj)) {
    if (Array.isArray(value)) out.push([...path, key]);
    else if (isMapping(value)) findAllLists(value, [...path, key], out, maxLevel);
  }
  return out;
}

/** Quotes a key for a JSONPath. */
function pathOf(keys: string[]): string {
  return "$" + keys.map((k) => `['${k}']`).join("");
}

/**
 * The JSONPath of a response body's records, detected as dlt does: a list is the page itself;
 * in an object, the first list (up to 2 levels deep) under a record-like key (`data`, `items`,
 * `results`, …), else the least nested list not under `meta`, `links`, …; otherwise `$` (the
 * object is one record).
 *
 * @example
 * ```ts
 * findResponsePageData({ meta: { n: 1 }, data: [{ id: 1 }] }); // "$['data']"
 * ```
 */
export function findResponsePageData(body: Json): string {
  if (!isMapping(body)) return "$";
  const lists = findAllLists(body, [], [], 2);
  const preferred = lists.find((p) => RECORD_KEYS.has(p[p.length - 1].toLowerCase()));
  if (preferred) return pathOf(preferred);
  const sorted = [...lists].sort((a, b) => a.length - b.length);
  const other = sorted.find((p) => !p.some((k) => NON_RECORD_KEYS.has(k.toLowerCase())));
  return other ? pathOf(other) : "$";
}

/**
 * The records of one response page. With a `dataSelector` (JSONPath) every match is taken and a
 * single matched list is unwrapped; without one the records are found by
 * {@linkcode findResponsePageData}. A non-list result is one record; `null` is an empty page.
 *
 * @example
 * ```ts
 * selectPageData({ data: { items: [{ id: 1 }] } }, "data.items"); // [{ id: 1 }]
 * selectPageData([{ id: 1 }]); // [{ id: 1 }]
 * selectPageData({ id: 7 }); // [{ id: 7 }]
 * ```
 */
export function selectPageData(body: Json, dataSelector?: string): Json[] {
  if (body === null || body === undefined) return [];
  let data: Json;
  if (dataSelector === undefined || dataSelector === "") {
    data = findValues(findResponsePageData(body), body)[0] ?? null;
  } else {
    const found = findValues(dataSelector, body);
    data = found.length === 1 ? found[0] : found;
  }
  if (data === null || data === undefined) return [];
  return Array.isArray(data) ? data : [data];
}

/**
 * Reads one field of a record for `resolve` and `include_from_parent`: a name (`id`), a dotted
 * path (`namespace.id`) or a JSONPath (`$.id`); the first match.
 *
 * @example
 * ```ts
 * getField({ namespace: { id: 3 } }, "namespace.id"); // { found: true, value: 3 }
 * ```
 */
export function getField(record: Json, field: string): { found: boolean; value: Json } {
  if (isMapping(record) && Object.hasOwn(record, field)) {
    return { found: true, value: record[field] };
  }
  const values = findValues(field, record);
  return values.length > 0 ? { found: true, value: values[0] } : { found: false, value: null };
}
