/**
 * Schema evolution while normalizing, as dlt's `JsonLItemsNormalizer._coerce_row`: every
 * value of a normalized row is fitted into its column (inferred when new, coerced when known,
 * moved to a variant column `<col>__v_<type>` when the coercion fails); new tables and columns
 * are added to the live schema in the order dlt adds them, and recorded as schema updates.
 *
 * @module
 */

import { DataValidationError } from "../common/errors.ts";
import { redact } from "../common/redact.ts";
import { VARIANT_PREFIX } from "../schema/names.ts";
import { shortenFragments } from "../schema/naming.ts";
import { resolveContract, type SchemaContract } from "../schema/contract.ts";
import { compileSimpleRegex, isCompleteColumn, newTable } from "../schema/schema.ts";
import type { Column, DataType, StoredSchema, Table } from "../schema/types.ts";
import {
  coerceValue,
  CoercionError,
  inferDataType,
  isoToUtc,
  LARGE_INTEGER_TEXT_THRESHOLD,
  pyTypeOf,
} from "./infer.ts";
import { stringifyJson } from "./json_value.ts";

/**
 * Compiled `settings` of a schema: default hints, preferred types and detections.
 *
 * @example
 * ```ts
 * const settings = compileSettings(schema);
 * settings.hint("not_null", "_dlt_id"); // true
 * ```
 */
export interface CompiledSettings {
  /** Whether default hint `hint` matches column `name`. */
  hint(hint: string, name: string): boolean;
  /** Hint names in settings order. */
  hints: string[];
  /** Preferred type of a column name, if any. */
  preferredType(name: string): DataType | undefined;
  /** Enabled type detections. */
  detections: string[];
}

/**
 * Compiles a schema's `settings` (simple regexes: `re:<regex>` or exact names).
 *
 * @example
 * ```ts
 * compileSettings(newSchema("x")).hint("unique", "_dlt_id"); // true
 * ```
 */
export function compileSettings(schema: StoredSchema): CompiledSettings {
  const hints = new Map<string, RegExp[]>();
  for (const [hint, patterns] of Object.entries(schema.settings?.default_hints ?? {})) {
    hints.set(hint, patterns.map(compileSimpleRegex));
  }
  const preferred = Object.entries(schema.settings?.preferred_types ?? {}).map((
    [pattern, type],
  ) => [compileSimpleRegex(pattern), type] as const);
  // both are asked for every column of every row: answers are kept per name
  const hintCache = new Map<string, Map<string, boolean>>();
  const preferredCache = new Map<string, DataType | undefined>();
  return {
    hint: (hint, name) => {
      let names = hintCache.get(hint);
      if (!names) hintCache.set(hint, names = new Map());
      let yes = names.get(name);
      if (yes === undefined) {
        yes = hints.get(hint)?.some((re) => re.test(name)) ?? false;
        if (names.size > 100_000) names.clear();
        names.set(name, yes);
      }
      return yes;
    },
    hints: [...hints.keys()],
    preferredType: (name) => {
      if (preferredCache.has(name)) return preferredCache.get(name);
      const type = preferred.find(([re]) => re.test(name))?.[1];
      if (preferredCache.size > 100_000) preferredCache.clear();
      preferredCache.set(name, type);
      return type;
    },
    detections: schema.settings?.detections ?? [],
  };
}

/** The table a row goes to (a `NormalizedRow` fits). */
export interface RowTarget {
  /** Table of the row. */
  table: string;
  /** Parent table, for nested rows. @default {undefined} */
  parentTable?: string;
}

/** Figures of what a schema evolution changed. */
export interface EvolutionInfo {
  /** Tables created, in order. */
  newTables: string[];
  /** New (or newly completed) columns per table, in order. */
  newColumns: Record<string, string[]>;
  /** New variant columns per table. */
  newVariantColumns: Record<string, string[]>;
  /** Rows dropped by a `discard_row` contract (or `discard_*` on new tables), per table. */
  discardedRows: Record<string, number>;
  /** Values dropped by a `discard_value` contract, per table. */
  discardedValues: Record<string, number>;
}

/** An {@linkcode EvolutionInfo} of nothing changed yet. */
export function emptyEvolutionInfo(): EvolutionInfo {
  return {
    newTables: [],
    newColumns: {},
    newVariantColumns: {},
    discardedRows: {},
    discardedValues: {},
  };
}

/** Options of {@linkcode SchemaEvolution}. */
export interface SchemaEvolutionOptions {
  /** The run's schema contract, over the source's and the tables'. @default {{}} */
  schemaContract?: Partial<SchemaContract>;
}

const DLT_PREFIX = "_dlt";

