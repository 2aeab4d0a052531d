/**
 * Parent→child binding: `{resources.<parent>.<field>}` placeholders (and dlt's legacy
 * `{type: resolve}` params) filled from a parent record, and `include_from_parent`.
 *
 * @module
 */

import type { Json, ResolvedResource } from "../catalog/types.ts";
import { UserError } from "../common/errors.ts";
import { redact } from "../common/redact.ts";
import type { HttpRequest } from "./http_client.ts";
import { getField } from "./selector.ts";

/** The parent record a child request series is made for. */
export interface ParentRecord {
  /** Parent resource name. */
  name: string;
  record: Json;
  /** The parent record of the series `record` came from, when that series is a child's. */
  up?: ParentRecord;
}

/** Values placeholders may take besides parent fields. */
export interface TemplateContext {
  parent?: ParentRecord;
  /** Legacy bindings and other named values: `{id}` → `named.id`. */
  named?: Record<string, Json>;
  /** `{incremental.start_value}` and friends. */
  incremental?: Record<string, Json>;
  /** Extra: `{config.<key>}` values (`[sources.gitlab.params]`). */
  config?: Record<string, Json>;
  /** Resource name, for messages. */
  resource: string;
  /** Where the template is (`path`, `params.iid`, …), for messages. */
  where: string;
}

const PLACEHOLDER = /\{\{|\}\}|\{([^{}]*)\}/g;
const RESOURCES_PREFIX = "resources.";
const CONFIG_PREFIX = "config.";

/**
 * Config keys named by `{config.<key>}` placeholders of a resource (path, params, json,
 * headers): user values it needs from `[sources.gitlab.params]`.
 */
export function configKeysOf(resource: ResolvedResource): string[] {
  const texts = [
    resource.endpoint.path,
    JSON.stringify(resource.endpoint.params ?? {}),
    JSON.stringify(resource.endpoint.json ?? null),
    JSON.stringify(resource.endpoint.headers ?? {}),
  ];
  const keys = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(PLACEHOLDER)) {
      const expr = m[1]?.trim();
      if (expr?.startsWith(CONFIG_PREFIX)) keys.add(expr.slice(CONFIG_PREFIX.length));
    }
  }
  return [...keys];
}

/** Names of the parents referenced by `{resources.<parent>.<field>}` in a string. */
export function referencedParents(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const expr = m[1]?.trim();
    if (expr?.startsWith(RESOURCES_PREFIX)) {
      out.push(expr.slice(RESOURCES_PREFIX.length).split(".")[0]);
    }
  }
  return out;
}

/** A short description of a record for messages: its id and path when it has them. */
export function describeRecord(record: Json): string {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    return redact(JSON.stringify(record)).slice(0, 60);
  }
  const parts: string[] = [];
  for (const key of ["id", "iid"]) {
    if (record[key] !== undefined) parts.push(`${key} ${record[key]}`);
  }
  for (const key of ["path_with_namespace", "full_path", "name"]) {
    if (typeof record[key] === "string") {
      parts.push(`"${record[key]}"`);
      break;
    }
  }
  return parts.length > 0 ? parts.join(" ") : redact(JSON.stringify(record)).slice(0, 60);
}

function evaluate(expr: string, ctx: TemplateContext): Json {
  if (expr.startsWith(RESOURCES_PREFIX)) {
    const rest = expr.slice(RESOURCES_PREFIX.length);
    const dot = rest.indexOf(".");
    const parentName = dot < 0 ? rest : rest.slice(0, dot);
    const field = dot < 0 ? "" : rest.slice(dot + 1);
    if (!ctx.parent || ctx.parent.name !== parentName || field === "") {
      throw new UserError(
        `Cannot resolve "{${expr}}" in ${ctx.where} of resource "${ctx.resource}": ${
          field === "" ? "no field given" : `"${parentName}" is not the parent of this resource`
        }`,
      );
    }
    const { found, value } = getField(ctx.parent.record, field);
    if (!found) {
      throw new UserError(
        `Cannot resolve "{${expr}}" in ${ctx.where} of resource "${ctx.resource}": field "${field}" is missing in the record of parent resource "${parentName}" (${
          describeRecord(ctx.parent.record)
        })`,
      );
    }
    return value;
  }
  if (expr.startsWith("incremental.")) {
    const key = expr.slice("incremental.".length);
    if (ctx.incremental && Object.hasOwn(ctx.incremental, key)) return ctx.incremental[key];
  } else if (expr.startsWith(CONFIG_PREFIX)) {
    const key = expr.slice(CONFIG_PREFIX.length);
    if (ctx.config && Object.hasOwn(ctx.config, key)) return ctx.config[key];
    throw new UserError(
      `Cannot resolve "{${expr}}" in ${ctx.where} of resource "${ctx.resource}": set [sources.gitlab.params] ${key}`,
    );
  } else if (ctx.named && Object.hasOwn(ctx.named, expr)) {
    return ctx.named[expr];
  }
  throw new UserError(
    `Cannot resolve "{${expr}}" in ${ctx.where} of resource "${ctx.resource}": unknown placeholder`,
  );
}

