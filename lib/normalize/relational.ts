/**
 * dlt's relational normalizer (`dlt/common/normalizers/json/relational.py`): one record
 * becomes a root row plus rows of nested tables.
 *
 * - Nested dicts are flattened into `parent__child` columns. The order is dlt's: a stack of
 *   dicts, so the scalars of a level come first and nested dicts are expanded afterwards, the
 *   last nested dict of a level first.
 * - Lists become nested tables `<table>__<field>`: dict elements are flattened, scalars go to a
 *   `value` column, a list of lists is wrapped as `{list: inner}` (tables `...__list`).
 * - Nested rows get `_dlt_parent_id`, `_dlt_list_idx` and a deterministic `_dlt_id`; root rows
 *   get `_dlt_load_id` and a random `_dlt_id` (a key hash for upsert/insert-only merge), an
 *   existing `_dlt_id` is kept; `_dlt_root_id` is propagated from the root row into nested
 *   rows as configured in `normalizers.json.config.propagation` (set for merge tables).
 * - `max_nesting` (table `x-normalizer.max_nesting`, else `normalizers.json.config.max_nesting`,
 *   else 1000) is a remaining-depth counter: at 0, dicts and lists stay whole as json values.
 *   A column typed json (hint or preferred type) is never flattened.
 * - A record that is not a dict (a scalar or a list) is wrapped as `{value: record}`, as dlt
 *   wraps non-dict items.
 *
 * `null` values stay in the rows; the schema evolution step drops them.
 *
 * @module
 */

import { C_DLT_ID, C_DLT_LIST_IDX, C_DLT_LOAD_ID, C_DLT_PARENT_ID } from "../schema/names.ts";
import {
  EMPTY_KEY_IDENTIFIER,
  identifierTag,
  isBlank,
  normalizePath,
  normalizeTablesPath,
  shortenFragments,
  shortenIdentifier,
} from "../schema/naming.ts";
import { isNestedTable, mergeStrategyOf } from "../schema/schema.ts";
import type { DataType, StoredSchema } from "../schema/types.ts";
import { generateDltId, nestedRowId, rowHash } from "./ids.ts";
import { dictEntries, isDict } from "./json_value.ts";

/** Default `max_nesting` of dlt's relational normalizer. */
export const DEFAULT_MAX_NESTING = 1000;

/** One row produced by the normalizer. */
export interface NormalizedRow {
  /** Table of the row. */
  table: string;
  /** Parent table (nested rows only). */
  parentTable?: string;
  /** Column → value, in column creation order. */
  row: Map<string, unknown>;
}

/** What {@linkcode normalizeItem} needs besides the record. */
export interface ItemContext {
  /** The live schema (columns typed json are not flattened). */
  schema: StoredSchema;
  /** The root table (normalized here). */
  table: string;
  /** The package load id, written into `_dlt_load_id`. */
  loadId: string;
  /** Preferred type of a column name (`settings.preferred_types`). @default {none} */
  preferredType?: (column: string) => DataType | undefined;
  /** Random root row ids. @default {generateDltId} */
  newRowId?: () => string;
  /**
   * The record's dicts are plain objects from plain `JSON.parse` of a text, which lists
   * integer-like keys (array indexes) first: a dict whose first key is one (flattened, or
   * inside a value kept whole as json) throws {@linkcode KEY_ORDER_LOST}, so the caller can
   * parse the text exactly (dicts as `Map`s in the text's key order, as dlt keeps it) and
   * normalize again. @default {false}
   */
  fromPlainParse?: boolean;
}

/**
 * Thrown by {@linkcode normalizeItem} with `fromPlainParse` for a dict whose key order
 * `JSON.parse` changed.
 */
export const KEY_ORDER_LOST = Symbol("key order lost");

/**
 * Whether a plain object in `value` (a JSON value of plain objects and arrays) has an array
 * index as its first key, i.e. `JSON.parse` may have moved keys of it.
 */
export function hasIndexKeyFirst(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === "object" && hasIndexKeyFirst(v)) return true;
    }
    return false;
  }
  if (value === null || typeof value !== "object" || value instanceof Map) return false;
  let first = true;
  for (const k in value) {
    if (first && isIndexKey(k)) return true;
    first = false;
    const v = (value as Record<string, unknown>)[k];
    if (v !== null && typeof v === "object" && hasIndexKeyFirst(v)) return true;
  }
  return false;
}

/** An array index key (`0`, `17`; V8 orders an object's such keys first, ascending). */
function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295;
}

