/**
 * The catalog's types: dlt's `rest_api` configuration (`RESTAPIConfig`) written as YAML,
 * plus the few documented extra keys of gitlab-pg (marked "extra").
 *
 * @module
 */

import type { Json } from "../common/json.ts";

/** A JSON value as it comes from YAML or from a GitLab response. */
export type { Json };

/** Authentication of the client (dlt's `auth`). */
export type AuthConfig =
  | { type: "api_key"; name?: string; api_key?: string; location?: "header" | "query" | "param" }
  | { type: "bearer"; token?: string }
  | { type: "http_basic"; username?: string; password?: string };

/** A paginator (dlt's `PAGINATOR_MAP` types plus the extra `gitlab`). */
export interface PaginatorConfig {
  /**
   * `header_link`, `json_link` (alias `json_response`), `header_cursor`, `cursor`, `offset`,
   * `page_number`, `single_page`, `auto`, or the extra `gitlab` (Link `rel="next"`, then
   * `x-next-page`, never the totals).
   */
  type: string;
  [option: string]: Json | undefined;
}

/** Incremental cursor settings (dlt's `IncrementalConfig`). */
export interface IncrementalConfig {
  cursor_path: string;
  initial_value?: Json;
  end_value?: Json;
  start_param?: string;
  end_param?: string;
  last_value_func?: "max" | "min";
  row_order?: "asc" | "desc";
  primary_key?: string | string[];
  lag?: number;
  on_cursor_value_missing?: "raise" | "include" | "exclude";
  range_start?: "closed" | "open";
  range_end?: "closed" | "open";
}

/** A legacy resolve param: `{type: resolve, resource, field}`. */
export interface ResolveParam {
  type: "resolve";
  resource: string;
  field: string;
}

/** A response action (dlt's `response_actions` entry). */
export interface ResponseAction {
  status_code?: number;
  content?: string;
  action: "ignore";
}

/** The `endpoint` of a resource (dlt's `Endpoint`). */
export interface EndpointConfig {
  /** Path relative to `client.base_url`, or an absolute URL. Defaults to the resource name. */
  path?: string;
  method?: "GET" | "POST";
  params?: Record<string, Json | ResolveParam>;
  json?: Json;
  headers?: Record<string, string>;
  paginator?: PaginatorConfig | string;
  data_selector?: string;
  response_actions?: ResponseAction[];
  incremental?: IncrementalConfig;
}

/** Column hints (dlt's `columns`). */
export interface ColumnHint {
  data_type?: string;
  nullable?: boolean;
  primary_key?: boolean;
  merge_key?: boolean;
  unique?: boolean;
  precision?: number;
  scale?: number;
  timezone?: boolean;
  description?: string;
  [hint: string]: Json | undefined;
}

/** Write disposition: a string or dlt's dict form. */
export type WriteDisposition =
  | "append"
  | "replace"
  | "merge"
  | "skip"
  | { disposition: "append" | "replace" | "merge"; strategy?: string };

/** One resource (dlt's `EndpointResource`). */
export interface ResourceConfig {
  name: string;
  table_name?: string;
  write_disposition?: WriteDisposition;
  primary_key?: string | string[];
  merge_key?: string | string[];
  /** By name, or a list of hints with their `name` (dlt takes both). */
  columns?: Record<string, ColumnHint> | ColumnHint[];
  max_table_nesting?: number;
  schema_contract?: Json;
  selected?: boolean;
  /** The endpoint, or just its path. */
  endpoint?: EndpointConfig | string;
  include_from_parent?: string[];
  processing_steps?: Json[];
  parallelized?: boolean;
  table_format?: string;
  file_format?: string;
  /**
   * Extra: `projects` or `groups`. The resource's requests come from the configured scope
   * (`[sources.gitlab] projects / groups`) instead of `endpoint.path` alone.
   */
  scope?: "projects" | "groups";
  /** Extra: a human description, shown by `gitlab-pg catalog`. */
  description?: string;
}

/** The `client` section (dlt's `ClientConfig`). */
export interface ClientConfig {
  base_url?: string;
  headers?: Record<string, string>;
  auth?: AuthConfig;
  paginator?: PaginatorConfig | string;
}

/** A whole catalog (dlt's `RESTAPIConfig`) after the YAML is read. */
export interface RestApiConfig {
  client: ClientConfig;
  resource_defaults?: Partial<ResourceConfig>;
  resources: (ResourceConfig | string)[];
  /** Extra: the source (and schema) name. @default {"gitlab"} */
  source_name?: string;
  /** Extra: source-level `max_table_nesting` (the seed's source sets 2). @default {2} */
  max_table_nesting?: number;
  /**
   * Extra: at most this many pages per request series, like dlt's `source.add_limit(N)`
   * (dlt-init-openapi's `--global-limit`); `gitlab-pg run --limit` overrides it.
   */
  limit?: number;
}

/** How a child resource gets one value from each record of its parent. */
export interface ResolveBinding {
  /** Placeholder or param name the value fills (`id` for `{id}`, `resources.projects.id`). */
  placeholder: string;
  /** Parent resource name. */
  resource: string;
  /** Field of the parent record (dotted path or JSONPath like `$.id`). */
  field: string;
  /** Whether the value goes into a query param (legacy resolve on a param not in the path). */
  inQuery: boolean;
  /** The query param name when `inQuery`. */
  param?: string;
}

/**
 * One resource after defaults are applied and the catalog validated: everything extract needs.
 */
export interface ResolvedResource {
  name: string;
  tableName: string;
  writeDisposition: "append" | "replace" | "merge" | "skip";
  /** Merge strategy when `writeDisposition` is merge. @default {"delete-insert"} */
  mergeStrategy?: string;
  /** Replace strategy when `writeDisposition` is replace and one was given. */
  replaceStrategy?: string;
  primaryKey: string[];
  mergeKey: string[];
  columns: Record<string, ColumnHint>;
  /** Remaining nesting depth for the normalizer (resource wins over source). */
  maxTableNesting?: number;
  schemaContract?: Json;
  selected: boolean;
  /**
   * The catalog's own `selected` when `--resources` changed it (`selectResources`): a parent
   * the catalog loads, fetched now only to feed a named child, keeps its cursor where it was.
   */
  selectedInCatalog?: boolean;
  endpoint: EndpointConfig & { path: string; method: "GET" | "POST" };
  /** Effective paginator (endpoint > resource_defaults > client), undefined = auto. */
  paginator?: PaginatorConfig;
  /** Parent resource name when this is a child (transformer). */
  parent?: string;
  resolve: ResolveBinding[];
  includeFromParent: string[];
  scope?: "projects" | "groups";
  description?: string;
  /** dlt's `parallelized`, kept as written. */
  parallelized?: boolean;
  /** dlt's `table_format`, kept as written. */
  tableFormat?: string;
  /** dlt's `file_format`, kept as written. */
  fileFormat?: string;
}

/** The validated catalog: the resource graph in dependency order (parents first). */
export interface Catalog {
  /** File the catalog was read from (or `<embedded>`). */
  file: string;
  sourceName: string;
  maxTableNesting: number;
  /** Pages per request series from the catalog's `limit` (undefined = unlimited). */
  limit?: number;
  client: ClientConfig;
  resources: ResolvedResource[];
}
