/**
 * Schema evolution while normalizing, as dlt's `JsonLItemsNormalizer._coerce_row`: every
 * value of a normalized row is fitted into its column (inferred when new, coerced when known,
 * moved to a variant column `<col>__v_<type>` when the coercion fails); new tables and columns
 * are added to the live schema in the order dlt adds them, and recorded as schema updates.
 *
 * @module
 */

import { DataValidationError } from "../common/errors.ts";
import { VARIANT_PREFIX } from "../schema/names.ts";
import { shortenFragments } from "../schema/naming.ts";
import { compileSimpleRegex, isCompleteColumn, newTable } from "../schema/schema.ts";
import type { Column, DataType, StoredSchema, Table } from "../schema/types.ts";
import { coerceValue, CoercionError, inferDataType, pyTypeOf } from "./infer.ts";

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
  return {
    hint: (hint, name) => hints.get(hint)?.some((re) => re.test(name)) ?? false,
    hints: [...hints.keys()],
    preferredType: (name) => preferred.find(([re]) => re.test(name))?.[1],
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
  readonly info: EvolutionInfo = { newTables: [], newColumns: {}, newVariantColumns: {} };
  /** Aggregated schema updates per table (dlt's `schema_updates.json` content). */
  readonly updates: Record<string, Table> = {};

  constructor(schema: StoredSchema) {
    this.schema = schema;
    this.settings = compileSettings(schema);
  }

  /**
   * Coerces the values of a row of `table` into the schema and returns the row to write:
   * nulls dropped, values coerced, failing values moved to variant columns. New tables and
   * columns are added to the schema right away.
   */
  coerceRow(row: Map<string, unknown>, target: RowTarget): Map<string, unknown> {
    const { table, parentTable } = target;
    const existing = this.schema.tables[table];
    const base = existing ?? newTable(table, { parent: parentTable });
    const columns = base.columns;
    const out = new Map<string, unknown>();
    let added: Record<string, Column> | undefined;
    for (const [name, value] of row) {
      if (value === null || value === undefined) {
        this.#coerceNull(columns, table, name);
        continue;
      }
      const [col, column, coerced] = this.#coerceNonNull(columns, table, name, value, false);
      out.set(col, coerced);
      if (column) (added ??= {})[col] = column;
    }
    if (added) this.#update(table, base, added, !existing);
    return out;
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
