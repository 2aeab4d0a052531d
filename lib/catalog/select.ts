/**
 * Restricting a catalog to some resources (`--resources issues,jobs`).
 *
 * @module
 */

import { UserError } from "../common/errors.ts";
import { didYouMean, quoteList } from "../common/did_you_mean.ts";
import type { Catalog } from "./types.ts";

/**
 * The catalog restricted to the named resources and their ancestors, in the same (parents
 * first) order. Named resources are selected; ancestors that were not named are kept with
 * `selected: false` (extracted to feed their children, not loaded). An empty list keeps all.
 *
 * @throws {UserError} when a name is not a resource of the catalog.
 *
 * @example
 * ```ts
 * const only = selectResources(catalog, ["issue_notes"]);
 * only.resources.map((r) => [r.name, r.selected]);
 * // [["projects", false], ["issues", false], ["issue_notes", true]]
 * ```
 */
export function selectResources(catalog: Catalog, names: string[]): Catalog {
  if (names.length === 0) return catalog;
  const byName = new Map(catalog.resources.map((r) => [r.name, r]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0) {
    const first = unknown[0];
    const what = unknown.length === 1
      ? `Unknown resource "${first}"${didYouMean(first, byName.keys())}`
      : `Unknown resources ${quoteList(unknown)}`;
    throw new UserError(`${what}: the catalog has ${quoteList(byName.keys())}`);
  }
  const named = new Set(names);
  const keep = new Set<string>();
  for (const name of names) {
    for (let r = byName.get(name); r && !keep.has(r.name); r = byName.get(r.parent ?? "")) {
      keep.add(r.name);
    }
  }
  return {
    ...catalog,
    resources: catalog.resources
      .filter((r) => keep.has(r.name))
      .map((r) => ({
        ...r,
        selected: named.has(r.name),
        selectedInCatalog: r.selectedInCatalog ?? r.selected,
      })),
  };
}
