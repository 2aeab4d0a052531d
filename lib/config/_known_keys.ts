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

/** Valid `runtime.log_level` values (Python logging level names). */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;

/** Valid `destination_type` values. */
export const DESTINATION_TYPES = ["postgres", "pglite"] as const;
