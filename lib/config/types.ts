/**
 * The typed configuration every stage receives, resolved from env > secrets.toml > config.toml
 * (dlt's layout and env names) and command-line flags.
 *
 * @module
 */

/** `[sources.gitlab]`: where and what to extract. */
export interface GitlabSourceConfig {
  /**
   * API root without trailing slash, e.g. `https://gitlab.example.com/gitlab/api/v4`. When
   * `[sources.gitlab] base_url` is not configured it is `CI_API_V4_URL` (GitLab CI); undefined
   * when neither is set (then the catalog's `client.base_url`, then https://gitlab.com/api/v4).
   */
  base_url?: string;
  /** Secret token sent as `PRIVATE-TOKEN` (`[sources.gitlab] api_key`). */
  api_key?: string;
  /** `CI_JOB_TOKEN` when set, sent as `JOB-TOKEN` when no `api_key` is set (extractor decides). */
  job_token?: string;
  /** Projects by path (`group/sub/project`) or numeric id. @default {[]} */
  projects: string[];
  /** Groups by path or numeric id; their subgroups and projects are included. @default {[]} */
  groups: string[];
  /** Source-level max_table_nesting; overrides the catalog's. */
  max_table_nesting?: number;
  /**
   * Lower bound of the first incremental run (ISO date or date-time): replaces the cursors'
   * `initial_value`. Later runs continue from the stored cursors.
   */
  start_date?: string;
  /**
   * User values for the catalog's `{config.<key>}` placeholders: `[sources.gitlab.params]`, or
   * env `SOURCES__GITLAB__PARAMS` as a JSON object. @default {undefined}
   */
  params?: Record<string, string | number | boolean>;
  /**
   * Request starts per minute at most (`[sources.gitlab] max_requests_per_minute`), on top of
   * GitLab's `RateLimit-*` headers and known per-endpoint limits. @default {undefined}
   */
  max_requests_per_minute?: number;
  /** Requests in flight at most (`[sources.gitlab] concurrency`). @default {16} */
  concurrency?: number;
}

/** dlt's Postgres credentials (`[destination.postgres.credentials]`). */
export interface PostgresCredentials {
  database?: string;
  username?: string;
  password?: string;
  host?: string;
  /** @default {5432} */
  port?: number;
  /** Seconds. @default {15} */
  connect_timeout?: number;
  /** Extra connection parameters, e.g. `{sslmode: "require"}` for EDB BigAnimal. */
  query: Record<string, string>;
}

/** The whole resolved configuration. */
export interface Config {
  /** @default {"gitlab_pipeline"} */
  pipeline_name: string;
  /** @default {"gitlab_data"} */
  dataset_name: string;
  /** `postgres` or `pglite`; undefined = postgres when credentials are given, else pglite. */
  destination_type?: "postgres" | "pglite";
  /**
   * Folder holding `<pipeline_name>/` working dirs (`<cwd>/.gitlab-pg/pipelines` without HOME).
   * @default {"~/.gitlab-pg/pipelines"}
   */
  pipelines_dir: string;
  /** Where the schema YAML is exported. @default {"schemas/export"} */
  export_schema_path: string;
  /** A user-curated schema to import, like dlt's import_schema_path. */
  import_schema_path?: string;
  runtime: {
    /** Upper case: DEBUG, INFO, WARNING, ERROR or CRITICAL. @default {"WARNING"} */
    log_level: string;
    /**
     * Slack-compatible incoming webhook URL (dlt's `slack_incoming_hook`); schema change alerts
     * are POSTed there. A secret. @default {undefined}
     */
    slack_incoming_hook?: string;
    /**
     * Seconds a request to GitLab may take (dlt's `runtime.request_timeout`), from its send to
     * its whole body. @default {60}
     */
    request_timeout?: number;
    /**
     * Tries of a request that fails with a 5xx, a 429, a connection error, a timeout or a body
     * cut short (dlt's `runtime.request_max_attempts`). @default {5}
     */
    request_max_attempts?: number;
  };
  normalize: {
    /**
     * Threads normalizing a package's root tables in parallel, the main one included (dlt's
     * `[normalize] workers`); 1 = one pass. @default {undefined: the CPUs, at most 4}
     */
    workers?: number;
  };
  load: {
    /**
     * Connections COPYing the tables a load creates, in parallel, into a Postgres server
     * (dlt's `[load] workers`); 1 = the load's one connection. @default {2}
     */
    workers: number;
  };
  source: GitlabSourceConfig;
  /** Set when any Postgres credential was given; `port` and `connect_timeout` then filled in. */
  postgres?: {
    credentials: PostgresCredentials;
    /** Where the credentials came from (config key, files, environment), for errors. */
    from?: string;
  };
  /**
   * Environment variables in gitlab-pg's sections that name no key of its own (likely typos,
   * ignored): one warning each, for the commands to print. @default {[]}
   */
  warnings?: string[];
}
