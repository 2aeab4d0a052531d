/** Key names and values the loader accepts. */

/** Keys allowed in `[sources.gitlab]` (and, less specific, in `[sources]`). */
export const SOURCE_KEYS = [
  "base_url",
  "api_key",
  "projects",
  "groups",
  "max_table_nesting",
  "start_date",
  "params",
  "max_requests_per_minute",
  "concurrency",
] as const;

/** Fields allowed in `[destination.postgres.credentials]`. */
export const CREDENTIAL_KEYS = [
  "drivername",
  "database",
  "username",
  "password",
  "host",
  "port",
  "connect_timeout",
  "client_encoding",
  "query",
] as const;

/**
 * The keys gitlab-pg reads in the other sections of dlt's layout (`""`: the top level). dlt's
 * files may hold more (its own runtime, load and extract settings, other sources and
 * destinations), so an unknown key there is an error only when it looks like a typo of one of
 * these (`[source.gitlab]`, `log_levle`, `[destination.postgress]`).
 */
export const SECTION_KEYS: readonly [string, readonly string[]][] = [
  ["", [
    "pipeline_name",
    "dataset_name",
    "destination_type",
    "pipelines_dir",
    "export_schema_path",
    "import_schema_path",
    "runtime",
    "normalize",
    "sources",
    "destination",
  ]],
  ["runtime", ["log_level", "slack_incoming_hook"]],
  ["normalize", ["workers"]],
  ["destination", ["postgres"]],
  ["destination.postgres", ["credentials"]],
];

/** Valid `runtime.log_level` values (Python logging level names). */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;

/** Valid `destination_type` values. */
export const DESTINATION_TYPES = ["postgres", "pglite"] as const;
