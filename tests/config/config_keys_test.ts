import assert from "node:assert/strict";
import { describeConfigKeys, envVarOf } from "../../lib/config/mod.ts";
import { assertGolden } from "./_helpers.ts";

Deno.test("envVarOf() joins the upper-cased key path with __", () => {
  assert.equal(envVarOf("sources.gitlab.api_key"), "SOURCES__GITLAB__API_KEY");
  assert.equal(envVarOf("pipeline_name"), "PIPELINE_NAME");
});

Deno.test("describeConfigKeys() lists every key once with its env var", async () => {
  const keys = describeConfigKeys();
  const envs = keys.map((k) => k.env);
  assert.equal(new Set(envs).size, envs.length);
  for (const k of keys) if (k.key) assert.equal(k.env, envVarOf(k.key));
  const table = keys.map((k) =>
    [k.key || "-", k.env, k.default || "-", k.secret ? "secret" : "", k.description].join(" | ")
  );
  await assertGolden("keys", table.join("\n"));
});
