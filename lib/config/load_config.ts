/**
 * Resolves the configuration like dlt: command-line overrides > environment variables >
 * `.dlt/secrets.toml` > `.dlt/config.toml` > defaults, with dlt's section layout and env names
 * (`SOURCES__GITLAB__API_KEY`).
 *
 * @module
 */

import { join } from "node:path";
import { ConfigError } from "../common/errors.ts";
import { registerSecret } from "../common/redact.ts";
import { DEFAULT_LOAD_WORKERS, describeConfigKeys, envVarOf } from "./config_keys.ts";
import { CREDENTIAL_KEYS, DESTINATION_TYPES, LOG_LEVELS, SOURCE_KEYS } from "./_known_keys.ts";
import { closest as didYouMean } from "../common/did_you_mean.ts";
import { envProvider, lookup, type Provider, tableProvider } from "./_providers.ts";
import { CREDS, resolveCredentials } from "./_resolve_credentials.ts";
import { readTomlFile } from "./_toml_file.ts";
import {
  asChoice,
  asHttpUrl,
  asIdList,
  asInt,
  asString,
  type Found,
  Invalid,
  isSet,
  isSetSecret,
  isTable,
  kindOf,
  Problems,
  problemText,
  shown,
} from "./_values.ts";
import type { Config, GitlabSourceConfig, PostgresCredentials } from "./types.ts";

/**
 * Values from command-line flags; they win over every other provider. Each field sets the
 * TOML key named in its description.
 */
export interface ConfigOverrides {
  /** `pipeline_name`. @default {undefined} */
  pipeline_name?: string;
  /** `dataset_name`. @default {undefined} */
  dataset_name?: string;
  /** `destination_type`: `postgres` or `pglite`. @default {undefined} */
  destination_type?: string;
  /** `pipelines_dir`. @default {undefined} */
  pipelines_dir?: string;
  /** `export_schema_path`. @default {undefined} */
  export_schema_path?: string;
  /** `import_schema_path`. @default {undefined} */
  import_schema_path?: string;
  /** `runtime.log_level`. @default {undefined} */
  log_level?: string;
  /** `sources.gitlab.base_url`. @default {undefined} */
  base_url?: string;
  /** `sources.gitlab.api_key`. @default {undefined} */
  api_key?: string;
  /** `sources.gitlab.projects`: a list or a comma-separated string. @default {undefined} */
  projects?: string[] | string;
  /** `sources.gitlab.groups`: a list or a comma-separated string. @default {undefined} */
  groups?: string[] | string;
  /** `sources.gitlab.max_table_nesting`. @default {undefined} */
  max_table_nesting?: number;
  /** `sources.gitlab.start_date`. @default {undefined} */
  start_date?: string;
  /** `sources.gitlab.concurrency` (`--concurrency`). @default {undefined} */
  concurrency?: number;
  /**
   * `destination.postgres.credentials`: a connection string or credential fields.
   * @default {undefined}
   */
  credentials?: string | Partial<PostgresCredentials>;
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Folder holding `.dlt/config.toml` and `.dlt/secrets.toml`. @default {Deno.cwd()} */
  cwd?: string;
  /** Environment variables. @default {Deno.env.toObject()} */
  env?: Record<string, string | undefined>;
  /** Values from command-line flags; they win over everything. @default {{}} */
  overrides?: ConfigOverrides;
}

function overridesDoc(o: ConfigOverrides): Record<string, unknown> {
  return {
    pipeline_name: o.pipeline_name,
    dataset_name: o.dataset_name,
    destination_type: o.destination_type,
    pipelines_dir: o.pipelines_dir,
    export_schema_path: o.export_schema_path,
    import_schema_path: o.import_schema_path,
    runtime: { log_level: o.log_level },
    sources: {
      gitlab: {
        base_url: o.base_url,
        api_key: o.api_key,
        projects: o.projects,
        groups: o.groups,
        max_table_nesting: o.max_table_nesting,
        start_date: o.start_date,
        concurrency: o.concurrency,
      },
    },
    destination: { postgres: { credentials: o.credentials } },
  };
}

