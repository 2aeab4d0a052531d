import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/mod.ts";
import { ConfigError } from "../../lib/common/errors.ts";
import { clearSecrets, redact } from "../../lib/common/redact.ts";
import { tempProject } from "./_helpers.ts";

const HOME = { HOME: "/home/ci" };

Deno.test("loadConfig() returns defaults without files or env", async () => {
  const cwd = await tempProject();
  const config = await loadConfig({ cwd, env: HOME });
  assert.deepEqual(config, {
    pipeline_name: "gitlab_pipeline",
    dataset_name: "gitlab_data",
    pipelines_dir: "/home/ci/.gitlab-pg/pipelines",
    export_schema_path: "schemas/export",
    runtime: { log_level: "WARNING" },
    normalize: {},
    load: { workers: 2 },
    source: { projects: [], groups: [] },
  });
});

Deno.test("loadConfig() puts pipelines_dir under cwd when HOME is unset", async () => {
  const cwd = await tempProject();
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.pipelines_dir, `${cwd}/.gitlab-pg/pipelines`);
});

Deno.test("loadConfig() reads every key from config.toml", async () => {
  const cwd = await tempProject({
    config: `
pipeline_name = "p1"
dataset_name = "d1"
destination_type = "PGlite"
pipelines_dir = "~/pipes"
export_schema_path = "out/schema"
import_schema_path = "in/schema"
[runtime]
log_level = "info"
[normalize]
workers = 2
[load]
workers = 5
[sources.gitlab]
base_url = "https://gitlab.example.com/gitlab/api/v4/"
projects = ["group/sub/project", 42]
groups = ["g1"]
max_table_nesting = 2
`,
  });
  const config = await loadConfig({ cwd, env: HOME });
  assert.deepEqual(config, {
    pipeline_name: "p1",
    dataset_name: "d1",
    destination_type: "pglite",
    pipelines_dir: "/home/ci/pipes",
    export_schema_path: "out/schema",
    import_schema_path: "in/schema",
    runtime: { log_level: "INFO" },
    normalize: { workers: 2 },
    load: { workers: 5 },
    source: {
      base_url: "https://gitlab.example.com/gitlab/api/v4",
      projects: ["group/sub/project", "42"],
      groups: ["g1"],
      max_table_nesting: 2,
    },
  });
});

Deno.test("loadConfig() prefers secrets.toml over config.toml", async () => {
  const cwd = await tempProject({
    config: `dataset_name = "from_config"\n[sources.gitlab]\nbase_url = "https://a.example"\n`,
    secrets: `dataset_name = "from_secrets"\n[sources.gitlab]\napi_key = "glpat-secret1"\n`,
  });
  const config = await loadConfig({ cwd, env: HOME });
  assert.equal(config.dataset_name, "from_secrets");
  assert.equal(config.source.base_url, "https://a.example");
  assert.equal(config.source.api_key, "glpat-secret1");
});

Deno.test("loadConfig() prefers env over secrets.toml", async () => {
  const cwd = await tempProject({
    config: `[runtime]\nlog_level = "ERROR"\n`,
    secrets: `dataset_name = "from_secrets"\n[sources.gitlab]\napi_key = "glpat-secret1"\n`,
  });
  const config = await loadConfig({
    cwd,
    env: {
      ...HOME,
      DATASET_NAME: "from_env",
      RUNTIME__LOG_LEVEL: "debug",
      SOURCES__GITLAB__API_KEY: "glpat-env",
    },
  });
  assert.equal(config.dataset_name, "from_env");
  assert.equal(config.runtime.log_level, "DEBUG");
  assert.equal(config.source.api_key, "glpat-env");
});

