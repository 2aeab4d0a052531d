/**
 * Phase 4 of reading a catalog: bind placeholders and build the resource graph. Each child has
 * one parent, found from `{resources.<parent>.<field>}` placeholders or legacy `resolve` params;
 * resources come out parents first.
 *
 * @module
 */

import { didYouMean, quoteList } from "../common/did_you_mean.ts";
import { findPlaceholders, stringsIn } from "./_placeholders.ts";
import {
  effectiveDataSelector,
  effectivePaginator,
  type MergedResource,
  mergeResourceDefaults,
} from "./defaults.ts";
import type { NodePath } from "./validate.ts";
import type {
  ClientConfig,
  IncrementalConfig,
  Json,
  ResolveBinding,
  ResolvedResource,
  ResolveParam,
  ResourceConfig,
} from "./types.ts";

/** One problem of the graph phase; the caller turns the path into a position. */
export interface GraphProblem {
  /** Index of the resource in `resources`. */
  index: number;
  /** Path inside the resource (falls back to `resource_defaults`, then the resource itself). */
  sub: NodePath;
  /** Message after `Cannot read resource "<name>": `. */
  message: string;
  /** Text inside the string at `sub` to point at (a placeholder). */
  needle?: string;
}

/** Where problems of the graph phase go. */
export type GraphReporter = (problem: GraphProblem) => void;

/** Input of {@linkcode buildGraph}: the validated items with their index in `resources`. */
export interface GraphInput {
  items: { index: number; item: ResourceConfig | string }[];
  client: ClientConfig;
  resourceDefaults?: Partial<ResourceConfig>;
  /** The destination's name of a table (see `ParseCatalogOptions.tableName`). */
  tableName?: (name: string) => string;
}

const INCREMENTAL_NAMES = ["start_value", "initial_value", "last_value", "end_value"];
const RESOURCES_PREFIX = "resources.";
const INCREMENTAL_PREFIX = "incremental.";

interface Node {
  index: number;
  resource: ResolvedResource;
  /** Where this resource first refers to its parent. */
  parentRef?: { sub: NodePath; needle?: string };
}

/**
 * Applies defaults, binds placeholders and orders the resources parents first. Every problem
 * goes to `report`; the result is meaningful only when none was reported.
 *
 * @example
 * ```ts
 * const resources = buildGraph({
 *   client: {},
 *   items: [
 *     { index: 0, item: "projects" },
 *     { index: 1, item: { name: "issues", endpoint: "projects/{resources.projects.id}/issues" } },
 *   ],
 * }, (problem) => console.error(problem.message));
 * resources.map((r) => r.parent); // [undefined, "projects"]
 * ```
 */
export function buildGraph(input: GraphInput, report: GraphReporter): ResolvedResource[] {
  const nodes = new Map<string, Node>();
  for (const { index, item } of input.items) {
    const merged = mergeResourceDefaults(item, input.resourceDefaults);
    if (nodes.has(merged.name)) {
      const first = nodes.get(merged.name)!.index;
      const message = `duplicate resource name "${merged.name}" (also resource #${first + 1})`;
      report({ index, sub: ["name"], message });
      continue;
    }
    nodes.set(merged.name, resolveResource(index, merged, input.client, report));
    checkTableName(index, merged, input.tableName, report);
  }
  checkParents(nodes, report);
  return orderParentsFirst(nodes);
}

/**
 * A resource whose table would have no name (an empty `name` or `table_name`, or one the naming
 * convention turns into nothing) or one of dlt's own (`_dlt_loads`, …): refused here, where the
 * catalog can be put right, not by the load (which then failed at every run).
 */
function checkTableName(
  index: number,
  merged: MergedResource,
  tableName: ((name: string) => string) | undefined,
  report: GraphReporter,
): void {
  const given = merged.table_name !== undefined;
  const raw = merged.table_name ?? merged.name;
  const sub = [given ? "table_name" : "name"];
  const what = given ? `"table_name"` : "the resource name";
  if (merged.name.trim() === "") {
    report({ index, sub: ["name"], message: "the resource name is empty" });
    return;
  }
  if (raw.trim() === "") {
    report({ index, sub, message: `${what} is empty` });
    return;
  }
  if (tableName === undefined) return;
  const table = tableName(raw);
  if (table === "") {
    report({ index, sub, message: `${what} "${raw}" makes no table name (it normalizes to "")` });
  } else if (table.startsWith("_dlt_")) {
    report({
      index,
      sub,
      message: `${what} "${raw}" makes table "${table}": names starting with "_dlt_" are dlt's ` +
        "own (_dlt_loads, _dlt_version, _dlt_pipeline_state); choose another",
    });
  }
}

