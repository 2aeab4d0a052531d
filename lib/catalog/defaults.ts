/**
 * Phase 3 of reading a catalog: dlt's defaults. `resource_defaults` merged into each resource,
 * string forms expanded, single-entity endpoints detected, the effective paginator chosen.
 *
 * @module
 */

import type {
  ClientConfig,
  ColumnHint,
  EndpointConfig,
  PaginatorConfig,
  ResourceConfig,
  RestApiConfig,
} from "./types.ts";
import { isSingleEntityPath } from "./_placeholders.ts";

/** The default source (and schema) name. */
export const DEFAULT_SOURCE_NAME = "gitlab";
/** The default source-level `max_table_nesting`, as the seed's `@dlt.source`. */
export const DEFAULT_MAX_TABLE_NESTING = 2;

/** A resource after defaults: the endpoint is always a map with a path. */
export type MergedResource = Omit<ResourceConfig, "endpoint" | "columns"> & {
  endpoint: EndpointConfig & { path: string };
  columns?: Record<string, ColumnHint>;
};

/**
 * Expands one `resources` item and merges `resource_defaults` into it, as dlt's
 * `_merge_resource_endpoints`: `endpoint.params` and `endpoint.json` merged key by key, `columns`
 * merged column by column (hints merged), everything else shallow; the resource wins. A string
 * item is the name and the path; an endpoint string is the path; a missing path is the name
 * (also when `resource_defaults` has one, as in dlt).
 *
 * @example
 * ```ts
 * const merged = mergeResourceDefaults("issues", {
 *   endpoint: { params: { per_page: 100 } },
 *   write_disposition: "merge",
 * });
 * merged.endpoint; // { params: { per_page: 100 }, path: "issues" }
 * ```
 */
export function mergeResourceDefaults(
  item: ResourceConfig | string,
  defaults: Partial<ResourceConfig> = {},
): MergedResource {
  const resource: ResourceConfig = typeof item === "string"
    ? { name: item, endpoint: { path: item } }
    : item;
  // a missing path is the name before the defaults are merged (dlt's
  // _make_endpoint_resource): resource_defaults' endpoint.path never reaches a resource
  const own = { path: resource.name, ...endpointObject(resource.endpoint) };
  const base = endpointObject(defaults.endpoint);
  const endpoint: EndpointConfig = { ...base, ...own };
  if (base.params) endpoint.params = { ...base.params, ...own.params };
  if (isRecord(base.json)) {
    endpoint.json = isRecord(own.json) ? { ...base.json, ...own.json } : own.json ?? base.json;
  }
  const merged = { ...defaults, ...resource } as MergedResource;
  const ownColumns = columnsByName(resource.columns);
  const baseColumns = columnsByName(defaults.columns);
  if (baseColumns && ownColumns) {
    const columns = { ...baseColumns };
    for (const [name, hints] of Object.entries(ownColumns)) {
      columns[name] = { ...columns[name], ...hints };
    }
    merged.columns = columns;
  } else if (ownColumns ?? baseColumns) merged.columns = ownColumns ?? baseColumns;
  merged.endpoint = { ...endpoint, path: endpoint.path ?? resource.name };
  return merged;
}

/**
 * The effective paginator of an endpoint: the endpoint's (which includes one from
 * `resource_defaults`), else the client's; a single-entity path (last segment with a placeholder)
 * gets `single_page` instead of the client's. A string is the type; `auto` is `undefined`.
 *
 * @example
 * ```ts
 * effectivePaginator({ path: "projects/{id}" }, { paginator: "header_link" });
 * // { type: "single_page" }
 * ```
 */
export function effectivePaginator(
  endpoint: EndpointConfig & { path: string },
  client: ClientConfig = {},
): PaginatorConfig | undefined {
  const chosen = endpoint.paginator ??
    (isSingleEntityPath(endpoint.path) ? "single_page" : client.paginator);
  const paginator = typeof chosen === "string" ? { type: chosen } : chosen;
  return paginator?.type === "auto" ? undefined : paginator;
}

/**
 * The `data_selector` of an endpoint: its own, else `$` for a single-entity path, else undefined
 * (detected from the response).
 *
 * @example
 * ```ts
 * effectiveDataSelector({ path: "projects/{id}" }); // "$"
 * ```
 */
export function effectiveDataSelector(
  endpoint: EndpointConfig & { path: string },
): string | undefined {
  return endpoint.data_selector ?? (isSingleEntityPath(endpoint.path) ? "$" : undefined);
}

/**
 * The source-level settings with their defaults.
 *
 * @example
 * ```ts
 * sourceSettings({ client: {}, resources: [] }); // { sourceName: "gitlab", maxTableNesting: 2 }
 * ```
 */
export function sourceSettings(
  config: Pick<RestApiConfig, "source_name" | "max_table_nesting" | "limit">,
): { sourceName: string; maxTableNesting: number; limit?: number } {
  return {
    sourceName: config.source_name ?? DEFAULT_SOURCE_NAME,
    maxTableNesting: config.max_table_nesting ?? DEFAULT_MAX_TABLE_NESTING,
    ...(config.limit !== undefined ? { limit: config.limit } : {}),
  };
}

function endpointObject(endpoint: EndpointConfig | string | undefined): EndpointConfig {
  if (typeof endpoint === "string") return { path: endpoint };
  return endpoint ? { ...endpoint } : {};
}

/** `columns` by name: a list of hints (each with its name) as dlt's ensure_table_schema_columns. */
function columnsByName(
  columns: ResourceConfig["columns"],
): Record<string, ColumnHint> | undefined {
  if (!Array.isArray(columns)) return columns;
  const out: Record<string, ColumnHint> = {};
  for (const hint of columns) if (typeof hint.name === "string") out[hint.name] = hint;
  return out;
}

function isRecord(value: unknown): value is Record<string, never> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