Deno.test("loadConfig() lets overrides win over env and files", async () => {
  const cwd = await tempProject({ config: `pipeline_name = "from_config"\n` });
  const config = await loadConfig({
    cwd,
    env: { ...HOME, PIPELINE_NAME: "from_env", DATASET_NAME: "from_env" },
    overrides: {
      pipeline_name: "from_flag",
      destination_type: "postgres",
      pipelines_dir: "/tmp/p",
      export_schema_path: "x/y",
      projects: "a/b,c/d",
      log_level: "critical",
    },
  });
  assert.equal(config.pipeline_name, "from_flag");
  assert.equal(config.dataset_name, "from_env");
  assert.equal(config.destination_type, "postgres");
  assert.equal(config.pipelines_dir, "/tmp/p");
  assert.equal(config.export_schema_path, "x/y");
  assert.deepEqual(config.source.projects, ["a/b", "c/d"]);
  assert.equal(config.runtime.log_level, "CRITICAL");
});

Deno.test("loadConfig() reads every top-level key from its env var", async () => {
  const cwd = await tempProject();
  const config = await loadConfig({
    cwd,
    env: {
      PIPELINE_NAME: "p",
      DATASET_NAME: "d",
      DESTINATION_TYPE: "pglite",
      PIPELINES_DIR: "/var/pipes",
      EXPORT_SCHEMA_PATH: "e",
      IMPORT_SCHEMA_PATH: "i",
      RUNTIME__LOG_LEVEL: "Error",
      NORMALIZE__WORKERS: "3",
      LOAD__WORKERS: "1",
      SOURCES__GITLAB__BASE_URL: "http://127.0.0.1:8080/api/v4",
      SOURCES__GITLAB__MAX_TABLE_NESTING: "0",
    },
  });
  assert.equal(config.pipeline_name, "p");
  assert.equal(config.dataset_name, "d");
  assert.equal(config.destination_type, "pglite");
  assert.equal(config.pipelines_dir, "/var/pipes");
  assert.equal(config.export_schema_path, "e");
  assert.equal(config.import_schema_path, "i");
  assert.equal(config.runtime.log_level, "ERROR");
  assert.equal(config.normalize.workers, 3);
  assert.equal(config.load.workers, 1);
  assert.equal(config.source.base_url, "http://127.0.0.1:8080/api/v4");
  assert.equal(config.source.max_table_nesting, 0);
});

Deno.test("loadConfig() reads lists from env as JSON, TOML or comma-separated", async () => {
  const cwd = await tempProject();
  const cases: [string, string[]][] = [
    ['["a/b", 42]', ["a/b", "42"]],
    ["['a/b', 'c']", ["a/b", "c"]],
    ["a/b, 42 ,c/d/e,", ["a/b", "42", "c/d/e"]],
    ["17", ["17"]],
    ["[]", []],
  ];
  for (const [text, expected] of cases) {
    const config = await loadConfig({
      cwd,
      env: { SOURCES__GITLAB__PROJECTS: text, SOURCES__GITLAB__GROUPS: text },
    });
    assert.deepEqual(config.source.projects, expected, text);
    assert.deepEqual(config.source.groups, expected, text);
  }
});

Deno.test("loadConfig() looks source keys up in [sources.gitlab], then [sources]", async () => {
  const cwd = await tempProject({
    config: `[sources]\nbase_url = "https://general.example"\ngroups = ["g"]\n` +
      `[sources.gitlab]\nbase_url = "https://gitlab.example"\n`,
  });
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.source.base_url, "https://gitlab.example");
  assert.deepEqual(config.source.groups, ["g"]);
  // like dlt, each provider is searched (specific section first) before the next one
  const fromEnv = await loadConfig({ cwd, env: { SOURCES__BASE_URL: "https://env.example" } });
  assert.equal(fromEnv.source.base_url, "https://env.example");
});

Deno.test("loadConfig() treats empty values and api_key FILL ME OUT as not set", async () => {
  const cwd = await tempProject({
    config: `[sources.gitlab]\napi_key = "glpat-from-config"\n`,
    secrets: `[sources.gitlab]\napi_key = "FILL ME OUT" # TODO: fill in your credentials\n`,
  });
  const config = await loadConfig({ cwd, env: { SOURCES__GITLAB__API_KEY: "", DATASET_NAME: "" } });
  assert.equal(config.source.api_key, "glpat-from-config");
  assert.equal(config.dataset_name, "gitlab_data");
  const cwd2 = await tempProject({ secrets: `[sources.gitlab]\napi_key = "FILL ME OUT"\n` });
  assert.equal((await loadConfig({ cwd: cwd2, env: {} })).source.api_key, undefined);
});

