/**
 * Configuration: `.dlt/config.toml` + `.dlt/secrets.toml` + environment + command-line flags →
 * a typed {@linkcode Config}, with dlt's layout, precedence and env names.
 *
 * @example
 * ```ts
 * import { displayCredentials, loadConfig } from "./mod.ts";
 *
 * const config = await loadConfig();
 * if (config.postgres) console.log(displayCredentials(config.postgres.credentials));
 * ```
 *
 * @module
 */

export { loadConfig, MAX_CONCURRENCY } from "./load_config.ts";
export type { ConfigOverrides, LoadConfigOptions } from "./load_config.ts";
export { displayCredentials, postgresUrl } from "./credentials.ts";
export { describeConfigKeys, envVarOf } from "./config_keys.ts";
export type { ConfigKeyInfo } from "./config_keys.ts";
export type { Config, GitlabSourceConfig, PostgresCredentials } from "./types.ts";