type Dict = Map<string, unknown> | Record<string, unknown>;

function isNestedType(
  ctx: ItemContext,
  table: string,
  field: string,
  level: number,
): boolean {
  if (level <= 0) return true;
  const column = ctx.schema.tables[table]?.columns[field];
  const type = column?.data_type ?? ctx.preferredType?.(field);
  return type === "json";
}

/** Column name of a key (dlt's path normalization, `_empty` for a blank key), memoized. */
const keyNames = new Map<string, string>();
function keyName(k: string): string {
  let name = keyNames.get(k);
  if (name === undefined) {
    name = isBlank(k) ? EMPTY_KEY_IDENTIFIER : normalizePath(k);
    if (keyNames.size > 100_000) keyNames.clear();
    keyNames.set(k, name);
  }
  return name;
}

/**
 * Column names of a key at one place in a record, memoized: a node per dict path (the keys
 * from the record down to a dict), holding the names of its keys and its child dict nodes.
 * Records of one resource share their paths, so their column names are the same strings each
 * time (hashed once) instead of a concatenation and a shortening per key and record.
 */
export interface NameNode {
  /** Normalized keys from the record down to this dict. */
  path: string[];
  /** The original keys from the record down to this dict, each followed by U+0001. */
  origPrefix: string;
  /** `path` joined with `__`, plus a trailing `__` (empty at the top). */
  namePrefix: string;
  /** Key → column name (`shortenFragments(...path, keyName(key))`). */
  names: Map<string, string>;
  /** Key → the node of the dict under it. */
  children: Map<string, NameNode>;
  /** Key → the list under it: its path of table names from the row, and that path joined. */
  lists: Map<string, ListPlace>;
}

/** Where a list sits below a row: the normalized path (the key last) and it joined. */
export interface ListPlace {
  path: string[];
  key: string;
}

const newNode = (path: string[], origPrefix: string, namePrefix: string): NameNode => ({
  path,
  origPrefix,
  namePrefix,
  names: new Map(),
  children: new Map(),
  lists: new Map(),
});
/** Entries memoized under {@linkcode nameRoot}; past 100,000 the memo starts over. */
let nameEntries = 0;
let nameRoot = newNode([], "", "");

export function columnName(node: NameNode, k: string): string {
  let name = node.names.get(k);
  if (name === undefined) {
    const normKey = keyName(k);
    const prefix = node.namePrefix;
    name = !prefix ? normKey : shortenIdentifier(normKey ? prefix + normKey : prefix.slice(0, -2));
    node.names.set(k, name);
    nameEntries++;
  }
  return name;
}

export function childNode(node: NameNode, k: string): NameNode {
  let child = node.children.get(k);
  if (child === undefined) {
    const normKey = keyName(k);
    child = newNode(
      [...node.path, normKey],
      node.origPrefix + k + "\u0001",
      normKey ? node.namePrefix + normKey + "__" : node.namePrefix,
    );
    node.children.set(k, child);
    nameEntries++;
  }
  return child;
}

export function listPlace(node: NameNode, k: string): ListPlace {
  let place = node.lists.get(k);
  if (place === undefined) {
    const path = [...node.path, normalizeTablesPath(k)];
    place = { path, key: path.join("\u0001") };
    node.lists.set(k, place);
    nameEntries++;
  }
  return place;
}

/** One dict level on the flattening stack. */
interface Level {
  dict: Dict;
  level: number;
  node: NameNode;
}

/**
 * A dict or list value of key `k` (column `name`) at `node` that is flattened: its dict goes
 * onto the stack, its list to `lists` (keyed by the joined path: a later key with the same path
 * replaces the list in place), and true is returned; false for a value the row keeps whole
 * (json), whose dicts must keep their key order too.
 */
function expand(
  ctx: ItemContext,
  table: string,
  node: NameNode,
  lvl: number,
  k: string,
  v: object,
  name: string,
  stack: Level[],
  lists: Map<string, [ListPlace, unknown[]]>,
): boolean {
  if (isDict(v)) {
    if (!isNestedType(ctx, table, name, lvl)) {
      stack.push({ dict: v, level: lvl - 1, node: childNode(node, k) });
      return true;
    }
  } else if (Array.isArray(v)) {
    if (!isNestedType(ctx, table, name, lvl)) {
      const place = listPlace(node, k);
      lists.set(place.key, [place, v]);
      return true;
    }
  }
  if (ctx.fromPlainParse && hasIndexKeyFirst(v)) throw KEY_ORDER_LOST;
  return false;
}

