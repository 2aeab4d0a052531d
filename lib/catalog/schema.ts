/**
 * The schema of every catalog component: dlt's `rest_api` keys (see `types.ts`) plus the extra
 * keys of gitlab-pg. Unknown keys are problems everywhere.
 *
 * @module
 */

import { compileJsonPath } from "../common/jsonpath.ts";
import type { ObjectSchema, Schema, TaggedSchema } from "./validate.ts";

const string: Schema = { kind: "string" };
/** A JSONPath of the subset gitlab-pg reads, checked here rather than when a run uses it. */
const jsonPath: Schema = {
  kind: "string",
  check: (value) => {
    try {
      compileJsonPath(value);
      return undefined;
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).replace(
        /^Cannot parse JSONPath "[^]*?": /,
        "",
      );
      return `JSONPath "${value}" cannot be read: ${why} (gitlab-pg reads $, dotted names, ` +
        "['quoted'] keys, [n] indexes and [*] wildcards)";
    }
  },
};
const count: Schema = { kind: "integer", min: 0 };
const positive: Schema = { kind: "integer", min: 1 };
const boolean: Schema = { kind: "boolean" };
const json: Schema = { kind: "json" };
const oneOf = (...values: string[]): Schema => ({ kind: "string", enum: values });
const object = (
  fields: Record<string, Schema>,
  more: Omit<ObjectSchema, "kind" | "fields"> = {},
): ObjectSchema => ({ kind: "object", fields, ...more });
const jsonPathOrNull: Schema = {
  kind: "choice",
  expected: "a JSONPath or empty",
  string: jsonPath,
  null: json,
};
const stringOrList: Schema = {
  kind: "choice",
  expected: "a string or a list of strings",
  string,
  list: { kind: "list", items: string },
};
const stringMap: Schema = { kind: "map", values: string };

/** Merge strategies of `write_disposition: {disposition: merge, strategy}`. */
export const MERGE_STRATEGIES = ["delete-insert", "upsert", "insert-only", "scd2"] as const;
/** Replace strategies of `write_disposition: {disposition: replace, strategy}`. */
export const REPLACE_STRATEGIES = [
  "truncate-and-insert",
  "insert-from-staging",
  "staging-optimized",
] as const;

/** Why dlt's `scd2` merge strategy (and its options) are refused. */
const SCD2_WHY =
  'the scd2 merge (validity columns, retired rows) is not implemented; use strategy "delete-insert" (the default) or "upsert", or write_disposition "append" to keep every version';
const SCD2_OPTIONS = [
  "validity_column_names",
  "active_record_timestamp",
  "boundary_timestamp",
  "row_version_column_name",
  "retire_absent_rows",
  "natural_key",
];

const writeDisposition: Schema = {
  kind: "choice",
  expected: 'one of "append", "replace", "merge", "skip" or a map with "disposition"',
  string: oneOf("append", "replace", "merge", "skip"),
  map: object({
    disposition: oneOf("append", "replace", "merge"),
    strategy: {
      kind: "string",
      enum: [...MERGE_STRATEGIES.filter((s) => s !== "scd2"), ...REPLACE_STRATEGIES],
      unsupported: { scd2: SCD2_WHY },
    },
  }, {
    required: ["disposition"],
    unsupported: [...SCD2_OPTIONS, "deduplicated"],
    why: {
      ...Object.fromEntries(
        SCD2_OPTIONS.map((k) => [k, `${k} is an option of scd2, and ${SCD2_WHY}`]),
      ),
      deduplicated:
        "a merge always keeps the last of the package's rows with one primary key (remove the key)",
    },
  }),
};

const contractMode = oneOf("evolve", "discard_value", "freeze", "discard_row");
const schemaContract: Schema = {
  kind: "choice",
  expected: 'one of "evolve", "discard_value", "freeze", "discard_row" or a map of them',
  string: contractMode,
  map: object({ tables: contractMode, columns: contractMode, data_type: contractMode }),
};