Deno.test("loadConfig() reads the dlt-generated .dlt files of the seed", async () => {
  const cwd = await tempProject({
    config: `[runtime]\nlog_level="INFO"\n[sources.gitlab]\n# Base URL for the API\n` +
      `base_url = "https://www.gitlab.com/api/v4"\n`,
    secrets: `[sources.gitlab]\n# secrets for your gitlab source\n` +
      `api_key = "FILL ME OUT" # TODO: fill in your credentials\n`,
  });
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.runtime.log_level, "INFO");
  assert.equal(config.source.base_url, "https://www.gitlab.com/api/v4");
  assert.equal(config.source.api_key, undefined);
  assert.equal(config.postgres, undefined);
});

Deno.test("loadConfig() reads the repository's example .dlt files", async () => {
  const config = await Deno.readTextFile(new URL("../../.dlt/config.toml", import.meta.url));
  const secrets = await Deno.readTextFile(
    new URL("../../.dlt/secrets.toml.example", import.meta.url),
  );
  // copied as it is (README: "copy it to .dlt/secrets.toml"): the embedded default, as the
  // Quick start says, not a Postgres server of placeholders
  const copied = await loadConfig({ cwd: await tempProject({ config, secrets }), env: {} });
  assert.equal(copied.runtime.log_level, "WARNING");
  assert.equal(copied.source.api_key, undefined);
  assert.equal(copied.postgres, undefined);
  // its field-by-field credentials, uncommented, are a Postgres server
  const block = secrets.slice(secrets.indexOf("# [destination.postgres.credentials]"));
  const uncommented = secrets.replace(block, block.replace(/^# /gm, ""));
  const server = await loadConfig({
    cwd: await tempProject({ config, secrets: uncommented }),
    env: {},
  });
  assert.deepEqual(server.postgres?.credentials, {
    database: "dlt_data",
    username: "loader",
    host: "localhost",
    port: 5432,
    connect_timeout: 15,
    query: { sslmode: "require" },
  });
});

Deno.test("loadConfig() uses CI_API_V4_URL and CI_JOB_TOKEN in GitLab CI", async () => {
  const cwd = await tempProject();
  const env = {
    CI_API_V4_URL: "https://gitlab.example.com/api/v4",
    CI_JOB_TOKEN: "job-token-123",
  };
  const config = await loadConfig({ cwd, env });
  assert.equal(config.source.base_url, "https://gitlab.example.com/api/v4");
  assert.equal(config.source.job_token, "job-token-123");
  assert.equal(config.source.api_key, undefined);

  const configured = await loadConfig({
    cwd,
    env: { ...env, SOURCES__GITLAB__BASE_URL: "https://other.example/api/v4" },
  });
  assert.equal(configured.source.base_url, "https://other.example/api/v4");
  assert.equal(configured.source.job_token, "job-token-123");
});

Deno.test("loadConfig() registers every secret it reads for redaction", async () => {
  clearSecrets();
  const cwd = await tempProject({
    config: `[sources.gitlab]\napi_key = "glpat-lower-priority"\n`,
    secrets: `[sources.gitlab]\napi_key = "glpat-from-secrets"\n` +
      `[destination.postgres.credentials]\npassword = "table-password"\n`,
  });
  await loadConfig({
    cwd,
    env: {
      CI_JOB_TOKEN: "ci-job-token",
      DESTINATION__POSTGRES__CREDENTIALS: "postgresql://u:url%40password@h/db",
    },
  });
  const text = "glpat-from-secrets glpat-lower-priority table-password url@password ci-job-token";
  assert.equal(redact(text), "*** *** *** *** ***");
  clearSecrets();
});

Deno.test("loadConfig() leaves postgres unset without credentials", async () => {
  const cwd = await tempProject({ config: `[destination.postgres]\ncreate_indexes = true\n` });
  assert.equal((await loadConfig({ cwd, env: {} })).postgres, undefined);
});

Deno.test("loadConfig() stops on a likely typo of a key in dlt's other sections, not on dlt's own keys", async () => {
  const typos: [string, RegExp][] = [
    ['[source.gitlab]\napi_key = "x"\n', /config "source".*did you mean "sources", a table\?/],
    [
      '[destination.postgress]\ncredentials = "postgresql://u@h/db"\n',
      /config "destination.postgress".*did you mean "destination.postgres"/,
    ],
    [
      '[destination.postgres]\ncredentialz = "postgresql://u@h/db"\n',
      /did you mean "destination.postgres.credentials", env DESTINATION__POSTGRES__CREDENTIALS\?/,
    ],
    [
      '[runtime]\nlog_levle = "INFO"\n',
      /did you mean "runtime.log_level", env RUNTIME__LOG_LEVEL\?/,
    ],
    [
      'dataset-name = "x"\n',
      /config "dataset-name".*did you mean "dataset_name", env DATASET_NAME\?/,
    ],
  ];
  for (const [config, message] of typos) {
    const cwd = await tempProject({ config });
    await assert.rejects(loadConfig({ cwd, env: {} }), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, message);
      assert.match(e.message, /\.dlt\/config\.toml/);
      return true;
    }, config);
  }
  // dlt's own keys in the same sections (and other destinations, top-level extras) are fine
  const dlt = await tempProject({
    config: [
      "restore_from_destination = true",
      "[runtime]",
      'log_format = "JSON"',
      "dlthub_telemetry = false",
      'log_level = "INFO"',
      "[normalize]",
      "workers = 2",
      'start_method = "spawn"',
      "[load]",
      "workers = 4",
      "[destination.duckdb]",
      'credentials = "x.duckdb"',
      "[destination.postgres]",
      "create_indexes = false",
    ].join("\n"),
  });
  const config = await loadConfig({ cwd: dlt, env: {} });
  assert.equal(config.runtime.log_level, "INFO");
  assert.equal(config.normalize.workers, 2);
});