/** A dict flattened: its row, and its lists to normalize into nested tables (by joined path). */
type Flattened = [Map<string, unknown>, Map<string, [ListPlace, unknown[]]>];

/** Thrown by {@linkcode flattenPlain} for what only the general pass handles. */
const COLLISION = Symbol("collision");

/**
 * The root of the column-name memo, started over past 100,000 entries (with the nested tables'
 * memo): a new root means every node, place and nested table memoized before is gone.
 */
export function nameMemo(): NameNode {
  if (nameEntries > 100_000) {
    nameRoot = newNode([], "", "");
    nameEntries = 0;
    nestedTables = new WeakMap();
    rootTables.clear();
  }
  return nameRoot;
}

function flatten(
  ctx: ItemContext,
  table: string,
  dict: Dict,
  level: number,
): Flattened {
  nameMemo();
  // almost every dict is a plain object without two keys that make one column: the first pass
  // handles only those and keeps no record of where columns came from; it gives up on anything
  // else (a Map, a column met twice) for the general pass, which keeps that record
  try {
    return flattenPlain(ctx, table, dict, level);
  } catch (e) {
    if (e !== COLLISION) throw e;
    return flattenPass(ctx, table, dict, level);
  }
}

/**
 * {@linkcode flattenPass} for plain objects whose keys all make different columns (throws
 * {@linkcode COLLISION} otherwise). `for…in` reads a JSON.parse object through V8's enum
 * cache: no key array, no generic keyed load per value.
 */
function flattenPlain(
  ctx: ItemContext,
  table: string,
  dict: Dict,
  level: number,
): Flattened {
  const row = new Map<string, unknown>();
  const lists = new Map<string, [ListPlace, unknown[]]>();
  const stack: Level[] = [{ dict, level, node: nameRoot }];
  while (stack.length) {
    const { dict: current, level: lvl, node } = stack.pop()!;
    if (current instanceof Map) throw COLLISION;
    let first = ctx.fromPlainParse === true;
    for (const k in current) {
      if (first) {
        if (isIndexKey(k)) throw KEY_ORDER_LOST;
        first = false;
      }
      const v = current[k];
      const name = columnName(node, k);
      if (
        v !== null && typeof v === "object" &&
        expand(ctx, table, node, lvl, k, v, name, stack, lists)
      ) {
        continue;
      }
      if (row.has(name)) throw COLLISION;
      row.set(name, v);
    }
  }
  return [row, lists];
}

function flattenPass(
  ctx: ItemContext,
  table: string,
  dict: Dict,
  level: number,
): Flattened {
  // the original key each column came from, to tell a collision from a repeated path: triples
  // of (column, original prefix, key), searched from the end only when a column is already in
  // the row (the original path is joined only then)
  const origins: string[] = [];
  const row = new Map<string, unknown>();
  const originOf = (column: string): string | undefined => {
    for (let i = origins.length - 3; i >= 0; i -= 3) {
      if (origins[i] === column) return origins[i + 1] + origins[i + 2];
    }
    return undefined;
  };
  const lists = new Map<string, [ListPlace, unknown[]]>();
  const stack: Level[] = [{ dict, level, node: nameRoot }];
  while (stack.length) {
    const { dict: current, level: lvl, node } = stack.pop()!;
    const isMap = current instanceof Map;
    const keys = isMap ? [...current.keys()] : Object.keys(current);
    if (!isMap && keys.length > 0 && ctx.fromPlainParse && isIndexKey(keys[0])) {
      throw KEY_ORDER_LOST;
    }
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const v = isMap ? current.get(k) : current[k];
      const name = columnName(node, k);
      if (
        v !== null && typeof v === "object" &&
        expand(ctx, table, node, lvl, k, v, name, stack, lists)
      ) {
        continue;
      }
      if (row.has(name)) {
        const other = originOf(name)!;
        const origin = node.origPrefix + k;
        if (other !== origin) {
          // two keys of one object normalize to the same column (`fooBar`, `foo_bar`): dlt
          // keeps only the last; we keep both. The key spelled exactly as the column keeps
          // it, the other goes to `<column>_<tag of its original key>` (stable across records).
          const normKey = keyName(k);
          const exact = (o: string) => o.split("\u0001").at(-1) === normKey;
          const moved = exact(origin) && !exact(other) ? other : origin;
          const alt = shortenIdentifier(
            `${name}_${identifierTag(moved.replaceAll("\u0001", "."))}`,
          );
          if (moved === other) {
            row.set(alt, row.get(name));
            row.set(name, v);
            origins.push(name, node.origPrefix, k);
          } else {
            row.set(alt, v);
          }
          continue;
        }
      }
      origins.push(name, node.origPrefix, k);
      row.set(name, v);
    }
  }
  return [row, lists];
}

