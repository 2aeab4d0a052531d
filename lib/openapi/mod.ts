/**
 * OpenAPI 3 → catalog: gitlab-pg's dlt-init-openapi. Reads a spec, applies dlt-init-openapi's
 * rules (reference/dlt.md §8) and writes a catalog YAML in dlt's `rest_api` vocabulary.
 *
 * @example
 * ```ts
 * import { generateCatalog, readSpec, renderCatalog } from "./lib/openapi/mod.ts";
 *
 * const spec = await readSpec("gitlab-openapi.yaml");
 * await Deno.writeTextFile("catalog.yaml", renderCatalog(generateCatalog(spec)));
 * ```
 *
 * @module
 */

export {
  generateCatalog,
  type GenerateCatalogOptions,
  type GeneratedCatalog,
  type GeneratedParam,
  type GeneratedResource,
  type OpenApiSpec,
} from "./generate.ts";
export { renderCatalog, type RenderCatalogOptions } from "./render.ts";
export { readSpec, type ReadSpecOptions } from "./read_spec.ts";
export { snakeCase } from "./naming.ts";
