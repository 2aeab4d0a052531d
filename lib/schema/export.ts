/**
 * The schema's two serialized forms: dlt's export YAML (`<name>.schema.yaml`, names removed
 * from tables and columns) and the stored JSON (`_dlt_version.schema`, working dir files).
 *
 * @module
 */

import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { dumpYaml } from "./_yaml.ts";
import type { StoredSchema } from "./types.ts";

const TOP_LEVEL_KEYS = [
  "version",
  "version_hash",
  "engine_version",
  "name",
  "tables",
  "settings",
  "normalizers",
  "previous_hashes",
] as const;

/**
 * The schema as dlt exports it (`to_dict(remove_defaults=True)`): top-level keys in dlt's
 * order, `name` removed from every table and column, `imported_version_hash` dropped,
 * processing hints kept.
 *
 * @example
 * ```ts
 * toExportDict(schema).tables.issues.name; // undefined
 * ```
 */
export function toExportDict(schema: StoredSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_KEYS) out[key] = structuredClone(schema[key]);
  if (schema.description) out.description = schema.description;
  const tables = out.tables as Record<string, Record<string, unknown>>;
  for (const table of Object.values(tables)) {
    delete table.name;
    for (const column of Object.values(table.columns as Record<string, Record<string, unknown>>)) {
      delete column.name;
    }
  }
  return out;
}

/**
 * dlt's export YAML of a schema (PyYAML block style, insertion order). Bump the version with
 * `bumpVersion` before exporting, as dlt saves the schema before it exports it.
 *
 * @example
 * ```ts
 * const yaml = toExportYaml(schema);
 * ```
 */
export function toExportYaml(schema: StoredSchema): string {
  return dumpYaml(toExportDict(schema));
}

/**
 * Writes `<dir>/<name>.schema.yaml` (creating `dir`) and returns its path.
 *
 * @example
 * ```ts
 * await writeSchemaExport(schema, "schemas/export"); // "schemas/export/gitlab.schema.yaml"
 * ```
 */
export async function writeSchemaExport(schema: StoredSchema, dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${schema.name}.schema.yaml`);
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, toExportYaml(schema));
  await Deno.rename(tmp, path);
  return path;
}

/**
 * The stored JSON of a schema (what dlt writes into `_dlt_version.schema`): compact, key
 * order kept, names kept in tables and columns.
 *
 * @example
 * ```ts
 * const json = toStoredJson(schema);
 * ```
 */
export function toStoredJson(schema: StoredSchema): string {
  const out: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_KEYS) out[key] = schema[key];
  const imported = (schema as unknown as Record<string, unknown>).imported_version_hash;
  if (imported) out.imported_version_hash = imported;
  if (schema.description) out.description = schema.description;
  return JSON.stringify(out);
}

/**
 * Reads a stored schema: JSON text, or base64 of zlib-compressed JSON (dlt's form for
 * schemas longer than the destination's text limit). Restores `name` on tables and columns
 * when missing (an exported or hand-written schema).
 *
 * @example
 * ```ts
 * const schema = fromStoredJson(row.schema);
 * ```
 */
export function fromStoredJson(text: string): StoredSchema {
  const trimmed = text.trim();
  let json = trimmed;
  if (!trimmed.startsWith("{")) {
    try {
      const bytes = Uint8Array.from(atob(trimmed), (c) => c.charCodeAt(0));
      json = new TextDecoder().decode(inflateSync(bytes));
    } catch (e) {
      throw new Error("Cannot read stored schema: neither JSON nor base64 zlib data", {
        cause: e,
      });
    }
  }
  const schema = JSON.parse(json) as StoredSchema;
  for (const [tableName, table] of Object.entries(schema.tables ?? {})) {
    table.name ??= tableName;
    table.columns ??= {};
    for (const [columnName, column] of Object.entries(table.columns)) column.name ??= columnName;
  }
  schema.previous_hashes ??= [];
  return schema;
}