/**
 * The keys gitlab-pg reads in each other section of dlt's layout (`""`: the top level), from
 * the documented keys: `runtime` → `log_level`, `slack_incoming_hook`. dlt's files may hold more
 * there (its own runtime, load and extract settings, other destinations), so an unknown key is
 * an error only when it looks like a typo of one of these (`[source.gitlab]`, `log_levle`,
 * `[destination.postgress]`). The sections checked key by key are left out.
 */
const SECTION_KEYS: ReadonlyMap<string, readonly string[]> = (() => {
  const sections = new Map<string, string[]>();
  for (const { key } of describeConfigKeys()) {
    const parts = key ? key.split(".") : [];
    parts.forEach((part, i) => {
      const section = parts.slice(0, i).join(".");
      const known = sections.get(section) ?? [];
      if (!known.includes(part)) sections.set(section, [...known, part]);
    });
  }
  for (const strict of ["sources", "sources.gitlab", CREDS]) sections.delete(strict);
  return sections;
})();

/**
 * Reports unknown keys in `[sources.gitlab]`, `[sources]` and the credentials table, and likely
 * typos of known keys elsewhere ({@linkcode SECTION_KEYS}).
 */
function checkKnownKeys(provider: Provider, problems: Problems): void {
  const unknown = (section: string, key: string, known: readonly string[]) => {
    const hint = didYouMean(key, known);
    const text = hint
      ? `unknown key (did you mean "${section}.${hint}", env ${envVarOf(`${section}.${hint}`)}?)`
      : `unknown key, expected one of ${known.map((k) => `"${k}"`).join(", ")}`;
    problems.list.push(problemText(`${section}.${key}`, provider.origin, text));
  };
  const sources = provider.get("sources");
  if (isTable(sources)) {
    for (const [key, value] of Object.entries(sources)) {
      // Tables in [sources] are other sources' sections (dlt layout): not ours to check.
      if (!isTable(value) && !(SOURCE_KEYS as readonly string[]).includes(key)) {
        unknown("sources", key, SOURCE_KEYS);
      }
    }
  }
  const gitlab = provider.get("sources.gitlab");
  if (gitlab !== undefined && !isTable(gitlab)) {
    problems.list.push(
      problemText("sources.gitlab", provider.origin, `expected a table, got ${kindOf(gitlab)}`),
    );
  } else if (isTable(gitlab)) {
    for (const key of Object.keys(gitlab)) {
      if (!(SOURCE_KEYS as readonly string[]).includes(key)) {
        unknown("sources.gitlab", key, SOURCE_KEYS);
      }
    }
  }
  const creds = provider.get(CREDS);
  if (isTable(creds)) {
    for (const key of Object.keys(creds)) {
      if (!(CREDENTIAL_KEYS as readonly string[]).includes(key)) {
        unknown(CREDS, key, CREDENTIAL_KEYS);
      }
    }
  }
  // elsewhere dlt's files may hold keys of dlt's own: only a likely typo of ours is an error
  for (const [section, known] of SECTION_KEYS) {
    const table = provider.get(section);
    if (!isTable(table)) continue;
    for (const key of Object.keys(table)) {
      if (known.includes(key)) continue;
      const near = didYouMean(key, known);
      if (near === undefined) continue;
      const path = section ? `${section}.${key}` : key;
      const meant = section ? `${section}.${near}` : near;
      problems.list.push(
        problemText(
          path,
          provider.origin,
          `unknown key (did you mean "${meant}"${
            isTable(table[key]) ? ", a table" : `, env ${envVarOf(meant)}`
          }?)`,
        ),
      );
    }
  }
}

/** The most requests in flight `concurrency` allows. */
export const MAX_CONCURRENCY = 256;

/**
 * Warnings for environment variables in gitlab-pg's sections that set nothing: any name under
 * `SOURCES__GITLAB__` or `DESTINATION__POSTGRES__CREDENTIALS__` that is not one of their keys
 * (a mistyped `SOURCES__GITLAB__PROJECT` would otherwise widen the run to every project the
 * token reaches, without a word), and likely typos of gitlab-pg's keys elsewhere
 * (`RUNTIME__LOG_LEVLE`, `NORMALIZE__WORKRES`, `SOURCES__CONCURENCY`). Only warnings, unlike
 * the same keys in the TOML files: the environment is shared (with dlt's own settings too).
 */
