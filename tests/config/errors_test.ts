import assert from "node:assert/strict";
import { ConfigError } from "../../lib/common/errors.ts";
import { type ConfigOverrides, loadConfig } from "../../lib/config/mod.ts";
import { assertGolden, tempProject } from "./_helpers.ts";

interface Case {
  config?: string;
  secrets?: string;
  env?: Record<string, string>;
  overrides?: ConfigOverrides;
}

async function errorOf(c: Case): Promise<ConfigError> {
  const cwd = await tempProject({ config: c.config, secrets: c.secrets });
  const error = await loadConfig({ cwd, env: c.env ?? {}, overrides: c.overrides }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  return error;
}

Deno.test("loadConfig() reports a TOML syntax error with file, line and column", async () => {
  const error = await errorOf({
    config: `[runtime]\nlog_level = "INFO"\n\n[sources.gitlab]\nbase_url = https://gitlab.com\n`,
  });
  await assertGolden("toml_syntax_error", error.message);
});

Deno.test("loadConfig() reports an unclosed list at the end of the file", async () => {
  const error = await errorOf({ config: `[sources.gitlab]\nprojects = ["a", "b"\n` });
  assert.match(error.message, /^\.dlt\/config\.toml:3:1: Cannot parse TOML: /);
});

Deno.test("loadConfig() does not quote the line of a syntax error in secrets.toml", async () => {
  const error = await errorOf({ secrets: `[sources.gitlab]\napi_key = "glpat-abc\n` });
  assert.ok(!error.message.includes("glpat-abc"));
  await assertGolden("toml_syntax_error_secrets", error.message);
});

Deno.test("loadConfig() reports values of the wrong type with key and env var", async () => {
  const error = await errorOf({
    config: `pipeline_name = 7\n[sources.gitlab]\nprojects = 5\ngroups = ["g", true]\n` +
      `api_key = 1234\n[destination.postgres.credentials]\nport = "http"\n`,
    env: {
      SOURCES__GITLAB__MAX_TABLE_NESTING: "-1",
      NORMALIZE__WORKERS: "0",
      LOAD__WORKERS: "65",
      DESTINATION__POSTGRES__CREDENTIALS__CONNECT_TIMEOUT: "soon",
    },
  });
  await assertGolden("wrong_type", error.message);
});

Deno.test("loadConfig() reports unknown keys with a suggestion", async () => {
  const error = await errorOf({
    config: `[sources.gitlab]\nbase_ur = "https://gitlab.com/api/v4"\nprojetcs = ["a"]\n` +
      `colour = "blue"\n`,
    secrets: `[destination.postgres.credentials]\nhostname = "h"\n`,
  });
  await assertGolden("unknown_key", error.message);
});

Deno.test("loadConfig() reports a base_url that is not an http(s) URL", async () => {
  const error = await errorOf({
    config: `[sources.gitlab]\nbase_url = "gitlab.example.com/api/v4"\n`,
  });
  await assertGolden("bad_url", error.message);
  const ci = await errorOf({ env: { CI_API_V4_URL: "ftp://gitlab.example.com/api/v4" } });
  await assertGolden("bad_ci_url", ci.message);
});

Deno.test("loadConfig() reports a bad connection string without showing it", async () => {
  const error = await errorOf({
    env: { DESTINATION__POSTGRES__CREDENTIALS: "mysql://root:hunter22@db/app" },
    secrets: `[destination.postgres]\ncredentials = "postgresql://u:hunter33@h:99999/db"\n`,
  });
  assert.ok(!error.message.includes("hunter"));
  await assertGolden("bad_connection_string", error.message);
});

Deno.test("loadConfig() reports a bad log level or destination type", async () => {
  const error = await errorOf({
    config: `[runtime]\nlog_level = "warn"\n`,
    overrides: { destination_type: "postgre" },
  });
  await assertGolden("bad_log_level", error.message);
});

Deno.test("an unknown sslmode is a configuration error, in a connection string or the query table", async () => {
  for (
    const c of [
      { env: { DESTINATION__POSTGRES__CREDENTIALS: "postgresql://u@h:5432/db?sslmode=bogus" } },
      {
        secrets: '[destination.postgres.credentials]\nhost = "h"\nquery = { sslmode = "strict" }\n',
      },
    ]
  ) {
    const e = await errorOf(c);
    assert.match(
      e.message,
      /sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got "(bogus|strict)"/,
    );
  }
  // a valid one passes
  const cwd = await tempProject({});
  const config = await loadConfig({
    cwd,
    env: { DESTINATION__POSTGRES__CREDENTIALS: "postgresql://u@h:5432/db?sslmode=verify-full" },
  });
  assert.equal(config.postgres?.credentials.query.sslmode, "verify-full");
});