const columnHint = object({
  name: string,
  data_type: oneOf(
    "text",
    "double",
    "bool",
    "timestamp",
    "bigint",
    "binary",
    "json",
    "decimal",
    "wei",
    "date",
    "time",
  ),
  nullable: boolean,
  primary_key: boolean,
  merge_key: boolean,
  unique: boolean,
  precision: count,
  scale: count,
  timezone: boolean,
  description: string,
  partition: boolean,
  cluster: boolean,
  sort: boolean,
  row_key: boolean,
  parent_key: boolean,
  root_key: boolean,
  hard_delete: boolean,
  dedup_sort: oneOf("asc", "desc"),
  incremental: boolean,
  variant: boolean,
}, { extraKey: /^x-/ });

const pageStops = {
  stop_after_empty_page: boolean,
  has_more_path: string,
};

/** Paginator objects, by `type` (dlt's `PAGINATOR_MAP` plus the extra `gitlab`). */
export const PAGINATOR_TYPES: Record<string, ObjectSchema> = {
  header_link: object({ links_next_key: string }),
  json_link: object({ next_url_path: jsonPath }),
  json_response: object({ next_url_path: jsonPath }),
  header_cursor: object({ cursor_key: string, cursor_param: string }),
  cursor: object({
    cursor_path: jsonPath,
    cursor_param: string,
    cursor_body_path: jsonPath,
    ...pageStops,
  }),
  offset: object({
    limit: count,
    offset: count,
    offset_param: string,
    limit_param: string,
    offset_body_path: jsonPath,
    limit_body_path: jsonPath,
    total_path: jsonPathOrNull,
    maximum_offset: count,
    ...pageStops,
  }, { required: ["limit"] }),
  page_number: object({
    base_page: count,
    page: count,
    page_param: string,
    page_body_path: jsonPath,
    total_path: jsonPathOrNull,
    maximum_page: count,
    ...pageStops,
  }),
  single_page: object({}),
  auto: object({}),
  gitlab: object({}),
};

const paginatorObject: TaggedSchema = { kind: "tagged", tag: "type", variants: PAGINATOR_TYPES };
const paginator: Schema = {
  kind: "choice",
  expected: 'a paginator type or a map with "type"',
  string: oneOf(...Object.keys(PAGINATOR_TYPES)),
  map: paginatorObject,
};

const AUTH_TYPES: Record<string, ObjectSchema> = {
  api_key: object({ name: string, api_key: string, location: oneOf("header", "query", "param") }),
  bearer: object({ token: string }),
  http_basic: object({ username: string, password: string }),
};

/** dlt's `auth`: a map with `type` (bearer when left out), or the type name alone. */
const auth: Schema = {
  kind: "choice",
  expected: 'an auth type or a map with "type"',
  string: {
    kind: "string",
    enum: Object.keys(AUTH_TYPES),
    unsupported: {
      oauth2_client_credentials: "GitLab has no client-credentials grant; use a personal, " +
        "group or project access token as `api_key`",
    },
  },
  map: {
    kind: "tagged",
    tag: "type",
    defaultVariant: "bearer",
    variants: AUTH_TYPES,
    unsupported: ["oauth2_client_credentials"],
  },
};

const incrementalFields: Record<string, Schema> = {
  cursor_path: jsonPath,
  initial_value: json,
  end_value: json,
  start_param: string,
  end_param: string,
  last_value_func: oneOf("max", "min"),
  row_order: oneOf("asc", "desc"),
  primary_key: stringOrList,
  lag: { kind: "number" },
  on_cursor_value_missing: oneOf("raise", "include", "exclude"),
  range_start: oneOf("closed", "open"),
  range_end: oneOf("closed", "open"),
};

const incremental = object(incrementalFields, {
  required: ["cursor_path"],
  unsupported: ["convert", "transform", "allow_external_schedulers"],
});

const scalar: Schema = {
  kind: "choice",
  expected: "a string, number, boolean or empty",
  string: json,
  number: json,
  boolean: json,
  null: json,
};

