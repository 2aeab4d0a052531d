/**
 * The normalizer's fast path: a record whose every value already fits a column of its table
 * (the common case once a resource's first records have shaped the schema) goes straight to
 * COPY lines, without the general path's row maps, coercion step and encoder.
 *
 * It gives the lines {@linkcode normalizeItem}, `SchemaEvolution.coerceRow` and `encodeCopyRow`
 * give for such a record, or nothing: a record with anything else (a new table or column, a
 * value of another type, a variant, two keys making one column, an integer-like first key,
 * a `Map` from the exact parser, a list of lists, a root key strategy, a propagated column
 * other than `_dlt_id`) is left whole to the general path, which also evolves the schema.
 * What it knows of a table (its columns, the column of each key at each place) is worked out
 * once and kept until the schema changes.
 *
 * @module
 */

import { C_DLT_ID, C_DLT_LIST_IDX, C_DLT_LOAD_ID, C_DLT_PARENT_ID } from "../schema/names.ts";
import { completeColumnNames, isNestedTable, mergeStrategyOf } from "../schema/schema.ts";
import type { Table } from "../schema/types.ts";
import { COPY_NULL, copyEscape, encodeCopyValue } from "./copy_format.ts";
import type { SchemaEvolution } from "./evolve.ts";
import { generateDltId, nestedRowId } from "./ids.ts";
import { isoToUtc } from "./infer.ts";
import {
  childNode,
  columnName,
  hasIndexKeyFirst,
  listPlace,
  maxNestingOf,
  nameMemo,
  type NameNode,
  type NestedTable,
  nestedTable,
  propagationPairs,
  rootTable,
} from "./relational.ts";

/** Column types the fast path encodes; any other type takes the general path. */
const TEXT = 1, BIGINT = 2, DOUBLE = 3, BOOL = 4, TIMESTAMP = 5, JSON_TYPE = 6, OTHER = 0;

const TYPE_CODES: Record<string, number> = {
  text: TEXT,
  bigint: BIGINT,
  double: DOUBLE,
  bool: BOOL,
  timestamp: TIMESTAMP,
  json: JSON_TYPE,
};

/** A complete column: its place in the table's COPY header and how its values encode. */
interface ColumnPlan {
  index: number;
  type: number;
  timezone: boolean;
}

/** A key at one place of a table's rows (a dict path): its column and what its values do. */
interface Slot {
  /** The column of a scalar (undefined: the column is new or incomplete). */
  column: ColumnPlan | undefined;
  /** A null may be dropped (the general path would not throw for it). */
  nullOk: boolean;
  /** Dicts and lists stay whole here (json): past max_nesting, or a json column. */
  whole: boolean;
  /** Another key of the table's rows makes the same column or nested table. */
  clash: boolean;
  /** The dict under the key. */
  child?: Place;
  /** The nested table of a list under the key. */
  nested?: TablePlan;
  /** The dict path and key (to find `child` and `nested` when first needed). */
  node: NameNode;
  key: string;
}

/** One dict path of a table's rows: its keys' slots, with the last record's key order. */
interface Place {
  node: NameNode;
  level: number;
  /** The slots of the last record's keys, by position (most records repeat them). */
  keys: string[];
  slots: Slot[];
  byKey: Map<string, Slot>;
}

/** What the fast path knows of a table (root or nested). */
interface TablePlan {
  table: string;
  /** The table's path of names (the key of its nested tables' memo). */
  path: string[];
  /** False: the table's rows take the general path. */
  ok: boolean;
  /** Complete column names, the COPY header the lines are encoded for. */
  names: string[];
  columns: Map<string, ColumnPlan>;
  /** The table's own columns (null checks and json decisions). */
  schemaColumns: Table["columns"];
  root: Place;
  /** Names already made by a slot (two slots making one name clash). */
  made: Map<string, Slot>;
  /** Columns of the dlt ids. */
  id: ColumnPlan;
  loadId?: ColumnPlan;
  parentId?: ColumnPlan;
  listIdx?: ColumnPlan;
  /** `value` of a list of scalars. */
  value?: ColumnPlan;
  valueNullOk: boolean;
  /** Propagated columns: each row's `_dlt_id` goes to these columns of its nested rows. */
  handsDown: string[];
  /** The encoded load id. */
  loadIdText: string;
}

