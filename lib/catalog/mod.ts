/**
 * The catalog: which GitLab resources to read and how, written in dlt's `rest_api` vocabulary
 * as YAML (`resources/gitlab.yaml` by default). Reading goes through phases, as Airbyte's
 * declarative manifests: read with positions → validate every component → defaults → resource
 * graph. Every problem is reported at once, like a compiler:
 *
 * ```text
 * resources/gitlab.yaml:42:7: Cannot read resource "issues": unknown key "paginater" (did you mean "paginator"?)
 *     paginater: gitlab
 *     ^
 * ```
 *
 * @example
 * ```ts
 * import { loadCatalog, selectResources } from "./lib/catalog/mod.ts";
 *
 * const catalog = selectResources(await loadCatalog(), ["issues"]);
 * for (const resource of catalog.resources) console.log(resource.name, resource.parent);
 * ```
 *
 * @module
 */

export { parseCatalog, type ParseCatalogOptions } from "./parse.ts";
export {
  DEFAULT_CATALOG_NAME,
  defaultCatalogPath,
  embeddedCatalogPath,
  loadCatalog,
  type LoadCatalogOptions,
  resolveCatalogArg,
} from "./load.ts";
export { selectResources } from "./select.ts";
export { isSingleEntityPath } from "./_placeholders.ts";
export type * from "./types.ts";
