/**
 * Helpers of the config tests: a temp project folder with `.dlt/` files, and golden files.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Contents of the `.dlt/` files of a temp project; absent files are not written. */
export interface ProjectFiles {
  config?: string;
  secrets?: string;
}

const created: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of created) Deno.removeSync(dir, { recursive: true });
});

/** Creates a temp folder (removed when the test process ends) with `.dlt/config.toml` and `.dlt/secrets.toml` as given. */
export async function tempProject(files: ProjectFiles = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gitlab_pg_config_" });
  created.push(dir);
  await Deno.mkdir(`${dir}/.dlt`);
  if (files.config !== undefined) await Deno.writeTextFile(`${dir}/.dlt/config.toml`, files.config);
  if (files.secrets !== undefined) {
    await Deno.writeTextFile(`${dir}/.dlt/secrets.toml`, files.secrets);
  }
  return dir;
}

/**
 * Compares `actual` with `tests/testdata/golden/config/<name>.txt`, or rewrites the file when
 * UPDATE_GOLDEN=1.
 */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const path = new URL(`../testdata/golden/config/${name}.txt`, import.meta.url);
  const text = actual.endsWith("\n") ? actual : `${actual}\n`;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.writeTextFile(path, text);
    return;
  }
  const expected = await Deno.readTextFile(path).catch(() => {
    throw new Error(`Golden file "${path.pathname}" is missing: run with UPDATE_GOLDEN=1`);
  });
  assert.equal(text, expected);
}
