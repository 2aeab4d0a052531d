/**
 * The configuration as the commands use it: {@linkcode loadConfig}, then the names dlt
 * derives from it — the dataset name in its snake_case form (dlt's
 * `enable_dataset_name_normalization`, on by default: the Postgres schema dlt writes is
 * `normalize_table_identifier(dataset_name)`), and a pipeline name that can name a folder.
 *
 * @module
 */

import { ConfigError } from "../common/errors.ts";
import { type Config, loadConfig, type LoadConfigOptions } from "../config/mod.ts";
import { normalizeTableIdentifier } from "../schema/naming.ts";

/**
 * Loads the configuration for a command.
 *
 * @example
 * ```ts
 * const config = await loadCliConfig({ overrides: { dataset_name: "GitLab-Data" } });
 * config.dataset_name; // "git_lab_data"
 * ```
 */
export async function loadCliConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const config = await loadConfig(options);
  const name = config.pipeline_name;
  if (
    name.trim() === "" || name === "." || name === ".." || /[/\\]/.test(name) || name.includes("\0")
  ) {
    throw new ConfigError(
      `Cannot use pipeline_name "${name}" (env PIPELINE_NAME, flag --pipeline-name): it names ` +
        "the pipeline's working folder, so it cannot be empty, . or .., nor hold / or \\",
    );
  }
  config.dataset_name = normalizeTableIdentifier(config.dataset_name);
  return config;
}