function resolveResource(
  index: number,
  merged: MergedResource,
  client: ClientConfig,
  report: GraphReporter,
): Node {
  const endpoint = { ...merged.endpoint };
  const params: Record<string, Json | ResolveParam> = { ...endpoint.params };
  const bindings: (ResolveBinding & { sub: NodePath; needle?: string })[] = [];
  const say = (sub: NodePath, message: string, needle?: string) =>
    report({ index, sub, message, needle });

  // Legacy params: `{type: incremental}` becomes `endpoint.incremental`, `{type: resolve}` a binding.
  for (const [name, value] of Object.entries(params)) {
    if (!isTyped(value)) continue;
    delete params[name];
    if (value.type === "incremental") {
      const sub = ["endpoint", "params", name];
      if (endpoint.incremental) say(sub, `param "${name}" repeats "endpoint.incremental"`);
      else {
        const { cursor_path, initial_value } = value as unknown as IncrementalConfig;
        endpoint.incremental = { cursor_path, initial_value, start_param: name };
      }
    } else {
      const { resource, field } = value as ResolveParam;
      const inPath = findPlaceholders(endpoint.path).some((p) => p.name === name);
      bindings.push({
        placeholder: name,
        resource,
        field,
        inQuery: !inPath,
        ...(inPath ? {} : { param: name }),
        sub: ["endpoint", "params", name, "resource"],
      });
    }
  }

  // dlt's Incremental.on_resolved: a range that cannot hold anything is a configuration error
  const inc = endpoint.incremental;
  if (inc && inc.end_value !== undefined && inc.end_value !== null) {
    const sub = ["endpoint", "incremental", "end_value"];
    if (inc.initial_value === undefined || inc.initial_value === null) {
      say(sub, `"end_value" needs "initial_value" (the start of the range to load)`);
    } else {
      const max = (inc.last_value_func ?? "max") === "max";
      const [a, b] = [inc.initial_value, inc.end_value];
      // numbers, or strings compared as strings (as dlt's last_value_func compares them)
      const comparable = typeof a === typeof b && (typeof a === "number" || typeof a === "string");
      if (comparable && (max ? a! > b! : a! < b!)) {
        const word = max ? "higher" : "lower";
        say(
          sub,
          `"initial_value" (${JSON.stringify(a)}) is ${word} than "end_value" (${
            JSON.stringify(b)
          }): "end_value" must be ${word} than "initial_value"`,
        );
      }
    }
  }

  const dataSelector = effectiveDataSelector(endpoint);
  const paginator = effectivePaginator(endpoint, client);

  // Path placeholders: parent fields, incremental values, legacy resolve, or plain params
  // (bound into the path and removed from the params, as dlt's `_bind_path_params`).
  let path = endpoint.path;
  for (const p of findPlaceholders(endpoint.path)) {
    if (p.name.startsWith(RESOURCES_PREFIX) || p.name.startsWith(INCREMENTAL_PREFIX)) continue;
    // Extra: `{config.<key>}` takes a user value from `[sources.gitlab.params] <key>`.
    if (p.name.startsWith("config.")) continue;
    if (bindings.some((b) => b.placeholder === p.name)) continue;
    const value = params[p.name];
    if (value === undefined) {
      say(
        ["endpoint", "path"],
        `unbound path placeholder "${p.raw}" (add param "${p.name}" or use "{resources.<parent>.<field>}")`,
        p.raw,
      );
    } else if (value !== null && typeof value === "object") {
      say(
        ["endpoint", "params", p.name],
        `param "${p.name}" fills the path, so it must be a value`,
      );
    } else {
      path = path.replace(p.raw, String(value));
      delete params[p.name];
    }
  }

  // New-style placeholders wherever dlt allows them.
  const places: [unknown, NodePath][] = [
    [endpoint.path, ["endpoint", "path"]],
    [params, ["endpoint", "params"]],
    [endpoint.json, ["endpoint", "json"]],
    [endpoint.headers, ["endpoint", "headers"]],
  ];
  for (const [value, base] of places) {
    for (const [text, at] of stringsIn(value)) {
      for (const p of findPlaceholders(text)) {
        const sub = [...base, ...at];
        if (p.name.startsWith(INCREMENTAL_PREFIX)) {
          checkIncremental(p.raw, p.name, endpoint.incremental !== undefined, sub, say);
        } else if (p.name.startsWith(RESOURCES_PREFIX)) {
          const [, parent, ...field] = p.name.split(".");
          if (!parent || field.length === 0) {
            say(
              sub,
              `placeholder "${p.raw}" must name a parent and a field, like "{resources.projects.id}"`,
              p.raw,
            );
          } else if (!bindings.some((b) => b.placeholder === p.name)) {
            bindings.push({
              placeholder: p.name,
              resource: parent,
              field: field.join("."),
              inQuery: false,
              sub,
              needle: p.raw,
            });
          }
        }
      }
    }
  }

  let parent: string | undefined;
  let parentRef: Node["parentRef"];
  for (const b of bindings) {
    if (parent === undefined) {
      parent = b.resource;
      parentRef = { sub: b.sub, needle: b.needle };
    } else if (b.resource !== parent) {
      say(
        b.sub,
        `resource has two parent resources "${parent}" and "${b.resource}" (a child may have one parent)`,
        b.needle,
      );
    }
  }
  if (merged.include_from_parent?.length && parent === undefined) {
    say(["include_from_parent"], `"include_from_parent" needs a parent resource`);
  }

  const wd = merged.write_disposition;
  const disposition = typeof wd === "object" ? wd.disposition : wd ?? "append";
  const strategy = typeof wd === "object" ? wd.strategy : undefined;
  const resource: ResolvedResource = {
    name: merged.name,
    tableName: merged.table_name ?? merged.name,
    writeDisposition: disposition,
    mergeStrategy: disposition === "merge" ? strategy ?? "delete-insert" : undefined,
    replaceStrategy: disposition === "replace" ? strategy : undefined,
    primaryKey: toList(merged.primary_key),
    mergeKey: toList(merged.merge_key),
    columns: merged.columns ?? {},
    maxTableNesting: merged.max_table_nesting,
    schemaContract: merged.schema_contract,
    selected: merged.selected ?? true,
    endpoint: compact({
      ...endpoint,
      path,
      method: endpoint.method ?? "GET",
      params: Object.keys(params).length > 0 ? params : undefined,
      data_selector: dataSelector,
    }),
    paginator,
    parent,
    resolve: bindings.map(({ sub: _sub, needle: _needle, ...binding }) => binding),
    includeFromParent: merged.include_from_parent ?? [],
    scope: merged.scope,
    description: merged.description,
    parallelized: merged.parallelized,
    tableFormat: merged.table_format,
    fileFormat: merged.file_format,
  };
  return { index, resource: compact(resource), parentRef };
}