function shouldBeNested(schema: StoredSchema, table: string): boolean {
  const t = schema.tables[table];
  return t ? isNestedTable(t) : true;
}

function rootRowId(ctx: ItemContext, table: string, dict: Dict, row: Map<string, unknown>): string {
  const t = ctx.schema.tables[table];
  const strategy = t ? mergeStrategyOf(ctx.schema, table) : undefined;
  if (t && (strategy === "upsert" || strategy === "insert-only")) {
    const pk = Object.values(t.columns).filter((c) => c.primary_key).map((c) => c.name);
    try {
      return rowHash(row, pk);
    } catch (e) {
      throw new Error(
        `Cannot compute _dlt_id of a row of table "${table}": a primary key column is missing`,
        { cause: e },
      );
    }
  }
  if (t && strategy === "scd2") {
    const version = Object.values(t.columns).find((c) => c["x-row-version"]);
    if (version?.name === C_DLT_ID) return rowHash(new Map(dictEntries(dict)));
  }
  return (ctx.newRowId ?? generateDltId)();
}

const NO_PAIRS: readonly [string, string][] = Object.freeze([]);

/**
 * The columns a row of `table` hands down to its nested rows, `[from, to]` in order: dlt's
 * `{...root, ...own}` of `normalizers.json.config.propagation` (`root` only for a root row), a
 * key in both keeping its place among the root ones and taking the table's target.
 */
export function propagationPairs(
  schema: StoredSchema,
  table: string,
  isRoot: boolean,
): readonly [string, string][] {
  const config = schema.normalizers?.json?.config as Record<string, unknown> | undefined;
  const propagation = config?.propagation as
    | { root?: Record<string, string>; tables?: Record<string, Record<string, string>> }
    | undefined;
  // (called per row by the general path: no array for a schema without propagation)
  if (!propagation) return NO_PAIRS;
  const own = propagation.tables?.[table];
  const root = isRoot ? propagation.root : undefined;
  const pairs: [string, string][] = [];
  if (root) { for (const from in root) pairs.push([from, own?.[from] ?? root[from]]); }
  if (own) {
    for (const from in own) if (!(root && from in root)) pairs.push([from, own[from]]);
  }
  return pairs;
}

function propagated(
  schema: StoredSchema,
  table: string,
  row: Map<string, unknown>,
  isRoot: boolean,
): Map<string, unknown> | undefined {
  let extend: Map<string, unknown> | undefined;
  for (const [from, to] of propagationPairs(schema, table, isRoot)) {
    if (row.has(from)) (extend ??= new Map()).set(to, row.get(from));
  }
  return extend;
}

/**
 * One dict of the record becomes a row of `table` (whose path of normalized names is `path`),
 * then its lists become rows of nested tables.
 */
function normalizeRow(
  out: NormalizedRow[],
  ctx: ItemContext,
  dict: Dict,
  extend: Map<string, unknown> | undefined,
  path: string[],
  table: string,
  parentTable: string | undefined,
  parentRowId: string | undefined,
  pos: number | undefined,
  level: number,
  root: boolean,
): void {
  const [row, lists] = flatten(ctx, table, dict, level);
  if (extend) { for (const [k, v] of extend) row.set(k, v); }
  const isRoot = root || !shouldBeNested(ctx.schema, table);
  if (isRoot) row.set(C_DLT_LOAD_ID, ctx.loadId);
  let rowId = row.get(C_DLT_ID) as string | undefined;
  if (!rowId) {
    if (!isRoot) {
      rowId = nestedRowId(parentRowId!, { table, listIdx: pos! });
      row.set(C_DLT_PARENT_ID, parentRowId);
      row.set(C_DLT_LIST_IDX, pos);
    } else {
      rowId = rootRowId(ctx, table, dict, row);
    }
    row.set(C_DLT_ID, rowId);
  }
  const more = propagated(ctx.schema, table, row, isRoot);
  const childExtend = more ? new Map([...(extend ?? []), ...more]) : extend;
  out.push({ table, parentTable, row });
  for (const [place, items] of lists.values()) {
    const nested = nestedTable(path, place);
    normalizeList(out, ctx, items, childExtend, nested, table, rowId, level - 1);
  }
}