function asText(value: Json): string {
  return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * Fills the placeholders of a string. `{{` and `}}` are literal braces. With `encode`, values
 * are URL-encoded (a path segment: `group/sub/proj` → `group%2Fsub%2Fproj`).
 *
 * @example
 * ```ts
 * expandTemplate("projects/{resources.projects.id}/issues", {
 *   parent: { name: "projects", record: { id: 7 } }, resource: "issues", where: "path",
 * }, true); // "projects/7/issues"
 * ```
 */
export function expandTemplate(text: string, ctx: TemplateContext, encode = false): string {
  return text.replace(PLACEHOLDER, (whole, expr: string | undefined) => {
    if (whole === "{{") return "{";
    if (whole === "}}") return "}";
    const s = asText(evaluate(expr!.trim(), ctx));
    return encode ? encodeURIComponent(s) : s;
  });
}

/** Fills placeholders in a JSON value; a string that is one placeholder keeps the value's type. */
export function expandJson(value: Json, ctx: TemplateContext): Json {
  if (typeof value === "string") {
    const lone = /^\{([^{}]*)\}$/.exec(value);
    if (lone) return evaluate(lone[1].trim(), ctx);
    return expandTemplate(value, ctx);
  }
  if (Array.isArray(value)) return value.map((v) => expandJson(v, ctx));
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = expandJson(v, { ...ctx, where: `${ctx.where}.${k}` });
    }
    return out;
  }
  return value;
}

/**
 * The parent resource of `resource`: `parent` when the catalog set it, else the one its
 * placeholders or legacy bindings name.
 */
export function parentOf(resource: ResolvedResource): string | undefined {
  if (resource.parent) return resource.parent;
  if (resource.resolve.length > 0) return resource.resolve[0].resource;
  const texts = [
    resource.endpoint.path,
    JSON.stringify(resource.endpoint.params ?? {}),
    JSON.stringify(resource.endpoint.json ?? null),
    JSON.stringify(resource.endpoint.headers ?? {}),
  ];
  return texts.flatMap(referencedParents)[0];
}

function isResolveParam(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    ((v as { type?: unknown }).type === "resolve" ||
      (v as { type?: unknown }).type === "incremental");
}

/** Options of {@linkcode buildRequest}. */
export interface BuildRequestOptions {
  /** The parent record (child resources). */
  parent?: ParentRecord;
  /** Values of `{incremental.*}` placeholders. @default {undefined} */
  incremental?: Record<string, Json>;
  /** Values of `{config.*}` placeholders. @default {undefined} */
  config?: Record<string, Json>;
}

/**
 * The first request of a resource's request series: path, params, JSON body and headers with
 * every placeholder filled from the parent record; legacy `resolve` bindings go into the path
 * (`{name}`, URL-encoded) or a query parameter.
 *
 * @example
 * ```ts
 * buildRequest(issues, { parent: { name: "projects", record: { id: 7 } } });
 * // { url: "projects/7/issues", method: "GET", params: { state: "all" }, ... }
 * ```
 */
export function buildRequest(
  resource: ResolvedResource,
  options: BuildRequestOptions = {},
): HttpRequest {
  const { parent } = options;
  const named: Record<string, Json> = {};
  const query: Record<string, Json> = {};
  for (const b of resource.resolve) {
    if (b.placeholder.startsWith(RESOURCES_PREFIX) && !b.inQuery) continue;
    if (!parent || parent.name !== b.resource) {
      throw new UserError(
        `Cannot resolve "${b.placeholder}" of resource "${resource.name}": no record of parent resource "${b.resource}"`,
      );
    }
    const { found, value } = getField(parent.record, b.field);
    if (!found) {
      throw new UserError(
        `Cannot resolve "${b.placeholder}" of resource "${resource.name}": field "${b.field}" is missing in the record of parent resource "${b.resource}" (${
          describeRecord(parent.record)
        })`,
      );
    }
    if (b.inQuery) query[b.param ?? b.placeholder] = value;
    else named[b.placeholder] = value;
  }
  const base = {
    parent,
    named,
    incremental: options.incremental,
    config: options.config,
    resource: resource.name,
  };
  const params: Record<string, Json> = {};
  for (const [k, v] of Object.entries(resource.endpoint.params ?? {})) {
    if (isResolveParam(v)) {
      const inc = v as { type: string; initial_value?: Json };
      if (inc.type === "incremental" && inc.initial_value !== undefined) {
        params[k] = inc.initial_value;
      }
      continue;
    }
    params[k] = expandJson(v as Json, { ...base, where: `params.${k}` });
  }
  Object.assign(params, query);
  const request: HttpRequest = {
    url: expandTemplate(resource.endpoint.path, { ...base, where: "path" }, true),
    method: resource.endpoint.method,
    params,
  };
  if (resource.endpoint.json !== undefined) {
    request.json = expandJson(resource.endpoint.json, { ...base, where: "json" });
  }
  if (resource.endpoint.headers) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(resource.endpoint.headers)) {
      headers[k] = expandTemplate(v, { ...base, where: `headers.${k}` });
    }
    request.headers = headers;
  }
  return request;
}

/**
 * A child record with the parent's `include_from_parent` fields added as
 * `_<parent_resource_name>_<field>` (dlt's naming).
 *
 * @example
 * ```ts
 * includeFromParent({ id: 1 }, { name: "projects", record: { id: 7 } }, ["id"]);
 * // { id: 1, _projects_id: 7 }
 * ```
 */
export function includeFromParent(record: Json, parent: ParentRecord, fields: string[]): Json {
  if (fields.length === 0) return record;
  const base: { [key: string]: Json } =
    typeof record === "object" && record !== null && !Array.isArray(record)
      ? { ...record }
      : { value: record };
  for (const field of fields) {
    const { found, value } = getField(parent.record, field);
    if (!found) {
      throw new UserError(
        `Cannot include field "${field}" from parent resource "${parent.name}": it is missing in the parent record (${
          describeRecord(parent.record)
        })`,
      );
    }
    base[`_${parent.name}_${field}`] = value;
  }
  return base;
}
