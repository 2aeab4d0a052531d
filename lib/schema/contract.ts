/**
 * dlt's schema contracts (`Schema.resolve_contract_settings_for_table`,
 * `expand_schema_contract_settings`): a mode per schema entity (`tables`, `columns`,
 * `data_type`), set on the source (`settings.schema_contract`), on a root table (resource
 * `schema_contract`) or for a whole run.
 *
 * @module
 */

import { UsageError } from "../common/errors.ts";
import type { StoredSchema, Table } from "./types.ts";

/** What happens to data that would change the schema. */
export type ContractMode = "evolve" | "freeze" | "discard_row" | "discard_value";

/** The schema entities a contract governs. */
export type ContractEntity = "tables" | "columns" | "data_type";

/** A fully expanded contract: one mode per entity. */
export interface SchemaContract {
  /** New tables (root or nested). */
  tables: ContractMode;
  /** New columns of a table that already has data columns. */
  columns: ContractMode;
  /** Values that do not fit their column's type (variant columns). */
  data_type: ContractMode;
}

/** Every contract mode, in dlt's order. */
export const CONTRACT_MODES: readonly ContractMode[] = [
  "evolve",
  "freeze",
  "discard_row",
  "discard_value",
];

const ENTITIES: readonly ContractEntity[] = ["tables", "columns", "data_type"];

/** dlt's default: everything evolves. */
export const DEFAULT_SCHEMA_CONTRACT: Readonly<SchemaContract> = Object.freeze({
  tables: "evolve",
  columns: "evolve",
  data_type: "evolve",
});

function checkMode(mode: unknown, where: string): ContractMode {
  if (typeof mode === "string" && (CONTRACT_MODES as readonly string[]).includes(mode)) {
    return mode as ContractMode;
  }
  throw new UsageError(
    `Cannot read schema contract of ${where}: mode ${JSON.stringify(mode)} is not one of ${
      CONTRACT_MODES.map((m) => `"${m}"`).join(", ")
    }`,
  );
}

/**
 * Checks a contract as written (a mode string, a `{tables, columns, data_type}` dict, or
 * `undefined`) and returns its entities that are set: a string expands to all three.
 * `where` names its origin in errors.
 *
 * @example
 * ```ts
 * partialContract("freeze", "the run"); // { tables: "freeze", columns: "freeze", data_type: "freeze" }
 * partialContract({ columns: "discard_value" }, 'resource "issues"'); // { columns: "discard_value" }
 * ```
 */
export function partialContract(value: unknown, where: string): Partial<SchemaContract> {
  if (value === undefined || value === null) return {};
  if (typeof value === "string") {
    const mode = checkMode(value, where);
    return { tables: mode, columns: mode, data_type: mode };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(
      `Cannot read schema contract of ${where}: expected a mode or a mapping of tables, columns and data_type, got ${
        JSON.stringify(value)
      }`,
    );
  }
  const out: Partial<SchemaContract> = {};
  for (const [key, mode] of Object.entries(value)) {
    if (!(ENTITIES as readonly string[]).includes(key)) {
      throw new UsageError(
        `Cannot read schema contract of ${where}: unknown entity "${key}", expected "tables", "columns" or "data_type"`,
      );
    }
    out[key as ContractEntity] = checkMode(mode, where);
  }
  return out;
}

/**
 * Parses the `--schema-contract` flag: one mode for all entities (`freeze`) or
 * comma-separated `entity=mode` pairs (`columns=freeze,data_type=discard_value`).
 *
 * @example
 * ```ts
 * parseContractFlag("columns=freeze"); // { columns: "freeze" }
 * ```
 */
export function parseContractFlag(text: string): Partial<SchemaContract> {
  const where = `flag "--schema-contract"`;
  if (!text.includes("=")) return partialContract(text.trim(), where);
  const dict: Record<string, string> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [key, mode] = part.split("=", 2).map((s) => s.trim());
    dict[key] = mode;
  }
  return partialContract(dict, where);
}

function rootOf(schema: StoredSchema, name: string): Table | undefined {
  let table = schema.tables[name];
  for (let i = 0; table?.parent && i < 1000; i++) table = schema.tables[table.parent] ?? table;
  return table;
}

/** Options of {@linkcode resolveContract}. */
export interface ResolveContractOptions {
  /** The run's contract; overrides the table's and the source's per entity. @default {{}} */
  override?: Partial<SchemaContract>;
}

/**
 * The contract that applies to `table` as dlt resolves it: the root table's
 * `schema_contract` over the schema's `settings.schema_contract`, entity by entity, over
 * `evolve`; then the run's contract on top.
 *
 * @example
 * ```ts
 * resolveContract(schema, "issues__labels"); // the root table "issues"'s contract
 * ```
 */
export function resolveContract(
  schema: StoredSchema,
  table: string,
  options: ResolveContractOptions = {},
): SchemaContract {
  const root = rootOf(schema, table);
  return {
    ...DEFAULT_SCHEMA_CONTRACT,
    ...partialContract(schema.settings?.schema_contract, `source "${schema.name}"`),
    ...partialContract(root?.schema_contract, `table "${root?.name ?? table}"`),
    ...(options.override ?? {}),
  };
}