Deno.test("loadConfig() warns of environment variables that name no setting of gitlab-pg", async () => {
  const cwd = await tempProject();
  const env = {
    ...HOME,
    // typos in gitlab-pg's own sections: each named, with the nearest key
    SOURCES__GITLAB__PROJECT: "a/b",
    DESTINATION__POSTGRES__CREDENTIALS__HOTS: "db.example.com",
    RUNTIME__LOG_LEVLE: "INFO",
    NORMALIZE__WORKRES: "2",
    SOURCES__CONCURENCY: "3",
    SOURCES__GITLAB__API_KEY__X: "y",
    // not typos: gitlab-pg's keys, other sources' and dlt's own settings, other programs' vars
    SOURCES__GITLAB__GROUPS: '["acme"]',
    SOURCES__API_KEY: "glpat-x",
    SOURCES__GITHUB__ACCESS_TOKEN: "ghp",
    DESTINATION__POSTGRES__CREDENTIALS__QUERY__SSLMODE: "require",
    DESTINATION__POSTGRES__CREATE_INDEXES: "false",
    DESTINATION__FILESYSTEM__BUCKET_URL: "s3://b",
    RUNTIME__DLTHUB_TELEMETRY: "false",
    NORMALIZE__LOADER_FILE_FORMAT: "parquet",
    LOAD__WORKERS: "3",
    PATH: "/bin",
    sources__gitlab__projecs: "lower case sets nothing either way",
  };
  const config = await loadConfig({ cwd, env });
  assert.deepEqual(config.warnings, [
    "Environment variable DESTINATION__POSTGRES__CREDENTIALS__HOTS is ignored: gitlab-pg has no such setting (did you mean DESTINATION__POSTGRES__CREDENTIALS__HOST?)",
    "Environment variable NORMALIZE__WORKRES is ignored: gitlab-pg has no such setting (did you mean NORMALIZE__WORKERS?)",
    "Environment variable RUNTIME__LOG_LEVLE is ignored: gitlab-pg has no such setting (did you mean RUNTIME__LOG_LEVEL?)",
    "Environment variable SOURCES__CONCURENCY is ignored: gitlab-pg has no such setting (did you mean SOURCES__CONCURRENCY?)",
    "Environment variable SOURCES__GITLAB__API_KEY__X is ignored: SOURCES__GITLAB__API_KEY takes a value, not sub-keys",
    "Environment variable SOURCES__GITLAB__PROJECT is ignored: gitlab-pg has no such setting (did you mean SOURCES__GITLAB__PROJECTS?)",
  ]);
  // the strict section names its keys when nothing is near
  const token = await loadConfig({ cwd, env: { ...HOME, SOURCES__GITLAB__TOKEN: "t" } });
  assert.match(
    token.warnings?.[0] ?? "",
    /^Environment variable SOURCES__GITLAB__TOKEN is ignored: gitlab-pg has no such setting \(SOURCES__GITLAB__ takes BASE_URL, API_KEY, PROJECTS, /,
  );
  // and a clean environment gives none
  assert.equal((await loadConfig({ cwd, env: HOME })).warnings, undefined);
});

Deno.test("loadConfig() rejects a slack_incoming_hook that is not a URL, without showing it", async () => {
  const cwd = await tempProject();
  for (const hook of ["notaurl", "hooks.slack.com/services/T0/B0/x", "ftp://example.com/x"]) {
    await assert.rejects(
      loadConfig({ cwd, env: { ...HOME, RUNTIME__SLACK_INCOMING_HOOK: hook } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.includes(
          'Cannot read config "runtime.slack_incoming_hook" (env RUNTIME__SLACK_INCOMING_HOOK)',
        ) && e.message.includes("expected the webhook's http(s) URL") &&
        !redact(e.message).includes(hook),
      hook,
    );
  }
  const ok = await loadConfig({
    cwd,
    env: { ...HOME, RUNTIME__SLACK_INCOMING_HOOK: " https://hooks.slack.com/services/T0/B0/x " },
  });
  assert.equal(ok.runtime.slack_incoming_hook, "https://hooks.slack.com/services/T0/B0/x");
  clearSecrets();
});

Deno.test("loadConfig() reads dlt's runtime.request_timeout and request_max_attempts", async () => {
  const cwd = await tempProject({
    config: "[runtime]\nrequest_timeout = 7.5\nrequest_max_attempts = 3\n",
  });
  const config = await loadConfig({ cwd, env: HOME });
  assert.equal(config.runtime.request_timeout, 7.5);
  assert.equal(config.runtime.request_max_attempts, 3);
  const env = await loadConfig({
    cwd,
    env: { ...HOME, RUNTIME__REQUEST_TIMEOUT: "2", RUNTIME__REQUEST_MAX_ATTEMPTS: "1" },
  });
  assert.deepEqual([env.runtime.request_timeout, env.runtime.request_max_attempts], [2, 1]);
  for (
    const [key, value, expected] of [
      [
        "RUNTIME__REQUEST_TIMEOUT",
        "0",
        /expected a number of seconds above 0 \(at most 86400\), got "0"/,
      ],
      ["RUNTIME__REQUEST_TIMEOUT", "soon", /expected a number of seconds above 0/],
      ["RUNTIME__REQUEST_MAX_ATTEMPTS", "0", /expected an integer from 1 to 100, got 0/],
    ] as const
  ) {
    await assert.rejects(
      loadConfig({ cwd, env: { ...HOME, [key]: value } }),
      (e: unknown) =>
        e instanceof ConfigError && expected.test(e.message) && e.message.includes(key),
      `${key}=${value}`,
    );
  }
});