/** A query param value: a scalar, a list of scalars, or a legacy `resolve`/`incremental` map. */
const paramValue: Schema = {
  kind: "choice",
  expected: 'a string, number, boolean, list, or a map with "type" resolve or incremental',
  string: json,
  number: json,
  boolean: json,
  null: json,
  list: { kind: "list", items: scalar },
  map: {
    kind: "tagged",
    tag: "type",
    variants: {
      resolve: object({ resource: string, field: string }, { required: ["resource", "field"] }),
      incremental: object({ cursor_path: jsonPath, initial_value: json }, {
        required: ["cursor_path"],
      }),
    },
  },
};

const responseAction = object({
  status_code: count,
  content: string,
  action: oneOf("ignore"),
}, { required: ["action"] });

const endpointObject = object({
  path: string,
  method: oneOf("GET", "POST"),
  params: { kind: "map", values: paramValue },
  json: json,
  headers: stringMap,
  paginator,
  data_selector: jsonPath,
  response_actions: { kind: "list", items: responseAction },
  incremental,
}, { unsupported: ["data", "auth"] });

const endpoint: Schema = {
  kind: "choice",
  expected: "a path or a map",
  string,
  map: endpointObject,
};

const resourceFields: Record<string, Schema> = {
  name: string,
  table_name: string,
  write_disposition: writeDisposition,
  primary_key: stringOrList,
  merge_key: stringOrList,
  columns: {
    kind: "choice",
    expected: "a map of column names to hints, or a list of hints with their name",
    map: { kind: "map", values: columnHint },
    list: { kind: "list", items: { ...columnHint, required: ["name"] } },
  },
  schema_contract: schemaContract,
  max_table_nesting: count,
  selected: boolean,
  parallelized: boolean,
  table_format: oneOf("iceberg", "delta", "hive", "native"),
  file_format: oneOf(
    "preferred",
    "jsonl",
    "typed-jsonl",
    "insert_values",
    "parquet",
    "csv",
    "reference",
    "model",
  ),
  endpoint,
  include_from_parent: { kind: "list", items: string },
  scope: oneOf("projects", "groups"),
  description: string,
};

const unsupportedResourceKeys = [
  "references",
  "nested_hints",
  "parent_table_name",
  "processing_steps",
];
/** Why a resource key is refused, where there is more to say than "not supported". */
const unsupportedResourceWhy = {
  processing_steps:
    "its steps are Python callables (filter, map, yield_map), which a YAML catalog cannot hold and gitlab-pg does not run; remove the key and filter the rows with the endpoint's params or in SQL",
};

/** One resource in `resources` (a map; the string form is handled by {@linkcode RESOURCE}). */
export const RESOURCE_OBJECT: ObjectSchema = object(resourceFields, {
  required: ["name"],
  unsupported: unsupportedResourceKeys,
  why: unsupportedResourceWhy,
});

/** One item of `resources`: a name (= path) or a map. */
export const RESOURCE: Schema = {
  kind: "choice",
  expected: "a string (the name) or a map",
  string,
  map: RESOURCE_OBJECT,
};

/** `resource_defaults`: any resource key except `name`. */
export const RESOURCE_DEFAULTS: ObjectSchema = object(
  Object.fromEntries(Object.entries(resourceFields).filter(([key]) => key !== "name")),
  { unsupported: unsupportedResourceKeys, why: unsupportedResourceWhy },
);

/** `client`. */
export const CLIENT: ObjectSchema = object({
  base_url: string,
  headers: stringMap,
  auth,
  paginator,
}, { unsupported: ["session"] });

/** The whole catalog (`client` and `resources` are required; checked when building). */
export const CATALOG: ObjectSchema = object({
  client: CLIENT,
  resource_defaults: RESOURCE_DEFAULTS,
  resources: { kind: "list", items: RESOURCE },
  source_name: string,
  max_table_nesting: count,
  limit: positive,
});
