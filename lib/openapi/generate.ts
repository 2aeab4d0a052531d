/**
 * OpenAPI 3 → catalog, with dlt-init-openapi's rules (reference/dlt.md §8): names from the
 * response schema, data_selector, paginator detection, parent→child `resolve`, primary keys and
 * merge, `FILL_ME_IN` for required values.
 *
 * @module
 */

import type { PaginatorConfig } from "../catalog/types.ts";
import { refName, singular, snakeCase } from "./naming.ts";

/** A JSON Schema object of the spec (only the keys the generator reads). */
export interface SchemaObject {
  $ref?: string;
  type?: string;
  title?: string;
  format?: string;
  description?: string;
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  default?: unknown;
  allOf?: SchemaObject[];
}

interface ParameterObject {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: SchemaObject;
  $ref?: string;
}

interface OperationObject {
  operationId?: string;
  summary?: string;
  description?: string;
  parameters?: ParameterObject[];
  responses?: Record<string, { content?: Record<string, { schema?: SchemaObject }> }>;
}

/** The parts of an OpenAPI 3 document the generator reads. */
export interface OpenApiSpec {
  openapi?: string;
  swagger?: string;
  info?: { title?: string };
  servers?: { url?: string }[];
  security?: Record<string, unknown>[];
  paths?: Record<string, Record<string, OperationObject | ParameterObject[]>>;
  components?: {
    schemas?: Record<string, SchemaObject>;
    parameters?: Record<string, ParameterObject>;
    securitySchemes?: Record<
      string,
      { type?: string; in?: string; name?: string; scheme?: string }
    >;
  };
}

/** One param of a generated resource. */
export type GeneratedParam =
  | { kind: "resolve"; name: string; resource: string; field: string }
  | { kind: "fill"; name: string; where: "path" | "query" }
  | { kind: "value"; name: string; value: unknown }
  | { kind: "optional"; name: string; value: unknown };

/** One generated resource. */
export interface GeneratedResource {
  name: string;
  tableName: string;
  description?: string;
  path: string;
  primaryKey?: string;
  dataSelector: string;
  /** Own paginator when it differs from the client's. */
  paginator?: PaginatorConfig;
  /** Whether the operation has any parameter (then `params` is written, maybe `{}`). */
  hasParams: boolean;
  params: GeneratedParam[];
  /** False for a parent included only because a selected child needs it. */
  selected: boolean;
}

/** The generated catalog, ready to render. */
export interface GeneratedCatalog {
  sourceName: string;
  title?: string;
  server?: string;
  auth?: { type: "api_key"; name: string; location: string } | { type: "bearer" } | {
    type: "http_basic";
  };
  paginator?: PaginatorConfig;
  resources: GeneratedResource[];
  /** What the generator noticed (unsupported spec parts, skipped endpoints). */
  warnings: string[];
}

/** Options of {@linkcode generateCatalog}. */
export interface GenerateCatalogOptions {
  /** Source (and schema) name. @default {"<spec title>_source" in snake_case, or "openapi_source"} */
  sourceName?: string;
  /**
   * Only endpoints whose path matches one of these globs (`*` matches anything, `/` included;
   * a pattern between slashes is a regular expression). Parents that selected children need are
   * included with `selected: false`. @default {every GET endpoint}
   */
  paths?: string[];
}

const PK_NAMES = ["id", "pk", "unique", "identifier", "primary_key"];
const CURSOR_PARAM = /^(cursor|after|since)$/;
const CURSOR_PROP = /^(cursor|next_cursor)$/;
const OFFSET_PARAM = /^(start|offset|skip)$/;
const LIMIT_PARAM = /^(limit|per_page|page_size|size)$/;
const PAGE_PARAM = /^(page|page_number)$/;
const OFFSET_TOTAL = /^(total|count|total_count|totalRecords|totalItems)$/;
const PAGE_TOTAL = /^(total|count|totalPages)$/;
const NEXT_PROP = /^(next|next_url|more)$/;

interface Endpoint {
  path: string;
  op: OperationObject;
  params: ParameterObject[];
  schema?: SchemaObject;
  /** Schema of one record (items of the selected array, or the object). */
  record?: SchemaObject;
  /** Name of the record schema (ref name or title). */
  recordName?: string;
  isArray: boolean;
  dataSelector: string;
  paginator?: PaginatorConfig;
  name: string;
  tableName: string;
  primaryKey?: string;
}