/** A row of a record on its way: its plan, fields and the rows it hangs under. */
interface PendingRow {
  plan: TablePlan;
  fields: (string | undefined)[];
  /** Index of the parent row in the record's rows (-1 for the root). */
  parent: number;
  listIdx: number;
  /** Columns that take ancestors' `_dlt_id`s: pairs of (column, row index). */
  extend: [ColumnPlan, number][];
}

/** A line for a table's job file and the header it was encoded for. */
export interface FastLine {
  table: string;
  line: string;
  names: string[];
}

const BAIL = Symbol("bail");

/**
 * The fast path of one group (see the module doc). It reads the schema and never changes it:
 * anything new goes to the general path, and when that changes the schema (`changes`), the
 * plans are worked out again.
 */
export class FastRows {
  readonly #evolution: SchemaEvolution;
  readonly #loadId: string;
  readonly #newRowId: () => string;
  #plans = new Map<NestedTable, TablePlan>();
  /** The slot whose lists make each nested table (of every plan). */
  #listSlots = new Map<string, Slot>();
  #changes = -1;
  /** Records written so far. */
  records = 0;
  #memo?: NameNode;

  constructor(evolution: SchemaEvolution, loadId: string, newRowId?: () => string) {
    this.#evolution = evolution;
    this.#loadId = loadId;
    this.#newRowId = newRowId ?? generateDltId;
  }

  /** Forgets what it knew (the schema changed outside the evolution, e.g. a table added). */
  reset(): void {
    this.#plans = new Map();
    this.#listSlots = new Map();
  }

