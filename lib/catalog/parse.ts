/**
 * Reads a catalog from YAML text through all phases: read with positions → validate → defaults →
 * resource graph. Every problem of every phase is collected and thrown at once.
 *
 * @module
 */

import { isMap, isScalar, isSeq, type Node } from "yaml";
import { CatalogError, type CatalogProblem } from "../common/errors.ts";
import { sourceSettings } from "./defaults.ts";
import { buildGraph } from "./graph.ts";
import { problemAt, readCatalogSource } from "./read.ts";
import { CATALOG, MERGE_STRATEGIES, REPLACE_STRATEGIES } from "./schema.ts";
import type { Catalog, ClientConfig, ResourceConfig, RestApiConfig } from "./types.ts";
import { INVALID, type NodePath, pathKey, Validation } from "./validate.ts";

/** Options of {@linkcode parseCatalog}. */
export interface ParseCatalogOptions {
  /**
   * File name shown in problems and kept in {@linkcode Catalog.file}.
   * @default {"<catalog>"}
   */
  file?: string;
  /**
   * The table name a resource's `table_name` (or name) becomes in the destination (the naming
   * convention, which the catalog layer does not hold): a name that becomes nothing, or one of
   * dlt's `_dlt_` names, is then a problem here instead of a failed load.
   * @default {no such check}
   */
  tableName?: (name: string) => string;
}

/**
 * Parses, validates and resolves a catalog written in dlt's `rest_api` vocabulary.
 *
 * @throws {CatalogError} with every problem found, in file order.
 *
 * @example
 * ```ts
 * const catalog = parseCatalog(
 *   "client: {paginator: gitlab}\nresources:\n  - projects\n  - name: issues\n" +
 *     "    endpoint: projects/{resources.projects.id}/issues\n",
 *   { file: "gitlab.yaml" },
 * );
 * catalog.resources.map((r) => `${r.name}<-${r.parent ?? ""}`); // ["projects<-", "issues<-projects"]
 * ```
 */
export function parseCatalog(text: string, options: ParseCatalogOptions = {}): Catalog {
  const file = options.file ?? "<catalog>";
  const { source, problems: syntax } = readCatalogSource(text, { file });
  if (syntax.length > 0) throw new CatalogError(inFileOrder(syntax));

  const root = source.document.contents as Node | null;
  const names = resourceNames(root);
  const validation = new Validation(source, (path) => describe(path, names));
  const problems = validation.problems;
  if (root === null || (isScalar(root) && root.value === null)) {
    problems.push(problemAt(
      source,
      'Cannot read catalog: the file is empty, expected a map with "client" and "resources"',
      { node: root },
    ));
    throw new CatalogError(problems);
  }
  const checked = validation.check(root, [], CATALOG);
  const config = (checked === INVALID ? {} : checked) as Partial<RestApiConfig>;
  if (isMap(root)) {
    for (const key of ["client", "resources"]) {
      if (!root.has(key)) {
        validation.report(root, [], `missing required key "${key}"`);
      }
    }
    const list = root.get("resources", true);
    if (isSeq(list) && list.items.length === 0) {
      // a run of it would load an empty package: nothing a user means
      validation.report(list as Node, ["resources"], `{subject:}the list is empty: add a resource`);
    }
  }
  checkPaginatorAliases(validation);
  checkStrategies(validation, names.length);

  const client: ClientConfig = config.client ?? {};
  // `auth: bearer` is dlt's type name alone: its secret comes from the config, as in dlt
  const authType: unknown = client.auth;
  if (typeof authType === "string") client.auth = { type: authType } as ClientConfig["auth"];
  const items = names.map((_, index) => ({
    index,
    item: validation.value(["resources", index]) as ResourceConfig | string | undefined,
  })).filter((entry): entry is { index: number; item: ResourceConfig | string } =>
    entry.item !== undefined
  );
  const resources = buildGraph(
    { items, client, resourceDefaults: config.resource_defaults, tableName: options.tableName },
    ({ index, sub, message, needle }) => {
      const node = locate(validation, index, sub);
      const name = names[index] === undefined ? `#${index + 1}` : `"${names[index]}"`;
      problems.push(
        problemAt(source, `Cannot read resource ${name}: ${message}`, { node, needle }),
      );
    },
  );

  if (problems.length > 0) throw new CatalogError(inFileOrder(problems));
  return { file, ...sourceSettings(config), client, resources };
}

