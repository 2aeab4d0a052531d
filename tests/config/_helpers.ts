/**
 * Helpers of the config tests: a temp project folder with `.dlt/` files, and golden files.
 *
 * @module
 */

import { assertGolden as assertGoldenFile } from "../helpers/golden.ts";

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

/** Compares `actual` with golden file `config/<name>.txt` (UPDATE_GOLDEN=1 rewrites it). */
export function assertGolden(name: string, actual: string): Promise<void> {
  return assertGoldenFile("config", name, actual);
}