  /**
   * The COPY lines of a record of root table `table` read by plain `JSON.parse`, root row
   * first, then nested rows depth first; undefined when the general path must take it.
   */
  lines(item: unknown, table: string): FastLine[] | undefined {
    if (item === null || typeof item !== "object" || Array.isArray(item) || item instanceof Map) {
      return undefined;
    }
    const memo = nameMemo();
    if (memo !== this.#memo || this.#evolution.changes !== this.#changes) {
      this.#memo = memo;
      this.#changes = this.#evolution.changes;
      this.reset();
    }
    const root = rootTable(table);
    const plan = this.#plan(root, maxNestingOf(this.#evolution.schema, root.path[0]), true);
    if (!plan.ok) return undefined;
    const rows: PendingRow[] = [];
    try {
      this.#row(rows, plan, item as Record<string, unknown>, -1, 0, [], NONE);
    } catch (e) {
      if (e === BAIL) return undefined;
      throw e;
    }
    // every row fits: now the ids (drawn only for a record that is written)
    const ids = new Array<string>(rows.length);
    const out = new Array<FastLine>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const { plan: p, fields, parent, listIdx, extend } = rows[r];
      for (let e = 0; e < extend.length; e++) {
        fields[extend[e][0].index] = copyEscape(ids[extend[e][1]]);
      }
      let id: string;
      if (parent < 0) {
        fields[p.loadId!.index] = p.loadIdText;
        id = this.#newRowId();
      } else {
        const parentId = ids[parent];
        fields[p.parentId!.index] = copyEscape(parentId);
        fields[p.listIdx!.index] = String(listIdx);
        id = nestedRowId(parentId, { table: p.table, listIdx });
      }
      ids[r] = id;
      fields[p.id.index] = copyEscape(id);
      for (let i = 0; i < fields.length; i++) if (fields[i] === undefined) fields[i] = COPY_NULL;
      out[r] = { table: p.table, line: fields.join("\t"), names: p.names };
    }
    this.records++;
    return out;
  }

  /** Adds the row of `dict` and its nested rows to `rows`, or throws BAIL. */
  #row(
    rows: PendingRow[],
    plan: TablePlan,
    dict: Record<string, unknown>,
    parent: number,
    listIdx: number,
    extend: [string, number][],
    handed: [ColumnPlan, number][],
  ): void {
    const fields = new Array<string | undefined>(plan.names.length);
    const lists: [Slot, unknown[]][] = [];
    this.#fill(plan, plan.root, dict, fields, lists);
    // an id from the data (or propagated into it) is the general path's case
    if (fields[plan.id.index] !== undefined) throw BAIL;
    const at = rows.length;
    rows.push({ plan, fields, parent, listIdx, extend: handed });
    this.#nested(rows, plan, lists, at, extend);
  }

  /** The rows of the lists of row `at` (its plan `plan`), in order. */
  #nested(
    rows: PendingRow[],
    plan: TablePlan,
    lists: [Slot, unknown[]][],
    at: number,
    extend: [string, number][],
  ): void {
    // this row's _dlt_id into the nested rows' propagated columns, after the ancestors'
    let down = extend;
    if (plan.handsDown.length) {
      down = [...extend];
      for (const to of plan.handsDown) down.push([to, at]);
    }
    for (const [slot, items] of lists) {
      if (items.length === 0) continue;
      const nested = slot.nested!;
      if (!nested.ok) throw BAIL;
      // the nested table's columns of those ids: the same for every item of the list
      const handed = handedColumns(nested, down);
      for (let idx = 0; idx < items.length; idx++) {
        const v = items[idx];
        if (v !== null && typeof v === "object") {
          if (Array.isArray(v)) throw BAIL;
          this.#row(rows, nested, v as Record<string, unknown>, at, idx, down, handed);
          continue;
        }
        const fields = new Array<string | undefined>(nested.names.length);
        if (v === null) {
          if (!nested.valueNullOk) throw BAIL;
        } else {
          if (nested.value === undefined) throw BAIL;
          const text = encodeScalar(v, nested.value);
          if (text === undefined) throw BAIL;
          fields[nested.value.index] = text;
        }
        rows.push({ plan: nested, fields, parent: at, listIdx: idx, extend: handed });
      }
    }
  }

  /** The fields of one dict (at `place`) of a row; its lists go to `lists`. */
  #fill(
    plan: TablePlan,
    place: Place,
    dict: Record<string, unknown>,
    fields: (string | undefined)[],
    lists: [Slot, unknown[]][],
  ): void {
    let i = 0;
    for (const k in dict) {
      let slot = place.keys[i] === k ? place.slots[i] : undefined;
      if (slot === undefined) {
        // (an integer-like key, which JSON.parse lists first, needs no care: the order of keys
        // only orders new columns, and a new column is the general path's)
        slot = place.byKey.get(k) ?? this.#slot(plan, place, k);
        place.keys[i] = k;
        place.slots[i] = slot;
      }
      i++;
      if (slot.clash) throw BAIL;
      const v = dict[k];
      if (v === null) {
        if (!slot.nullOk) throw BAIL;
        continue;
      }
      if (typeof v === "object") {
        if (slot.whole) {
          const column = slot.column;
          if (column === undefined || column.type !== JSON_TYPE || hasIndexKeyFirst(v)) throw BAIL;
          fields[column.index] = encodeCopyValue(v, "json");
        } else if (Array.isArray(v)) {
          if (slot.nested === undefined) this.#nestedOf(plan, slot);
          if (slot.clash) throw BAIL;
          lists.push([slot, v]);
        } else {
          const child = slot.child ??= newPlace(childNode(place.node, k), place.level - 1);
          this.#fill(plan, child, v as Record<string, unknown>, fields, lists);
        }
        continue;
      }
      const column = slot.column;
      if (column === undefined) throw BAIL;
      const text = encodeScalar(v, column);
      if (text === undefined) throw BAIL;
      fields[column.index] = text;
    }
  }

  #slot(plan: TablePlan, place: Place, key: string): Slot {
    const name = columnName(place.node, key);
    const own = plan.schemaColumns[name];
    const column = plan.columns.get(name);
    const notNull = own
      ? column !== undefined && own.nullable === false
      : this.#evolution.settings.hint("not_null", name);
    const type = own?.data_type ?? this.#evolution.settings.preferredType(name);
    const slot: Slot = {
      column,
      nullOk: !notNull,
      whole: place.level <= 0 || type === "json",
      clash: false,
      node: place.node,
      key,
    };
    // two keys making one column in a row: the general path decides where each goes
    this.#made(plan, name, slot);
    place.byKey.set(key, slot);
    return slot;
  }

  /** Notes that `slot` makes the column `made`: two slots making one clash. */
  #made(plan: TablePlan, made: string, slot: Slot): void {
    const other = plan.made.get(made);
    if (other === undefined) plan.made.set(made, slot);
    else if (other !== slot) other.clash = slot.clash = true;
  }

  /**
   * The nested table of the lists under `slot`. Two keys making one nested table clash, even
   * from rows of different tables (a list in a dict and a list in a list's dicts): the general
   * path orders such a table's rows by its own walk.
   */
  #nestedOf(plan: TablePlan, slot: Slot): void {
    const nested = nestedTable(plan.path, listPlace(slot.node, slot.key));
    slot.nested = this.#plan(nested, plan.root.level - 1, false);
    const other = this.#listSlots.get(nested.name);
    if (other === undefined) this.#listSlots.set(nested.name, slot);
    else if (other !== slot) other.clash = slot.clash = true;
  }

  #plan(nested: NestedTable, level: number, isRoot: boolean): TablePlan {
    let plan = this.#plans.get(nested);
    if (plan !== undefined) return plan;
    const schema = this.#evolution.schema;
    const table = nested.name;
    const t = schema.tables[table] as Table | undefined;
    const names = t ? completeColumnNames(t) : [];
    const columns = new Map<string, ColumnPlan>();
    names.forEach((name, index) => {
      const c = t!.columns[name];
      columns.set(name, {
        index,
        type: TYPE_CODES[c.data_type as string] ?? OTHER,
        timezone: (c.timezone as boolean | undefined) ?? true,
      });
    });
    const id = columns.get(C_DLT_ID);
    const valueColumn = t?.columns.value;
    plan = {
      table,
      ok: false,
      names,
      columns,
      schemaColumns: t?.columns ?? {},
      path: nested.path,
      root: newPlace(nameMemo(), level),
      made: new Map(),
      id: id!,
      loadId: columns.get(C_DLT_LOAD_ID),
      parentId: columns.get(C_DLT_PARENT_ID),
      listIdx: columns.get(C_DLT_LIST_IDX),
      value: columns.get("value"),
      valueNullOk: valueColumn
        ? !(columns.has("value") && valueColumn.nullable === false)
        : !this.#evolution.settings.hint("not_null", "value"),
      handsDown: [],
      loadIdText: "",
    };
    this.#plans.set(nested, plan);
    if (!t || id?.type !== TEXT) return plan;
    if (isRoot) {
      // a key hash as _dlt_id (upsert, insert-only, scd2) is the general path's
      const strategy = mergeStrategyOf(schema, table);
      if (strategy === "upsert" || strategy === "insert-only" || strategy === "scd2") return plan;
      if (plan.loadId?.type !== TEXT) return plan;
      plan.loadIdText = copyEscape(this.#loadId);
    } else {
      // a nested table made a root one has its own ids
      if (!isNestedTable(t) || plan.parentId?.type !== TEXT) return plan;
      if (plan.listIdx?.type !== BIGINT) return plan;
    }
    for (const [from, to] of propagationPairs(schema, table, isRoot)) {
      if (from !== C_DLT_ID || DLT_ROW_COLUMNS.has(to)) return plan;
      plan.handsDown.push(to);
    }
    plan.ok = true;
    return plan;
  }
}

