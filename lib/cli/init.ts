/**
 * `gitlab-pg init`: writes `.dlt/config.toml` and `.dlt/secrets.toml` templates in dlt's
 * layout, every key commented with its env var. Never asks anything; never overwrites a file
 * unless `--force` is given.
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import { UsageError } from "../common/errors.ts";
import { flagsHelp, type FlagSpec, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";

const FLAGS: Record<string, FlagSpec> = {
  dir: {
    type: "string",
    value: "DIR",
    description: "Project folder to write .dlt/ into (default: the working directory)",
  },
  force: { type: "boolean", description: "Overwrite existing files" },
};

/** The `.dlt/config.toml` template. */
export const CONFIG_TEMPLATE =
  `# gitlab-pg configuration in dlt's layout (the same keys and env names as a dlt pipeline).
# Precedence: command-line flags > env vars > .dlt/secrets.toml > this file > defaults.
# The env var of a key is its path in upper case joined by "__", e.g. SOURCES__GITLAB__BASE_URL.
# Secrets (api_key, passwords) belong in .dlt/secrets.toml.

# pipeline_name = "gitlab_pipeline"        # PIPELINE_NAME
# dataset_name = "gitlab_data"             # DATASET_NAME: the Postgres schema loaded into
# destination_type = "postgres"            # DESTINATION_TYPE: postgres | pglite (default:
#                                          # postgres when credentials are given, else pglite)
# pipelines_dir = "~/.gitlab-pg/pipelines" # PIPELINES_DIR
# export_schema_path = "schemas/export"    # EXPORT_SCHEMA_PATH
# import_schema_path = "schemas/import"    # IMPORT_SCHEMA_PATH: a user-curated schema YAML

[runtime]
log_level = "WARNING" # RUNTIME__LOG_LEVEL: DEBUG, INFO, WARNING, ERROR or CRITICAL
# slack_incoming_hook: a secret, in .dlt/secrets.toml  # RUNTIME__SLACK_INCOMING_HOOK
# request_timeout = 60                      # RUNTIME__REQUEST_TIMEOUT: seconds per request to GitLab
# request_max_attempts = 5                  # RUNTIME__REQUEST_MAX_ATTEMPTS: tries of a failing request

[normalize]
# Threads normalizing root tables in parallel (1 = one pass; unset: CPUs up to 4, from 32 MiB).
# workers = 2                              # NORMALIZE__WORKERS

[load]
# Connections COPYing the tables a load creates in parallel (a Postgres server; 1 = one).
# workers = 2                              # LOAD__WORKERS

[sources.gitlab]
# API root (a sub-path is fine: https://host/gitlab/api/v4); in GitLab CI, CI_API_V4_URL.
# base_url = "https://gitlab.com/api/v4"   # SOURCES__GITLAB__BASE_URL
# Projects and groups by path or numeric id (groups include their subgroups and projects).
# projects = ["gitlab-org/gitlab-runner"]  # SOURCES__GITLAB__PROJECTS
# groups = ["gitlab-org"]                  # SOURCES__GITLAB__GROUPS
# max_table_nesting = 2                    # SOURCES__GITLAB__MAX_TABLE_NESTING
# Requests in flight at most (1 to 256), and request starts per minute at most (on top of
# GitLab's RateLimit headers).
# concurrency = 16                         # SOURCES__GITLAB__CONCURRENCY
# max_requests_per_minute = 600            # SOURCES__GITLAB__MAX_REQUESTS_PER_MINUTE
# Lower bound of the first incremental run (ISO date or date-time).
# start_date = "2024-01-01"                # SOURCES__GITLAB__START_DATE

# Values a catalog's paths ask for with {config.<key>} (a resource missing one is skipped).
# [sources.gitlab.params]                  # SOURCES__GITLAB__PARAMS='{"alert_iid": 1}'
# alert_iid = 1
`;