/** Problems sorted by position; the same message at the same place is kept once. */
function inFileOrder(problems: CatalogProblem[]): CatalogProblem[] {
  const seen = new Set<string>();
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
    .map(({ p }) => p)
    .filter((p) => {
      const key = `${p.line}:${p.col}:${p.message.replace(/^[^:]*: /, "")}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** Resource names by index, read before validation so messages can name resources. */
function resourceNames(root: Node | null): (string | undefined)[] {
  const list = isMap(root) ? root.get("resources", true) : undefined;
  if (!isSeq(list)) return [];
  return list.items.map((item) => {
    const name = isMap(item) ? item.get("name", true) : item;
    return isScalar(name) && typeof name.value === "string" ? name.value : undefined;
  });
}

/** Message prefix and subject for a document path. */
function describe(
  path: NodePath,
  names: (string | undefined)[],
): { prefix: string; subject: string } {
  const [section, index] = path;
  if (section === "resources" && typeof index === "number") {
    const name = names[index] === undefined ? `#${index + 1}` : `"${names[index]}"`;
    return { prefix: `Cannot read resource ${name}`, subject: dotted(path.slice(2)) };
  }
  if ((section === "client" || section === "resource_defaults") && path.length > 1) {
    return { prefix: `Cannot read ${section}`, subject: dotted(path.slice(1)) };
  }
  return { prefix: "Cannot read catalog", subject: dotted(path) };
}

function dotted(path: NodePath): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");
}

/** The node of a graph problem: in the resource, else in `resource_defaults`, else the resource. */
function locate(validation: Validation, index: number, sub: NodePath): Node | undefined {
  const candidates: NodePath[] = [["resources", index, ...sub]];
  if (sub[0] === "endpoint" && sub[1] === "path") {
    candidates.push(["resources", index, "endpoint"]);
  }
  candidates.push(["resource_defaults", ...sub], ["resources", index, "name"], [
    "resources",
    index,
  ]);
  for (const path of candidates) {
    const node = validation.nodes.get(pathKey(path));
    if (node) return node;
  }
  return undefined;
}

/** `paginator: offset` as a string: dlt's offset paginator cannot run without `limit`. */
function checkPaginatorAliases(validation: Validation): void {
  for (const [key, node] of validation.nodes) {
    const path = JSON.parse(key) as NodePath;
    if (path[path.length - 1] === "paginator" && isScalar(node) && node.value === "offset") {
      validation.report(
        node,
        path,
        '{subject:}"offset" needs a "limit": write {type: offset, limit: 100}',
      );
    }
  }
}

/** A `strategy` must belong to its `disposition`. */
function checkStrategies(validation: Validation, resourceCount: number): void {
  const places: NodePath[] = [["resource_defaults"]];
  for (let i = 0; i < resourceCount; i++) places.push(["resources", i]);
  for (const path of places) {
    const resource = validation.value(path);
    const wd = (resource as ResourceConfig | undefined)?.write_disposition;
    if (typeof wd !== "object" || wd.strategy === undefined) continue;
    const allowed: readonly string[] = wd.disposition === "merge"
      ? MERGE_STRATEGIES
      : wd.disposition === "replace"
      ? REPLACE_STRATEGIES
      : [];
    if (allowed.includes(wd.strategy)) continue;
    const at = [...path, "write_disposition", "strategy"];
    validation.report(
      validation.nodes.get(pathKey(at)),
      at,
      `{subject:}"${wd.strategy}" does not apply to disposition "${wd.disposition}"` +
        (allowed.length ? ` (expected one of ${allowed.map((s) => `"${s}"`).join(", ")})` : ""),
    );
  }
}
