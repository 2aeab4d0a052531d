/**
 * Chooses and opens the destination: a Postgres server when credentials are given (or
 * `destination_type = "postgres"`), else the embedded PGlite in the pipeline's working dir.
 *
 * @module
 */

import { join } from "node:path";
import { displayCredentials, postgresUrl } from "../config/mod.ts";
import type { Config } from "../config/types.ts";
import { connectPostgres } from "../destinations/postgres/client.ts";
import type { SqlClient } from "../load/sql_client.ts";

/** Which destination a config selects. */
export function destinationTypeOf(config: Config): "postgres" | "pglite" {
  return config.destination_type ?? (config.postgres ? "postgres" : "pglite");
}

/** Folder of the embedded database of a pipeline. */
export function pgliteDir(workdir: string): string {
  return join(workdir, "pglite");
}

/**
 * Opens the destination selected by `config`.
 *
 * @example
 * ```ts
 * const client = await openDestination(config, { workdir: "/tmp/pipe" });
 * ```
 */
export async function openDestination(
  config: Config,
  options: { workdir: string; hook?: (point: string) => void },
): Promise<SqlClient> {
  if (destinationTypeOf(config) === "pglite") {
    // loaded only when chosen: PGlite's module takes ~30 ms to load, on every run otherwise
    const { openPglite } = await import("../destinations/pglite/client.ts");
    return await openPglite(pgliteDir(options.workdir), { hook: options.hook });
  }
  const creds = config.postgres?.credentials;
  return await connectPostgres(creds ? postgresUrl(creds) : undefined, {
    location: creds ? displayCredentials(creds) : undefined,
    connectTimeout: creds?.connect_timeout,
    from: config.postgres?.from,
    connections: config.load.workers,
  });
}