function checkIncremental(
  raw: string,
  name: string,
  hasIncremental: boolean,
  sub: NodePath,
  say: (sub: NodePath, message: string, needle?: string) => void,
): void {
  const value = name.slice(INCREMENTAL_PREFIX.length);
  if (!INCREMENTAL_NAMES.includes(value)) {
    const known = INCREMENTAL_NAMES.map((n) => INCREMENTAL_PREFIX + n);
    const hint = didYouMean(name, known) || ` (expected one of ${quoteList(known)})`;
    say(sub, `unknown placeholder "${raw}"${hint}`, raw);
  } else if (!hasIncremental) {
    say(sub, `placeholder "${raw}" needs "endpoint.incremental"`, raw);
  }
}

/** Reports unknown parents and cycles. */
function checkParents(nodes: Map<string, Node>, report: GraphReporter): void {
  const names = [...nodes.keys()];
  for (const node of nodes.values()) {
    const parent = node.resource.parent;
    if (parent === undefined || nodes.has(parent)) continue;
    const ref = node.parentRef!;
    report({
      index: node.index,
      sub: ref.sub,
      message: `unknown parent resource "${parent}"${didYouMean(parent, names)}`,
      needle: ref.needle,
    });
    node.resource.parent = undefined;
  }
  const inCycle = new Set<string>();
  for (const start of nodes.values()) {
    const chain: string[] = [];
    let name: string | undefined = start.resource.name;
    while (name !== undefined && !chain.includes(name) && !inCycle.has(name)) {
      chain.push(name);
      name = nodes.get(name)?.resource.parent;
    }
    if (name === undefined || inCycle.has(name)) continue;
    const cycle = chain.slice(chain.indexOf(name));
    const first = cycle.reduce((a, b) => (nodes.get(a)!.index <= nodes.get(b)!.index ? a : b));
    const rotated = [...cycle.slice(cycle.indexOf(first)), ...cycle.slice(0, cycle.indexOf(first))];
    const shown = [...rotated, first].map((n) => `"${n}"`).join(" → ");
    const node = nodes.get(first)!;
    report({
      index: node.index,
      sub: node.parentRef!.sub,
      message: `parent resources form a cycle: ${shown}`,
      needle: node.parentRef!.needle,
    });
    for (const n of cycle) inCycle.add(n);
  }
  for (const n of inCycle) nodes.get(n)!.resource.parent = undefined;
}

function orderParentsFirst(nodes: Map<string, Node>): ResolvedResource[] {
  const out: ResolvedResource[] = [];
  const done = new Set<string>();
  const visit = (node: Node) => {
    if (done.has(node.resource.name)) return;
    done.add(node.resource.name);
    const parent = node.resource.parent;
    if (parent !== undefined) visit(nodes.get(parent)!);
    out.push(node.resource);
  };
  for (const node of [...nodes.values()].sort((a, b) => a.index - b.index)) visit(node);
  return out;
}

function isTyped(value: unknown): value is { type: "resolve" | "incremental" } {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    "type" in value;
}

function toList(key: string | string[] | undefined): string[] {
  return key === undefined ? [] : typeof key === "string" ? [key] : [...key];
}

/** The object without its `undefined` fields (so results compare and print cleanly). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