function globToRegExp(glob: string): RegExp {
  if (glob.length > 2 && glob.startsWith("/") && glob.endsWith("/")) {
    return new RegExp(glob.slice(1, -1));
  }
  const body = glob.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`);
}

/**
 * Generates a catalog from an OpenAPI 3 document: one resource per GET operation that returns
 * JSON, sorted by table name (spec order within a table).
 *
 * @example
 * ```ts
 * const spec = parse(await Deno.readTextFile("gitlab-openapi.yaml"));
 * const catalog = generateCatalog(spec, { sourceName: "gitlab_source" });
 * catalog.resources[0].tableName; // "api_entities_appearance"
 * ```
 */
export function generateCatalog(
  spec: OpenApiSpec,
  options: GenerateCatalogOptions = {},
): GeneratedCatalog {
  const warnings: string[] = [];
  const schemas = spec.components?.schemas ?? {};
  const deref = (s: SchemaObject | undefined, depth = 0): SchemaObject | undefined => {
    if (!s || depth > 20) return s;
    if (s.$ref) return deref(schemas[refName(s.$ref)], depth + 1);
    if (s.allOf?.length) {
      const merged: SchemaObject = { type: "object", properties: {} };
      for (const part of s.allOf) {
        Object.assign(merged.properties!, deref(part, depth + 1)?.properties);
      }
      return merged;
    }
    return s;
  };
  const nameOf = (s: SchemaObject | undefined): string | undefined =>
    s?.$ref ? refName(s.$ref) : s?.title;
  const paramOf = (p: ParameterObject): ParameterObject =>
    p.$ref ? spec.components?.parameters?.[refName(p.$ref)] ?? p : p;

  const endpoints: Endpoint[] = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    const op = item.get as OperationObject | undefined;
    if (!op || Array.isArray(op)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters.map(paramOf) : [];
    const own = (op.parameters ?? []).map(paramOf);
    const params = [...own, ...shared.filter((s) => !own.some((o) => o.name === s.name))];
    const ok = Object.entries(op.responses ?? {}).find(([code]) => /^2/.test(code))?.[1];
    const content = ok?.content ?? {};
    const media = Object.keys(content).find((k) => k.includes("json"));
    if (!media) {
      warnings.push(`Skipped "GET ${path}": no JSON response`);
      continue;
    }
    const schema = content[media].schema;
    endpoints.push(describe(path, op, params, schema));
  }

  function describe(
    path: string,
    op: OperationObject,
    params: ParameterObject[],
    schema: SchemaObject | undefined,
  ): Endpoint {
    const resolved = deref(schema);
    const isArray = resolved?.type === "array";
    const query = params.filter((p) => p.in === "query");
    const recordProps = (s: SchemaObject | undefined) => deref(s)?.properties ?? {};
    const paginator = detectPaginator(query, isArray ? {} : recordProps(schema));
    const single = /\{[^}]*\}$/.test(path.replace(/\/+$/, ""));
    const expectList = paginator !== undefined || !single;
    let dataSelector = "$";
    let record: SchemaObject | undefined = isArray ? resolved?.items : schema;
    if (!isArray && expectList) {
      const found = findArray(schema);
      if (found) {
        dataSelector = found.path;
        record = found.items;
      }
    }
    const recordName = nameOf(record) ?? (isArray ? undefined : nameOf(schema));
    const lastSegment = path.split("/").filter((s) => s && !s.startsWith("{")).pop() ?? "data";
    const tableName = snakeCase(recordName ?? singular(lastSegment));
    const name = op.operationId
      ? snakeCase(op.operationId)
      : snakeCase(`get ${path.replace(/[{}]/g, "")}`);
    const primaryKey = detectPrimaryKey(path, recordProps(record), recordName);
    return {
      path,
      op,
      params,
      schema,
      record,
      recordName,
      isArray,
      dataSelector,
      paginator,
      name,
      tableName,
      primaryKey,
    };
  }

  function findArray(
    schema: SchemaObject | undefined,
  ): { path: string; items?: SchemaObject } | undefined {
    // Breadth first: the least nested array property wins; then through object wrappers.
    let level: { path: string[]; schema: SchemaObject | undefined }[] = [{ path: [], schema }];
    for (let depth = 0; depth < 4 && level.length > 0; depth++) {
      const next: typeof level = [];
      for (const { path, schema } of level) {
        for (const [key, prop] of Object.entries(deref(schema)?.properties ?? {})) {
          const p = deref(prop);
          if (p?.type === "array") return { path: [...path, key].join("."), items: p.items };
          if (p?.properties) next.push({ path: [...path, key], schema: prop });
        }
      }
      level = next;
    }
    return undefined;
  }

  function detectPaginator(
    query: ParameterObject[],
    props: Record<string, SchemaObject>,
  ): PaginatorConfig | undefined {
    const names = query.map((p) => p.name);
    const propNames = Object.keys(props);
    const cursor = names.find((n) => CURSOR_PARAM.test(n));
    if (cursor) {
      const prop = propNames.find((p) => p === cursor) ??
        propNames.find((p) => CURSOR_PROP.test(p));
      if (prop) return { type: "cursor", cursor_path: prop, cursor_param: cursor };
    }
    const offset = names.find((n) => OFFSET_PARAM.test(n));
    const limit = query.find((p) => LIMIT_PARAM.test(p.name));
    if (offset && limit) {
      const s = limit.schema as (SchemaObject & { maximum?: number }) | undefined;
      const value = s?.maximum ?? (typeof s?.default === "number" ? s.default : 20);
      const total = propNames.find((p) => OFFSET_TOTAL.test(p));
      return {
        type: "offset",
        limit: value,
        offset_param: offset,
        limit_param: limit.name,
        total_path: total ?? "",
        ...(total ? {} : { maximum_offset: 20 }),
      };
    }
    const page = names.find((n) => PAGE_PARAM.test(n));
    if (page) {
      const total = propNames.find((p) =>
        PAGE_TOTAL.test(p) && /integer|number/.test(props[p].type ?? "")
      );
      return {
        type: "page_number",
        page_param: page,
        total_path: total ?? "",
        ...(total ? {} : { maximum_page: 20 }),
      };
    }
    const next = propNames.find((p) => NEXT_PROP.test(p) && props[p].type === "string");
    if (next) return { type: "json_response", next_url_path: next };
    return undefined;
  }

  function detectPrimaryKey(
    path: string,
    props: Record<string, SchemaObject>,
    modelName: string | undefined,
  ): string | undefined {
    const names = Object.keys(props);
    if (names.length === 0) return undefined;
    const has = (n: string) => names.find((p) => p.toLowerCase() === n.toLowerCase());
    for (const n of PK_NAMES) if (has(n)) return has(n);
    const vars = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const lastVar = vars[vars.length - 1];
    if (lastVar && has(lastVar)) return has(lastVar);
    const segment = path.split("/").filter((s) => s && !s.startsWith("{")).pop();
    const words = [modelName ? snakeCase(modelName).split("_").pop()! : "", segment ?? ""]
      .filter(Boolean)
      .flatMap((w) => [w, singular(w)]);
    for (const w of words) {
      for (const sep of ["", "-", "_"]) {
        for (const suffix of ["id", "pk"]) {
          const hit = has(`${w}${sep}${suffix}`) ?? has(`${suffix}${sep}${w}`);
          if (hit) return hit;
        }
      }
    }
    for (const n of names) {
      if (/\b(unique|identifier)\b/i.test(props[n].description ?? "")) return n;
    }
    for (const n of names) if (props[n].format === "uuid") return n;
    return undefined;
  }

  // Parent of each endpoint: the nearest ancestor path that is a list (array) endpoint.
  const byPath = new Map(endpoints.map((e) => [e.path, e]));
  const parentOf = (e: Endpoint): Endpoint | undefined => {
    const segments = e.path.split("/");
    for (let n = segments.length - 1; n > 1; n--) {
      const candidate = byPath.get(segments.slice(0, n).join("/"));
      if (candidate?.isArray) return candidate;
    }
    return undefined;
  };

  // The most frequent paginator goes to the client (unique or strictly most common).
  const counts = new Map<string, number>();
  for (const e of endpoints) {
    if (e.paginator) {
      const key = JSON.stringify(e.paginator);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const clientPaginator = ranked.length > 0 && (ranked.length === 1 || ranked[0][1] > ranked[1][1])
    ? JSON.parse(ranked[0][0]) as PaginatorConfig
    : undefined;

  const build = (e: Endpoint, selected: boolean): GeneratedResource => {
    const vars = [...e.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const lastVar = vars[vars.length - 1];
    const parent = parentOf(e);
    let binding: GeneratedParam | undefined;
    if (parent && lastVar) {
      const props = Object.keys(deref(parent.record)?.properties ?? {});
      const field = props.find((p) => p.toLowerCase() === lastVar.toLowerCase()) ??
        parent.primaryKey;
      if (field) binding = { kind: "resolve", name: lastVar, resource: parent.name, field };
    }
    const pageParam = clientPaginator?.page_param ?? e.paginator?.page_param;
    const offsetParam = e.paginator?.offset_param;
    const cursorParam = e.paginator?.cursor_param;
    const skip = new Set([pageParam, offsetParam, cursorParam].filter((x) => x !== undefined));
    const params: GeneratedParam[] = binding ? [binding] : [];
    const optional: GeneratedParam[] = [];
    for (const p of e.params) {
      if (binding && p.name === binding.name) continue;
      if (p.in === "path") {
        params.push({ kind: "fill", name: p.name, where: "path" });
      } else if (p.in === "query") {
        if (skip.has(p.name)) continue;
        const def = p.schema?.default;
        if (p.required) {
          params.push(
            def !== undefined
              ? { kind: "value", name: p.name, value: def }
              : { kind: "fill", name: p.name, where: "query" },
          );
        } else {
          optional.push({ kind: "optional", name: p.name, value: def ?? "OPTIONAL_CONFIG" });
        }
      }
    }
    const own = e.paginator && JSON.stringify(e.paginator) !== JSON.stringify(clientPaginator)
      ? e.paginator
      : undefined;
    return {
      name: e.name,
      tableName: e.tableName,
      description: e.op.description ?? e.op.summary,
      path: e.path,
      primaryKey: e.primaryKey,
      dataSelector: e.dataSelector,
      paginator: own,
      hasParams: e.params.length > 0,
      params: [...params, ...optional],
      selected,
    };
  };

  let chosen = endpoints;
  const selectedPaths = new Set(endpoints.map((e) => e.path));
  if (options.paths && options.paths.length > 0) {
    const patterns = options.paths.map(globToRegExp);
    const picked = endpoints.filter((e) => patterns.some((re) => re.test(e.path)));
    if (picked.length === 0) {
      warnings.push(`No endpoint matches ${options.paths.map((p) => `"${p}"`).join(", ")}`);
    }
    selectedPaths.clear();
    for (const e of picked) selectedPaths.add(e.path);
    const needed = new Set(picked.map((e) => e.path));
    for (const e of picked) {
      for (let p = parentOf(e); p; p = parentOf(p)) needed.add(p.path);
    }
    chosen = endpoints.filter((e) => needed.has(e.path));
  }
  const resources = chosen.map((e) => build(e, selectedPaths.has(e.path)))
    .map((r, i) => ({ r, i }))
    .sort((a, b) =>
      a.r.tableName < b.r.tableName ? -1 : a.r.tableName > b.r.tableName ? 1 : a.i - b.i
    )
    .map(({ r }) => r);
  // A parent needed only for its children, but with nothing to bind them, still runs.
  const names = new Set<string>();
  for (const r of resources) {
    if (names.has(r.name)) warnings.push(`Two endpoints make resource "${r.name}"`);
    names.add(r.name);
  }

  return {
    sourceName: options.sourceName ??
      (spec.info?.title ? `${sourceBase(spec.info.title)}_source` : "openapi_source"),
    title: spec.info?.title,
    server: spec.servers?.[0]?.url,
    auth: detectAuth(spec),
    paginator: clientPaginator,
    resources,
    warnings,
  };
}

/** `GitLab API` → `gitlab`, as a user would name the source. */
function sourceBase(title: string): string {
  const base = title.replace(/\bapi\b/gi, "").toLowerCase().replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return base || "openapi";
}

function detectAuth(spec: OpenApiSpec): GeneratedCatalog["auth"] {
  const schemes = spec.components?.securitySchemes ?? {};
  const wanted = (spec.security ?? []).flatMap((s) => Object.keys(s));
  const order = [...wanted, ...Object.keys(schemes)];
  for (const name of order) {
    const s = schemes[name];
    if (!s) continue;
    if (s.type === "apiKey" && s.name) {
      return { type: "api_key", name: s.name, location: s.in ?? "header" };
    }
    if (s.type === "http" && s.scheme?.toLowerCase() === "bearer") return { type: "bearer" };
    if (s.type === "http" && s.scheme?.toLowerCase() === "basic") return { type: "http_basic" };
  }
  return undefined;
}
