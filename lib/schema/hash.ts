/**
 * dlt's schema version hash and version bump (`utils.generate_version_hash`,
 * `utils.bump_version_if_modified`).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { sortedJson } from "../common/json.ts";
import type { StoredSchema } from "./types.ts";

/** How many previous hashes a schema keeps. */
export const MAX_PREVIOUS_HASHES = 10;

/**
 * The content hash of a schema: sha3-256 over the sorted-key compact JSON of the schema
 * without `version`, `version_hash`, `imported_version_hash` and `previous_hashes`, then each
 * table name (sorted) followed by its column names in column order; standard base64.
 *
 * @example
 * ```ts
 * versionHash(newSchema("gitlab")).length; // 44
 * ```
 */
export function versionHash(schema: StoredSchema): string {
  const copy: Record<string, unknown> = { ...schema };
  delete copy.version;
  delete copy.version_hash;
  delete copy.imported_version_hash;
  delete copy.previous_hashes;
  const h = createHash("sha3-256");
  h.update(sortedJson(copy), "utf8");
  const tables = schema.tables ?? {};
  for (const name of Object.keys(tables).sort()) {
    h.update(name, "utf8");
    for (const column of Object.keys(tables[name].columns ?? {})) h.update(column, "utf8");
  }
  return h.digest("base64");
}

/**
 * Recomputes the hash and bumps the version when the content changed: a schema without hash
 * gets its hash and keeps its version (1 when unset); a changed hash increments the version
 * and unshifts the old hash into `previous_hashes` (10 kept). Returns whether the schema's
 * version or hash changed.
 *
 * @example
 * ```ts
 * if (bumpVersion(schema)) await save(schema);
 * ```
 */
export function bumpVersion(schema: StoredSchema): boolean {
  const hash = versionHash(schema);
  const previous = schema.version_hash;
  schema.previous_hashes ??= [];
  if (!previous) {
    schema.version = schema.version || 1;
  } else if (hash !== previous) {
    schema.version += 1;
    if (!schema.previous_hashes.includes(previous)) {
      schema.previous_hashes.unshift(previous);
      schema.previous_hashes = schema.previous_hashes.slice(0, MAX_PREVIOUS_HASHES);
    }
  }
  schema.version_hash = hash;
  return hash !== previous;
}