function envWarnings(env: Record<string, string | undefined>): string[] {
  const strict = new Map<string, readonly string[]>([
    ["sources.gitlab", SOURCE_KEYS],
    [CREDS, CREDENTIAL_KEYS],
  ]);
  const lenient = new Map([...SECTION_KEYS, ["sources", [...SOURCE_KEYS, "gitlab"]]]);
  const isSection = (path: string) => strict.has(path) || lenient.has(path);
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.includes("__") || name !== name.toUpperCase()) continue;
    const parts = name.toLowerCase().split("__");
    for (let i = 1; i < parts.length; i++) {
      const section = parts.slice(0, i).join(".");
      const key = parts[i];
      const known = strict.get(section) ?? lenient.get(section);
      if (known === undefined) break; // not a section of gitlab-pg's
      if (known.includes(key)) {
        if (isSection(`${section}.${key}`)) continue;
        // a key takes no sub-keys, but `…__CREDENTIALS__QUERY__SSLMODE` sets one parameter
        if (i < parts.length - 1 && !(section === CREDS && key === "query")) {
          out.push(
            `Environment variable ${name} is ignored: ${
              envVarOf(`${section}.${key}`)
            } takes a value, not sub-keys`,
          );
        }
        break;
      }
      // `SOURCES__<another source>__…`: dlt's layout, not a typo of ours
      if (section === "sources" && i < parts.length - 1) break;
      const near = didYouMean(key, known);
      // elsewhere than in the strict sections, only a likely typo: dlt's own settings live there
      if (near !== undefined || strict.has(section)) {
        const hint = near !== undefined
          ? `did you mean ${envVarOf(`${section}.${near}`)}?`
          : `${envVarOf(section)}__ takes ${known.map((k) => k.toUpperCase()).join(", ")}`;
        out.push(
          `Environment variable ${name} is ignored: gitlab-pg has no such setting (${hint})`,
        );
      }
      break;
    }
  }
  return out;
}

function resolveSource(
  providers: Provider[],
  env: Record<string, string | undefined>,
  problems: Problems,
): GitlabSourceConfig {
  const keys = (name: string) => [`sources.gitlab.${name}`, `sources.${name}`];
  const source: GitlabSourceConfig = { projects: [], groups: [] };

  const baseUrl = lookup(providers, keys("base_url"));
  if (baseUrl) {
    source.base_url = problems.check(baseUrl, asHttpUrl);
  } else if (isSet(env.CI_API_V4_URL)) {
    const found: Found = {
      value: env.CI_API_V4_URL,
      key: "sources.gitlab.base_url",
      origin: { kind: "env" },
    };
    source.base_url = problems.check(found, asHttpUrl, "CI_API_V4_URL");
  }

  for (const provider of providers) {
    for (const key of keys("api_key")) {
      const value = provider.get(key);
      if (typeof value === "string" && isSetSecret(value)) registerSecret(value.trim());
    }
  }
  const apiKey = lookup(providers, keys("api_key"), isSetSecret);
  if (apiKey) source.api_key = problems.check(apiKey, (v) => asString(v, true));
  if (isSet(env.CI_JOB_TOKEN)) {
    source.job_token = env.CI_JOB_TOKEN!.trim();
    registerSecret(source.job_token);
  }

  const projects = lookup(providers, keys("projects"));
  if (projects) {
    source.projects = problems.check(projects, (v) => asIdList(v, "project paths or ids")) ?? [];
  }
  const groups = lookup(providers, keys("groups"));
  if (groups) {
    source.groups = problems.check(groups, (v) => asIdList(v, "group paths or ids")) ?? [];
  }
  const nesting = lookup(providers, keys("max_table_nesting"));
  if (nesting) source.max_table_nesting = problems.check(nesting, (v) => asInt(v, 0));
  const startDate = lookup(providers, keys("start_date"));
  if (startDate) source.start_date = problems.check(startDate, asIsoDate);
  const rpm = lookup(providers, keys("max_requests_per_minute"));
  if (rpm) source.max_requests_per_minute = problems.check(rpm, (v) => asInt(v, 1));
  const concurrency = lookup(providers, keys("concurrency"));
  if (concurrency) {
    source.concurrency = problems.check(concurrency, (v) => asInt(v, 1, MAX_CONCURRENCY));
  }
  const params = lookup(providers, keys("params"), (v) => v !== undefined);
  if (params) source.params = problems.check(params, asParams);
  return source;
}

