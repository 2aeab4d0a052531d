/**
 * Every configuration key gitlab-pg reads, with its environment variable, default and meaning:
 * one table used by the loader (env names, known keys) and printed by `--help` and the README.
 *
 * @module
 */

/** Default `[load] workers`: connections COPYing new tables in parallel. */
export const DEFAULT_LOAD_WORKERS = 2;

/** One row of the configuration key table. */
export interface ConfigKeyInfo {
  /** Dotted TOML key, e.g. `sources.gitlab.base_url`; empty for CI-only variables. */
  key: string;
  /** Environment variable that sets it, e.g. `SOURCES__GITLAB__BASE_URL`. */
  env: string;
  /** Default value as text, empty when there is none. */
  default: string;
  /** Whether the value is a secret (belongs in `.dlt/secrets.toml`, never printed). */
  secret: boolean;
  /** One-line description. */
  description: string;
}

/**
 * Returns the environment variable name of a dotted TOML key, dlt style: the path upper-cased
 * and joined with `__`.
 *
 * @example
 * ```ts
 * envVarOf("sources.gitlab.base_url"); // "SOURCES__GITLAB__BASE_URL"
 * ```
 */
export function envVarOf(key: string): string {
  return key.split(".").join("__").toUpperCase();
}

function row(key: string, def: string, description: string, secret = false): ConfigKeyInfo {
  return { key, env: envVarOf(key), default: def, secret, description };
}

const CREDS = "destination.postgres.credentials";

/**
 * Returns the table of every configuration key: TOML key, env var, default and description,
 * in the order a README should list them.
 *
 * Values are looked up, highest priority first, in: command-line flags, environment variables,
 * `.dlt/secrets.toml`, `.dlt/config.toml`, defaults. Source keys are looked up in
 * `[sources.gitlab]` and then in the less specific `[sources]` (env `SOURCES__<KEY>`), within
 * each provider before moving to the next, like dlt.
 *
 * @example
 * ```ts
 * for (const k of describeConfigKeys()) console.log(`${k.key}\t${k.env}\t${k.default}`);
 * ```
 */
export function describeConfigKeys(): ConfigKeyInfo[] {
  return [
    row("pipeline_name", "gitlab_pipeline", "Name of the pipeline and of its working dir"),
    row(
      "dataset_name",
      "gitlab_data",
      "Destination dataset (Postgres schema) to load into, in its snake_case form as dlt does (GitLab-Data: git_lab_data)",
    ),
    row(
      "destination_type",
      "",
      "postgres or pglite; unset = postgres when credentials are given, else embedded pglite",
    ),
    row(
      "pipelines_dir",
      "$HOME/.gitlab-pg/pipelines",
      "Folder of pipeline working dirs (<cwd>/.gitlab-pg/pipelines when HOME is unset)",
    ),
    row("export_schema_path", "schemas/export", "Folder the schema YAML is exported to"),
    row("import_schema_path", "", "Folder of a user-curated schema YAML to import"),
    row("runtime.log_level", "WARNING", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    row(
      "runtime.slack_incoming_hook",
      "",
      "Slack-compatible incoming webhook for schema change alerts",
      true,
    ),
    row(
      "runtime.request_timeout",
      "60",
      "Seconds a request to GitLab may take, body included (dlt's key; a number > 0)",
    ),
    row(
      "runtime.request_max_attempts",
      "5",
      "Tries of a request that fails with a 5xx, 429, connection error, timeout or cut body (dlt's key; integer from 1 to 100)",
    ),
    row(
      "normalize.workers",
      "",
      "Threads normalizing root tables in parallel, and a worker normalizing while extracting, for packages of 8 MiB or more (1 = one pass after extract; unset: CPUs up to 4, from 32 MiB)",
    ),
    row(
      "load.workers",
      String(DEFAULT_LOAD_WORKERS),
      "Connections COPYing the tables a load creates in parallel into a Postgres server, for 4 MiB of job files or more (dlt's key; 1 to 64; 1 = all in the load's one connection)",
    ),
    row(
      "sources.gitlab.base_url",
      "https://gitlab.com/api/v4",
      "GitLab API root, e.g. https://gitlab.example.com/api/v4 (unset: CI_API_V4_URL, else the catalog's)",
    ),
    row("sources.gitlab.api_key", "", "Access token sent as PRIVATE-TOKEN", true),
    row(
      "sources.gitlab.projects",
      "[]",
      'Projects by path or id; env: ["a/b", 42] or a comma-separated list',
    ),
    row(
      "sources.gitlab.groups",
      "[]",
      'Groups by path or id; env: ["a", 7] or a comma-separated list',
    ),
    row("sources.gitlab.max_table_nesting", "", "Nesting depth of child tables (integer >= 0)"),
    row(
      "sources.gitlab.max_requests_per_minute",
      "",
      "Request starts per minute at most, on top of GitLab's RateLimit headers (integer >= 1)",
    ),
    row("sources.gitlab.concurrency", "16", "Requests in flight at most (integer from 1 to 256)"),
    row(
      "sources.gitlab.start_date",
      "",
      "Lower bound of the first incremental run, ISO date or date-time (e.g. 2024-01-01)",
    ),
    row(
      "sources.gitlab.params",
      "",
      "Values a catalog's paths ask for with `{config.<key>}`, e.g. `alert_iid = 1`; env: a JSON object",
    ),
    row(
      CREDS,
      "",
      "Connection string postgresql://user:password@host:5432/db?sslmode=require",
      true,
    ),
    row(`${CREDS}.database`, "", "Database name"),
    row(`${CREDS}.username`, "", "User name"),
    row(`${CREDS}.password`, "", "Password", true),
    row(`${CREDS}.host`, "", "Host name or address"),
    row(`${CREDS}.port`, "5432", "Port"),
    row(`${CREDS}.connect_timeout`, "15", "Seconds to wait for a connection"),
    row(
      `${CREDS}.query`,
      "{}",
      'Extra connection parameters, e.g. { sslmode = "require" } (env also QUERY__SSLMODE)',
    ),
    {
      key: "",
      env: "CI_API_V4_URL",
      default: "",
      secret: false,
      description: "GitLab CI: base_url when sources.gitlab.base_url is unset",
    },
    {
      key: "",
      env: "CI_JOB_TOKEN",
      default: "",
      secret: true,
      description: "GitLab CI: job token, sent as JOB-TOKEN when no api_key is set",
    },
  ];
}