/** The `.dlt/secrets.toml` template. */
export const SECRETS_TEMPLATE =
  `# Secrets of gitlab-pg, in dlt's layout. Keep this file out of version control.
# Every value can also come from env vars, which win over this file.

[sources.gitlab]
# Personal, project or group access token with the read_api scope, sent as PRIVATE-TOKEN.
# In GitLab CI without it, CI_JOB_TOKEN is used (it reaches only some endpoints).
api_key = "FILL ME OUT" # SOURCES__GITLAB__API_KEY; "FILL ME OUT" counts as not set

# [runtime]
# Slack-compatible incoming webhook for schema change and failure alerts.
# slack_incoming_hook = "https://hooks.slack.com/services/T000/B000/XXXX"
#                                          # RUNTIME__SLACK_INCOMING_HOOK

# Without Postgres credentials gitlab-pg loads into the embedded PGlite in its working dir.
# A Postgres server (EDB BigAnimal: keep sslmode=require), as one connection string ...
# [destination.postgres]
# credentials = "postgresql://loader:<password>@host:5432/dlt_data?sslmode=require"
#                                          # DESTINATION__POSTGRES__CREDENTIALS
# ... or field by field:
# [destination.postgres.credentials]
# database = "dlt_data"                    # DESTINATION__POSTGRES__CREDENTIALS__DATABASE
# username = "loader"                      # DESTINATION__POSTGRES__CREDENTIALS__USERNAME
# password = "FILL ME OUT"                 # DESTINATION__POSTGRES__CREDENTIALS__PASSWORD
# host = "localhost"                       # DESTINATION__POSTGRES__CREDENTIALS__HOST
# port = 5432                              # DESTINATION__POSTGRES__CREDENTIALS__PORT
# connect_timeout = 15                     # DESTINATION__POSTGRES__CREDENTIALS__CONNECT_TIMEOUT
# query = { sslmode = "require" }          # DESTINATION__POSTGRES__CREDENTIALS__QUERY__SSLMODE
`;

async function writeNew(
  path: string,
  text: string,
  force: boolean,
  mode?: number,
): Promise<boolean> {
  try {
    await Deno.writeTextFile(path, text, { createNew: !force, mode });
    // `mode` applies to a new file only (and under the umask): an overwritten one gets it too
    if (mode !== undefined && Deno.build.os !== "windows") await Deno.chmod(path, mode);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
}

/** The `init` command. */
export const initCommand: Command = {
  name: "init",
  summary: "Write .dlt/config.toml and .dlt/secrets.toml templates",
  help: () =>
    `Usage: gitlab-pg init [flags]

Writes commented templates of .dlt/config.toml and .dlt/secrets.toml (dlt's layout, every
key with its env var) and adds .dlt/secrets.toml to .gitignore when there is one. Asks
nothing; existing files are kept unless --force is given.

Flags:
${flagsHelp(FLAGS)}

Examples:
  gitlab-pg init
  gitlab-pg init --dir my-project`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags("init", args, FLAGS);
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    if (positionals.length) {
      throw new UsageError(`"gitlab-pg init" takes no arguments, got "${positionals[0]}"`);
    }
    const root = resolve(io.cwd, typeof values.dir === "string" ? values.dir : ".");
    const dir = join(root, ".dlt");
    await Deno.mkdir(dir, { recursive: true });
    const force = Boolean(values.force);
    // the secrets file is readable by its owner only (the token and passwords go there)
    const files: [string, string, number | undefined][] = [
      ["config.toml", CONFIG_TEMPLATE, undefined],
      ["secrets.toml", SECRETS_TEMPLATE, 0o600],
    ];
    for (const [name, text, mode] of files) {
      const path = join(dir, name);
      if (await writeNew(path, text, force, mode)) io.out(`Wrote ${path}`);
      else io.err(`Kept ${path}: it exists (--force overwrites it)`);
    }
    const ignore = join(root, ".gitignore");
    try {
      const text = await Deno.readTextFile(ignore);
      if (!text.split("\n").some((l) => l.trim() === ".dlt/secrets.toml")) {
        await Deno.writeTextFile(
          ignore,
          `${text.endsWith("\n") || !text ? "" : "\n"}.dlt/secrets.toml\n`,
          {
            append: true,
          },
        );
        io.out(`Added .dlt/secrets.toml to ${ignore}`);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // gitlab-pg reads .dlt/ of the folder it runs in
    const cd = root === resolve(io.cwd) ? "" : `cd ${relative(io.cwd, root) || "."}, `;
    io.out(
      `Next: put your GitLab token in .dlt/secrets.toml (or SOURCES__GITLAB__API_KEY), the projects or groups in .dlt/config.toml, then ${cd}run "gitlab-pg run"`,
    );
    return 0;
  },
};
