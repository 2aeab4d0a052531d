/**
 * Names as dlt-init-openapi makes them: its own `snake_case` (split words on capitals and on
 * `._ -`, join with `_`, lower case).
 *
 * @module
 */

/**
 * The generator's snake_case of an operation id or a schema name.
 *
 * @example
 * ```ts
 * snakeCase("API_Entities_BasicBadgeDetails"); // "api_entities_basic_badge_details"
 * snakeCase("getApiV4GroupsIdBadges"); // "get_api_v4_groups_id_badges"
 * ```
 */
export function snakeCase(text: string): string {
  const spaced = text
    .replace(/[^A-Za-z0-9]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
  return spaced.trim().split(/\s+/).filter(Boolean).join("_").toLowerCase();
}

/**
 * The last component of a `$ref` (`#/components/schemas/API_Entities_Badge` → `API_Entities_Badge`).
 *
 * @example
 * ```ts
 * refName("#/components/schemas/API_Entities_Badge"); // "API_Entities_Badge"
 * ```
 */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf("/") + 1);
}

/**
 * A rough English singular of a path segment (`projects` → `project`, `entities` → `entity`).
 *
 * @example
 * ```ts
 * singular("branches"); // "branch"
 * ```
 */
export function singular(word: string): string {
  if (/ies$/.test(word)) return word.slice(0, -3) + "y";
  if (/(ches|shes|sses|xes)$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word) && !/ss$/.test(word)) return word.slice(0, -1);
  return word;
}