/**
 * Loads the configuration from `<cwd>/.dlt/config.toml`, `<cwd>/.dlt/secrets.toml` (both
 * optional), environment variables and command-line overrides, and validates it. Every secret
 * read (api_key, CI_JOB_TOKEN, passwords, also inside connection strings) is registered for
 * redaction.
 *
 * Precedence: overrides > env > secrets.toml > config.toml > defaults. Source keys are looked up
 * in `[sources.gitlab]` then `[sources]` (env `SOURCES__GITLAB__X` then `SOURCES__X`) within each
 * provider, before the next provider. Unlike dlt, there is no lookup in pipeline-named sections
 * (`[<pipeline_name>.sources.gitlab]`) nor of source keys at the top level. An empty value counts
 * as not set, and so does dlt's placeholder `"FILL ME OUT"` for `api_key` and `password`.
 * Credential fields merge across providers field by field, so a field env var such as
 * `DESTINATION__POSTGRES__CREDENTIALS__HOST` overrides the host of a connection string in a file.
 * When `base_url` is not configured, `CI_API_V4_URL` is used; `CI_JOB_TOKEN` becomes `job_token`.
 * Unknown keys in `[sources.gitlab]`, `[sources]` (non-table values) and the credentials table
 * are errors; env vars are not (the environment is shared), but mistyped ones are warned of
 * (`Config.warnings`).
 *
 * @throws {ConfigError} on a TOML syntax error (`file:line:col`) or invalid values; the message
 * lists every problem, each naming the TOML key and the env var that would set it.
 *
 * @example
 * ```ts
 * const config = await loadConfig({ overrides: { dataset_name: "gitlab_raw" } });
 * console.log(config.source.base_url, config.postgres?.credentials.host);
 * ```
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const cwd = options.cwd ?? Deno.cwd();
  const env = options.env ?? Deno.env.toObject();
  const secretsDoc = await readTomlFile(
    join(cwd, ".dlt", "secrets.toml"),
    ".dlt/secrets.toml",
    true,
  );
  const configDoc = await readTomlFile(join(cwd, ".dlt", "config.toml"), ".dlt/config.toml", false);

  const providers: Provider[] = [
    tableProvider(overridesDoc(options.overrides ?? {}), { kind: "flag" }),
    envProvider(env),
  ];
  if (secretsDoc) {
    providers.push(tableProvider(secretsDoc, { kind: "file", file: ".dlt/secrets.toml" }));
  }
  if (configDoc) {
    providers.push(tableProvider(configDoc, { kind: "file", file: ".dlt/config.toml" }));
  }

  const problems = new Problems();
  for (const provider of providers) {
    if (provider.origin.kind !== "env") checkKnownKeys(provider, problems);
  }
  /** Keys whose value could not be read (a problem is listed for each). */
  const unreadable = new Set<string>();
  const text = (key: string, fallback: string): string => {
    const found = lookup(providers, [key]);
    if (!found) return fallback;
    const value = problems.check(found, (v) => asString(v));
    if (value === undefined) unreadable.add(key);
    return value || fallback;
  };
  const home = env.HOME ?? env.USERPROFILE;
  const expandHome = (path: string) =>
    home && (path === "~" || path.startsWith("~/")) ? join(home, path.slice(1)) : path;

  const config: Config = {
    pipeline_name: text("pipeline_name", "gitlab_pipeline"),
    dataset_name: text("dataset_name", "gitlab_data"),
    pipelines_dir: expandHome(
      text("pipelines_dir", join(home ?? cwd, ".gitlab-pg", "pipelines")),
    ),
    export_schema_path: expandHome(text("export_schema_path", "schemas/export")),
    runtime: { log_level: "WARNING" },
    normalize: {},
    load: { workers: DEFAULT_LOAD_WORKERS },
    source: resolveSource(providers, env, problems),
  };
  const importPath = text("import_schema_path", "");
  if (importPath) config.import_schema_path = expandHome(importPath);

  const destinationType = lookup(providers, ["destination_type"]);
  if (destinationType) {
    config.destination_type = problems.check(
      destinationType,
      (v) => asChoice(v, DESTINATION_TYPES, (w) => didYouMean(w, DESTINATION_TYPES)),
    );
  }
  const logLevel = lookup(providers, ["runtime.log_level"]);
  if (logLevel) {
    config.runtime.log_level = problems.check(
      logLevel,
      (v) => asChoice(v, LOG_LEVELS, (w) => didYouMean(w, LOG_LEVELS)),
    ) ?? "WARNING";
  }
  const slackHook = lookup(providers, ["runtime.slack_incoming_hook"]);
  if (slackHook && typeof slackHook.value === "string" && slackHook.value.trim()) {
    const hook = slackHook.value.trim();
    registerSecret(hook);
    // told now, not when the first alert cannot be sent (it is a secret: not shown)
    config.runtime.slack_incoming_hook = problems.check(slackHook, () => {
      if (!/^https?:\/\/[^/\s]/i.test(hook) || !URL.canParse(hook)) {
        throw new Invalid("expected the webhook's http(s) URL, e.g. https://hooks.slack.com/…");
      }
      return hook;
    });
  }
  const timeout = lookup(providers, ["runtime.request_timeout"]);
  if (timeout) config.runtime.request_timeout = problems.check(timeout, asSeconds);
  const attempts = lookup(providers, ["runtime.request_max_attempts"]);
  if (attempts) {
    config.runtime.request_max_attempts = problems.check(attempts, (v) => asInt(v, 1, 100));
  }
  const workers = lookup(providers, ["normalize.workers"]);
  if (workers) config.normalize.workers = problems.check(workers, (v) => asInt(v, 1, 64));
  const loadWorkers = lookup(providers, ["load.workers"]);
  if (loadWorkers) {
    config.load.workers = problems.check(loadWorkers, (v) => asInt(v, 1, 64)) ??
      DEFAULT_LOAD_WORKERS;
  }
  const resolved = resolveCredentials(providers, env, problems);
  if (resolved) config.postgres = resolved;
  const warnings = envWarnings(env);
  if (warnings.length) config.warnings = warnings;

  if (problems.list.length > 0) {
    const error = new ConfigError(problems.list.join("\n"));
    // the names read without a problem of their own: a failed `run --json` still tells them
    const sound = (key: "pipeline_name" | "dataset_name") =>
      unreadable.has(key) ? undefined : config[key];
    error.names = { pipeline_name: sound("pipeline_name"), dataset_name: sound("dataset_name") };
    throw error;
  }
  return config;
}