/** A nested table: its path of names from the root table, and its (shortened) name. */
export interface NestedTable {
  path: string[];
  name: string;
}

/**
 * The nested table of a list at `place` below a row of the table at `path`, memoized per
 * path array (the root's, or a nested table's own) and list place.
 */
let nestedTables = new WeakMap<string[], Map<ListPlace, NestedTable>>();
/**
 * Each root table as given → its path array (the key of its nested tables' memo) and its
 * name.
 */
const rootTables = new Map<string, NestedTable>();
export function nestedTable(path: string[], place: ListPlace): NestedTable {
  let byPlace = nestedTables.get(path);
  if (byPlace === undefined) nestedTables.set(path, byPlace = new Map());
  let nested = byPlace.get(place);
  if (nested === undefined) {
    const full = [...path, ...place.path];
    nested = { path: full, name: shortenFragments(...full) };
    byPlace.set(place, nested);
  }
  return nested;
}

/** The elements of a list become rows of the nested table `nested`. */
function normalizeList(
  out: NormalizedRow[],
  ctx: ItemContext,
  items: unknown[],
  extend: Map<string, unknown> | undefined,
  nested: NestedTable,
  parentTable: string,
  parentRowId: string,
  level: number,
): void {
  const { path, name: table } = nested;
  const isRoot = !shouldBeNested(ctx.schema, table);
  for (let idx = 0; idx < items.length; idx++) {
    const v = items[idx];
    if (isDict(v)) {
      normalizeRow(out, ctx, v, extend, path, table, parentTable, parentRowId, idx, level, false);
    } else if (Array.isArray(v)) {
      const wrapped = new Map([["list", v]]);
      const lvl = level - 1;
      normalizeRow(
        out,
        ctx,
        wrapped,
        extend,
        path,
        table,
        parentTable,
        parentRowId,
        idx,
        lvl,
        false,
      );
    } else {
      const row = new Map<string, unknown>([["value", v]]);
      if (extend) { for (const [k, x] of extend) row.set(k, x); }
      if (isRoot) {
        row.set(C_DLT_ID, rootRowId(ctx, table, row, row));
      } else {
        row.set(C_DLT_PARENT_ID, parentRowId);
        row.set(C_DLT_LIST_IDX, idx);
        row.set(C_DLT_ID, nestedRowId(parentRowId, { table, listIdx: idx }));
      }
      out.push({ table, parentTable, row });
    }
  }
}

/**
 * The `max_nesting` of a root table: its `x-normalizer.max_nesting`, else the schema's
 * `normalizers.json.config.max_nesting`, else 1000.
 *
 * @example
 * ```ts
 * maxNestingOf(schema, "issues"); // 1000
 * ```
 */
export function maxNestingOf(schema: StoredSchema, table: string): number {
  const own = schema.tables[table]?.["x-normalizer"]?.max_nesting;
  if (typeof own === "number") return own;
  const config = schema.normalizers?.json?.config as Record<string, unknown> | undefined;
  const source = config?.max_nesting;
  return typeof source === "number" ? source : DEFAULT_MAX_NESTING;
}

/** The root table `table` as given (memoized): its path of names and its normalized name. */
export function rootTable(table: string): NestedTable {
  let root = rootTables.get(table);
  if (root === undefined) {
    const name = normalizeTablesPath(table);
    root = { path: [name], name: shortenFragments(name) };
    rootTables.set(table, root);
  }
  return root;
}

/**
 * Normalizes one record of a root table into rows: the root row first, then nested rows
 * depth first, in dlt's order.
 *
 * @example
 * ```ts
 * for (const { table, row } of normalizeItem({ id: 1, labels: ["a"] }, { schema, table: "issues", loadId })) {
 *   console.log(table, row);
 * }
 * ```
 */
export function normalizeItem(item: unknown, context: ItemContext): NormalizedRow[] {
  const dict: Dict = isDict(item) ? item : new Map([["value", item]]);
  const { path, name } = rootTable(context.table);
  const out: NormalizedRow[] = [];
  const level = maxNestingOf(context.schema, path[0]);
  normalizeRow(
    out,
    context,
    dict,
    undefined,
    path,
    name,
    undefined,
    undefined,
    undefined,
    level,
    true,
  );
  return out;
}