/** The columns of `plan` that take the propagated ids `extend` (names, row indexes). */
function handedColumns(plan: TablePlan, extend: [string, number][]): [ColumnPlan, number][] {
  if (extend.length === 0) return NONE;
  const out: [ColumnPlan, number][] = [];
  for (const [name, row] of extend) {
    const column = plan.columns.get(name);
    if (column === undefined || column.type !== TEXT) throw BAIL;
    out.push([column, row]);
  }
  return out;
}

const NONE: [ColumnPlan, number][] = [];

function newPlace(node: NameNode, level: number): Place {
  return { node, level, keys: [], slots: [], byKey: new Map() };
}

/** Columns a propagated value must not take (the row's own ids). */
const DLT_ROW_COLUMNS = new Set([C_DLT_ID, C_DLT_LOAD_ID, C_DLT_PARENT_ID, C_DLT_LIST_IDX]);

/**
 * A scalar of a `JSON.parse` record as a COPY field of its column, as the general path
 * coerces and encodes a value that already has the column's type; undefined for any other.
 */
function encodeScalar(v: unknown, column: ColumnPlan): string | undefined {
  switch (column.type) {
    case TEXT:
      return typeof v === "string" ? copyEscape(v) : undefined;
    case BIGINT:
      return typeof v === "number" && Number.isSafeInteger(v) ? String(v) : undefined;
    case DOUBLE:
      return typeof v === "number" && !Number.isInteger(v) ? String(v) : undefined;
    case BOOL:
      return typeof v === "boolean" ? (v ? "t" : "f") : undefined;
    case TIMESTAMP: {
      if (typeof v !== "string") return undefined;
      const utc = isoToUtc(v, column.timezone);
      return utc === undefined ? undefined : copyEscape(utc);
    }
  }
  return undefined;
}