/** A positive number of seconds (dlt's `request_timeout` is a float), at most a day. */
function asSeconds(value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0 || n > 86_400) {
    throw new Invalid(
      `expected a number of seconds above 0 (at most 86400), got ${
        typeof value === "string" ? JSON.stringify(value) : String(value)
      }`,
    );
  }
  return n;
}

/** `start_date`: an ISO date or date-time (a TOML date too), kept as ISO text. */
function asIsoDate(value: unknown): string {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  if (
    typeof value === "string" &&
    /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) &&
    !Number.isNaN(Date.parse(value.trim()))
  ) {
    return value.trim();
  }
  throw new Invalid(
    `expected an ISO date or date-time such as "2024-01-01" or "2024-01-01T00:00:00Z", got ${
      shown(value)
    }`,
  );
}

/** `[sources.gitlab.params]`: a table (TOML) or a JSON object (env) of scalar values. */
function asParams(value: unknown): Record<string, string | number | boolean> {
  let v = value;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      throw new Invalid(
        `expected a table, or a JSON object like '{"alert_iid": 1}', got ${shown(value)}`,
      );
    }
  }
  if (!isTable(v)) throw new Invalid(`expected a table of values, got ${kindOf(v)}`);
  const out: Record<string, string | number | boolean> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") {
      throw new Invalid(`expected "${k}" to be a string, number or boolean, got ${kindOf(x)}`);
    }
    out[k] = x;
  }
  return out;
}
