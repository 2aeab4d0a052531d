/**
 * List filters and sorting as GitLab applies them: inclusive time ranges, `order_by` with a
 * tie-break on id, `sort` defaulting per endpoint.
 *
 * @module
 */

import { invalid, notValidValue } from "./_http.ts";

type Rec = { [key: string]: unknown };

/** Parses an ISO 8601 time parameter; `undefined` when absent, 400 when unparseable. */
export function timeParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw invalid(name);
  return ms;
}

/** Parses a `YYYY-MM-DD` date parameter (events' `before`/`after`) as UTC midnight. */
export function dateParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) throw invalid(name);
  const ms = Date.parse(`${raw}T00:00:00.000Z`);
  if (Number.isNaN(ms)) throw invalid(name);
  return ms;
}

/** Keeps records whose `field` lies in [after, before], both ends inclusive. */
export function inRange<T extends Rec>(
  items: T[],
  field: string,
  after: number | undefined,
  before: number | undefined,
): T[] {
  if (after === undefined && before === undefined) return items;
  return items.filter((item) => {
    const value = item[field];
    if (typeof value !== "string") return false;
    const ms = Date.parse(value);
    return (after === undefined || ms >= after) && (before === undefined || ms <= before);
  });
}

/** Applies `created_after/before` and `updated_after/before` (GitLab's inclusive filters). */
export function timeFilters<T extends Rec>(items: T[], params: URLSearchParams): T[] {
  let out = inRange(
    items,
    "created_at",
    timeParam(params, "created_after"),
    timeParam(params, "created_before"),
  );
  out = inRange(
    out,
    "updated_at",
    timeParam(params, "updated_after"),
    timeParam(params, "updated_before"),
  );
  return out;
}

/** Reads `sort` (`asc`/`desc`). */
export function sortParam(params: URLSearchParams, fallback: "asc" | "desc"): "asc" | "desc" {
  const sort = params.get("sort") ?? fallback;
  if (sort !== "asc" && sort !== "desc") throw notValidValue("sort");
  return sort;
}

/** Reads `order_by` and checks it against the endpoint's allowed values. */
export function orderParam(params: URLSearchParams, allowed: string[], fallback: string): string {
  const order = params.get("order_by") ?? fallback;
  if (!allowed.includes(order)) throw notValidValue("order_by");
  return order;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/**
 * Returns a sorted copy, ordered by `field` then by `id` in the same direction. ISO strings
 * with the same format sort correctly as text.
 */
export function sorted<T extends Rec>(items: T[], field: string, sort: "asc" | "desc"): T[] {
  const sign = sort === "asc" ? 1 : -1;
  return [...items].sort((a, b) =>
    sign * (compareValues(a[field], b[field]) || compareValues(a.id, b.id))
  );
}

/** Reads a boolean parameter (`true`/`false`, also `1`/`0`). */
export function boolParam(params: URLSearchParams, name: string): boolean | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw invalid(name);
}

/** Reads a list parameter sent as `name[]=a&name[]=b` or `name=a,b`. */
export function listParam(params: URLSearchParams, name: string): string[] | undefined {
  const values = [
    ...params.getAll(`${name}[]`),
    ...params.getAll(name).flatMap((v) => v.split(",")),
  ]
    .filter((v) => v !== "");
  return values.length ? values : undefined;
}