function exampleValue(value: unknown): string {
  // masked before it is cut (a registered secret in the data must not leak its first half)
  const text = redact(typeof value === "string" ? JSON.stringify(value) : stringifyJson(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * `coerceValue` for a value that already has its column's type (strings into text, safe
 * integers into bigint, fractions into double, booleans into bool, ISO strings into
 * timestamp); undefined for anything else, which takes the full path.
 */
function fastCoerce(value: unknown, column: Column): unknown {
  switch (column.data_type) {
    case "text":
      return typeof value === "string" ? value : undefined;
    case "bigint":
      return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
    case "double":
      return typeof value === "number" && !Number.isInteger(value) ? value : undefined;
    case "bool":
      return typeof value === "boolean" ? value : undefined;
    case "timestamp":
      return typeof value === "string"
        ? isoToUtc(value, (column.timezone as boolean | undefined) ?? true)
        : undefined;
  }
  return undefined;
}

function hugeInteger(value: unknown): boolean {
  return typeof value === "bigint" &&
    (value > LARGE_INTEGER_TEXT_THRESHOLD || value < -LARGE_INTEGER_TEXT_THRESHOLD);
}

/** A new map with the entries of `row` before key `stop`. */
function entriesBefore(row: Map<string, unknown>, stop: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of row) {
    if (k === stop) break;
    out.set(k, v);
  }
  return out;
}

/**
 * Fits normalized rows into a live schema, evolving it.
 *
 * @example
 * ```ts
 * const evolution = new SchemaEvolution(schema);
 * const coerced = evolution.coerceRow(row, { table: "issues" });
 * evolution.info.newColumns.issues; // ["id", "title", ...]
 * ```
 */
export class SchemaEvolution {
  /** The schema being evolved (mutated in place). */
  readonly schema: StoredSchema;
  /** Compiled settings of the schema. */
  readonly settings: CompiledSettings;
  /** What changed so far. */
  readonly info: EvolutionInfo = emptyEvolutionInfo();
  /** Aggregated schema updates per table (dlt's `schema_updates.json` content). */
  readonly updates: Record<string, Table> = {};
  readonly #contractOverride: Partial<SchemaContract>;
  readonly #contracts = new Map<string, SchemaContract>();
  #changes = 0;

  constructor(schema: StoredSchema, options: SchemaEvolutionOptions = {}) {
    this.schema = schema;
    this.settings = compileSettings(schema);
    this.#contractOverride = options.schemaContract ?? {};
  }

  /** How many times a row changed the schema (tables or columns added, columns completed). */
  get changes(): number {
    return this.#changes;
  }

  /**
   * Coerces the values of a row of `table` into the schema and returns the row to write:
   * nulls dropped, values coerced, failing values moved to variant columns (`row` itself is
   * changed and usually returned). New tables and
   * columns are added to the schema right away, as the schema contract allows: returns
   * undefined when the contract discards the row, throws `DataValidationError` when it
   * freezes the change.
   */
  coerceRow(row: Map<string, unknown>, target: RowTarget): Map<string, unknown> | undefined {
    const { table, parentTable } = target;
    const existing = this.schema.tables[table];
    const base = existing ?? newTable(table, { parent: parentTable });
    const columns = base.columns;
    // the row itself is the result (nulls deleted, values replaced in place: no second map per
    // row) until a value goes to another column (a variant); from there on a new map, holding
    // the entries before it, takes the rest in order
    let out = row;
    let examples: Map<string, unknown> | undefined;
    let added: Record<string, Column> | undefined;
    for (const [name, raw] of row) {
      if (raw === null || raw === undefined) {
        this.#coerceNull(columns, table, name);
        if (out === row) row.delete(name);
        continue;
      }
      // the common case: a known column and a value of its type (what #coerceNonNull returns)
      const known = columns[name];
      if (known !== undefined && known.name) {
        const fast = fastCoerce(raw, known);
        if (fast !== undefined) {
          if (out !== row || fast !== raw) out.set(name, fast);
          continue;
        }
      }
      // beyond dlt's wei range an integer is kept exact as its decimal digits
      const value = hugeInteger(raw) ? String(raw) : raw;
      const [col, column, coerced] = this.#coerceNonNull(columns, table, name, value, false);
      if (out === row && col !== name) out = entriesBefore(row, name);
      out.set(col, coerced);
      if (column) {
        (added ??= {})[col] = column;
        (examples ??= new Map()).set(col, value);
      }
    }
    if (added) {
      const keep = this.#applyContract(target, existing, added, out, examples!);
      if (!keep) {
        this.info.discardedRows[table] = (this.info.discardedRows[table] ?? 0) + 1;
        return undefined;
      }
      if (Object.keys(added).length) this.#update(table, base, added, !existing);
    }
    return out;
  }

  #contractOf(target: RowTarget): SchemaContract {
    const key = target.parentTable ?? target.table;
    let contract = this.#contracts.get(key);
    if (!contract) {
      contract = resolveContract(this.schema, key, { override: this.#contractOverride });
      this.#contracts.set(key, contract);
    }
    return contract;
  }

  /**
   * dlt's `apply_schema_contract` for the new columns of one row: returns false to drop the
   * row, removes discarded values from `added` and `out`, throws on a frozen entity.
   */
  #applyContract(
    target: RowTarget,
    existing: Table | undefined,
    added: Record<string, Column>,
    out: Map<string, unknown>,
    examples: Map<string, unknown>,
  ): boolean {
    const contract = this.#contractOf(target);
    const { table } = target;
    const isNewTable = !existing || !Object.values(existing.columns).some(isCompleteColumn);
    if (isNewTable) {
      if (contract.tables === "evolve") return true;
      if (contract.tables === "freeze") {
        const [col, value] = [...examples].find(([c]) => !c.startsWith(DLT_PREFIX)) ??
          [...examples][0];
        throw new DataValidationError(
          `Cannot load table "${table}": the schema contract freezes tables and "${table}" is a new table (column "${col}", value ${
            exampleValue(value)
          })`,
        );
      }
      return false;
    }
    for (const [col, column] of Object.entries(added)) {
      if (col.startsWith(DLT_PREFIX)) continue;
      const entity = column.variant ? "data_type" : "columns";
      const mode = contract[entity];
      if (mode === "evolve") continue;
      if (mode === "freeze") {
        const what = column.variant
          ? `value ${exampleValue(examples.get(col))} does not fit the type of column "${
            col.replace(/__v_[a-z]+$/, "")
          }" and would create variant column "${col}"`
          : `new column "${col}" (value ${exampleValue(examples.get(col))})`;
        throw new DataValidationError(
          `Cannot load table "${table}": the schema contract freezes ${
            entity === "data_type" ? "data types" : "columns"
          } but the data has ${what}`,
        );
      }
      if (mode === "discard_row") return false;
      delete added[col];
      out.delete(col);
      this.info.discardedValues[table] = (this.info.discardedValues[table] ?? 0) + 1;
    }
    return true;
  }

  #coerceNull(columns: Record<string, Column>, table: string, name: string): void {
    const column = columns[name];
    const notNull = column
      ? isCompleteColumn(column) && column.nullable === false
      : this.settings.hint("not_null", name);
    if (notNull) {
      throw new DataValidationError(
        `Cannot normalize a row of table "${table}": column "${name}" is not nullable but the value is null`,
      );
    }
  }

  #coerceNonNull(
    columns: Record<string, Column>,
    table: string,
    name: string,
    value: unknown,
    isVariant: boolean,
  ): [string, Column | undefined, unknown] {
    let existing: Column | undefined = columns[name];
    let incomplete: Column | undefined;
    if (existing && !isCompleteColumn(existing)) {
      incomplete = existing;
      existing = undefined;
    }
    const pyType = pyTypeOf(value);
    const colType: DataType = existing
      ? existing.data_type!
      : this.#inferType(value, name, isVariant);
    let coerced: unknown;
    try {
      coerced = coerceValue(value, colType, {
        from: pyType,
        timezone: ((existing ?? incomplete)?.timezone as boolean | undefined) ?? true,
      });
    } catch (e) {
      if (!(e instanceof CoercionError)) throw e;
      if (isVariant) {
        throw new DataValidationError(
          `Cannot normalize a row of table "${table}": a ${pyType} value does not fit variant column "${name}" of type ${colType}`,
        );
      }
      let variant = shortenFragments(name, VARIANT_PREFIX + pyType);
      if (pyType === "json") {
        const legacy = shortenFragments(name, VARIANT_PREFIX + "complex");
        if (columns[legacy]?.variant) variant = legacy;
      }
      return this.#coerceNonNull(columns, table, variant, value, true);
    }
    let column: Column | undefined;
    if (!existing) {
      const inferred = this.#inferColumn(name, colType, isVariant);
      column = incomplete ? { ...inferred, ...incomplete } : inferred;
    }
    return [name, column, coerced];
  }

  #inferType(value: unknown, name: string, skipPreferred: boolean): DataType {
    const preferred = skipPreferred ? undefined : this.settings.preferredType(name);
    return preferred ?? inferDataType(value, { detections: this.settings.detections });
  }

  #inferColumn(name: string, dataType: DataType, isVariant: boolean): Column {
    const column: Column = {
      name,
      data_type: dataType,
      nullable: !this.settings.hint("not_null", name),
    };
    for (const hint of this.settings.hints) {
      if (hint !== "not_null" && this.settings.hint(hint, name)) column[hint] = true;
    }
    if (isVariant) column.variant = true;
    return column;
  }

  #update(name: string, base: Table, added: Record<string, Column>, isNew: boolean): void {
    this.#changes++;
    const update = (this.updates[name] ??= { ...base, columns: {} });
    const newColumns = (this.info.newColumns[name] ??= []);
    if (isNew) {
      this.schema.tables[name] = { ...base, columns: { ...added } };
      this.info.newTables.push(name);
    } else {
      const columns = this.schema.tables[name].columns;
      for (const [col, column] of Object.entries(added)) {
        const current = columns[col];
        if (current && !isCompleteColumn(current) && isCompleteColumn(column)) {
          // dlt merges the completed column into the incomplete one and moves it to the end
          const merged = { ...current, ...column };
          delete columns[col];
          columns[col] = merged;
        } else if (current) {
          Object.assign(current, column);
        } else {
          columns[col] = column;
        }
      }
    }
    for (const [col, column] of Object.entries(added)) {
      update.columns[col] = column;
      if (!newColumns.includes(col)) newColumns.push(col);
      if (column.variant) {
        const variants = (this.info.newVariantColumns[name] ??= []);
        if (!variants.includes(col)) variants.push(col);
      }
    }
  }
}
