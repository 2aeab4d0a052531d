/**
 * dlt's schema model: names and types, the snake_case naming convention, new schemas with
 * system tables, resource hints, version hash and bump, export YAML and stored JSON.
 *
 * @example
 * ```ts
 * import { applyTableHints, bumpVersion, newSchema, toExportYaml } from "./lib/schema/mod.ts";
 * const schema = newSchema("gitlab");
 * applyTableHints(schema, {
 *   table: "issues", resource: "issues", write_disposition: "merge",
 *   primary_key: ["id"], merge_key: [], columns: {},
 * });
 * bumpVersion(schema);
 * console.log(toExportYaml(schema));
 * ```
 *
 * @module
 */

export * from "./names.ts";
export type * from "./types.ts";
export * from "./naming.ts";
export * from "./schema.ts";
export * from "./hash.ts";
export * from "./export.ts";
export * from "./contract.ts";
export * from "./import.ts";
