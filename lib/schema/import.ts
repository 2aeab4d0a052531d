/**
 * dlt's schema import (`import_schema_path`, `SchemaStorage._maybe_import_schema`): a
 * user-curated `<name>.schema.yaml` replaces the content of the live schema whenever the file
 * changed since the last import (its version hash differs from `imported_version_hash`); the
 * live schema keeps its version history, so the change shows as a new version.
 *
 * Unlike dlt, a partial file is accepted: missing `settings` and `normalizers` come from the
 * live schema, and dlt's system tables are kept when the file lacks them.
 *
 * @module
 */

import { join } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../common/errors.ts";
import { isMapping } from "../common/json.ts";
import { versionHash } from "./hash.ts";
import { LOADS_TABLE, VERSION_TABLE } from "./names.ts";
import { DATA_TYPES } from "./schema.ts";
import type { StoredSchema, Table } from "./types.ts";

/** The `imported_version_hash` key dlt keeps in the stored schema. */
const IMPORTED = "imported_version_hash";

/**
 * Applies the imported schema text (YAML or JSON) to `schema` in place when it changed since
 * the last import. Returns whether it was applied. `file` names the source in errors.
 *
 * @example
 * ```ts
 * importSchema(schema, await Deno.readTextFile("schemas/import/gitlab.schema.yaml"));
 * ```
 */
export function importSchema(schema: StoredSchema, text: string, file = "schema"): boolean {
  let doc: unknown;
  try {
    doc = parse(text, { intAsBigInt: false });
  } catch (e) {
    // the parser's message tells the line and column
    const why = e instanceof Error ? `: ${e.message.split("\n")[0]}` : "";
    throw new ConfigError(`Cannot import schema "${file}": not valid YAML${why}`, { cause: e });
  }
  if (!isMapping(doc)) {
    throw new ConfigError(`Cannot import schema "${file}": expected a mapping with "tables"`);
  }
  const imported = doc as Partial<StoredSchema>;
  const tables: Record<string, Table> = {};
  // a wrong shape would replace the live schema's tables with nothing: refused, naming where
  // (`tables` and each table must be there; columns, and a column's hints, may be left empty)
  const mapping = (value: unknown, where: string, required = false, what = "a mapping") => {
    if (isMapping(value) || (!required && (value === undefined || value === null))) return;
    const got = value === undefined
      ? "none"
      : Array.isArray(value)
      ? "a list"
      : JSON.stringify(value);
    throw new ConfigError(`Cannot import schema "${file}": ${where} must be ${what}, got ${got}`);
  };
  mapping(imported.tables, '"tables"', true, "a mapping of the schema's tables");
  for (const [name, raw] of Object.entries(imported.tables as Record<string, Table>)) {
    mapping(raw, `table "${name}"`, true);
    mapping(raw.columns, `"${name}.columns"`);
    const table = { ...raw, name, columns: {} as Table["columns"] };
    for (const [col, column] of Object.entries(raw.columns ?? {})) {
      mapping(column, `column "${name}.${col}"`);
      const type = column?.data_type;
      if (type !== undefined && !(DATA_TYPES as readonly string[]).includes(type)) {
        throw new ConfigError(
          `Cannot import schema "${file}": column "${name}.${col}" has data_type "${type}", expected one of ${
            DATA_TYPES.join(", ")
          }`,
        );
      }
      table.columns[col] = { ...column, name: col };
    }
    tables[name] = table;
  }
  const candidate: StoredSchema = {
    ...schema,
    tables: {
      [VERSION_TABLE]: schema.tables[VERSION_TABLE],
      [LOADS_TABLE]: schema.tables[LOADS_TABLE],
      ...tables,
    },
    settings: imported.settings ?? schema.settings,
    normalizers: imported.normalizers ?? schema.normalizers,
  };
  const hash = versionHash(candidate);
  const record = schema as unknown as Record<string, unknown>;
  if (record[IMPORTED] === hash) return false;
  schema.tables = candidate.tables;
  schema.settings = candidate.settings;
  schema.normalizers = candidate.normalizers;
  record[IMPORTED] = hash;
  return true;
}

/** Options of {@linkcode importSchemaFile}. */
export interface ImportSchemaFileOptions {
  /** Reads a file. @default {Deno.readTextFile} */
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Imports `<dir>/<schema name>.schema.yaml` into `schema` (see {@linkcode importSchema});
 * a missing file is not an error (dlt exports one there for the user to edit). Returns
 * whether the schema changed.
 *
 * @example
 * ```ts
 * await importSchemaFile(schema, "schemas/import");
 * ```
 */
export async function importSchemaFile(
  schema: StoredSchema,
  dir: string,
  options: ImportSchemaFileOptions = {},
): Promise<boolean> {
  const path = join(dir, `${schema.name}.schema.yaml`);
  let text: string;
  try {
    text = await (options.readTextFile ?? Deno.readTextFile)(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  return importSchema(schema, text, path);
}
