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

Deno.test("the README's configuration table lists every key, env var and default", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const start = readme.indexOf("| TOML key");
  const rows = readme.slice(start, readme.indexOf("\n\n", start)).split("\n").slice(2);
  const cells = rows.map((r) => r.split("|").slice(1, -1).map((c) => c.trim()));
  const keys = describeConfigKeys();
  assert.equal(cells.length, keys.length);
  keys.forEach((k, i) => {
    assert.equal(cells[i][0], k.key ? `\`${k.key}\`` : "—");
    assert.equal(cells[i][1], `\`${k.env}\``);
    assert.equal(cells[i][2], k.default ? `\`${k.default}\`` : "");
    assert.equal(cells[i][3], `${k.description}${k.secret ? " (secret)" : ""}`);
  });
});
