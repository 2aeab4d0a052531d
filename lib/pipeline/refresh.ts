/**
 * `--refresh` with dlt's meanings: `drop_sources` drops every table of the source and wipes the
 * source's state; `drop_resources` drops the tables of the resources being run and wipes their
 * state; `drop_data` empties those tables and wipes their state, keeping the schema. The tables
 * go into the package state (`dropped_tables` / `truncated_tables`, dlt's keys) and the loader
 * drops or empties them in the same transaction that loads the new data.
 *
 * @module
 */

import { UsageError } from "../common/errors.ts";
import { rootOf } from "../load/load.ts";
import type { StoredSchema } from "../schema/types.ts";
import type { PipelineState } from "./state.ts";

/** dlt's refresh modes. */
export const REFRESH_MODES = ["drop_sources", "drop_resources", "drop_data"] as const;
/** One of {@linkcode REFRESH_MODES}. */
export type RefreshMode = typeof REFRESH_MODES[number];

/** What a refresh asks the loader to do. */
export interface RefreshPlan {
  dropped_tables: string[];
  truncated_tables: string[];
}

/** Checks a `--refresh` value. */
export function parseRefreshMode(value: string): RefreshMode {
  if ((REFRESH_MODES as readonly string[]).includes(value)) return value as RefreshMode;
  throw new UsageError(
    `Flag "--refresh" takes ${REFRESH_MODES.slice(0, -1).map((m) => `"${m}"`).join(", ")} or "${
      REFRESH_MODES.at(-1)
    }", got "${value}"`,
  );
}

/**
 * Applies `mode` to the schema and the state (in place) and returns the tables the loader must
 * drop or empty. Nested tables come before their roots.
 *
 * @example
 * ```ts
 * const plan = planRefresh(schema, { state, source: "gitlab", mode: "drop_data", resources: ["issues"] });
 * ```
 */
export function planRefresh(
  schema: StoredSchema,
  options: { state: PipelineState; source: string; mode: RefreshMode; resources: string[] },
): RefreshPlan {
  const { state, source, mode } = options;
  const all = mode === "drop_sources";
  const resources = new Set(options.resources);
  const tables = Object.keys(schema.tables).filter((t) => {
    if (t.startsWith("_dlt")) return false;
    if (all) return true;
    const root = schema.tables[rootOf(schema, t)];
    return resources.has(String(root?.resource ?? root?.name));
  }).sort((a, b) => depth(schema, b) - depth(schema, a));
  const src = (state.sources ??= {})[source] ??= { resources: {} };
  if (all) state.sources[source] = { resources: {} };
  else for (const r of resources) delete (src.resources ??= {})[r];
  if (mode === "drop_data") return { dropped_tables: [], truncated_tables: tables };
  for (const t of tables) delete schema.tables[t];
  return { dropped_tables: tables, truncated_tables: [] };
}

function depth(schema: StoredSchema, table: string): number {
  let n = 0;
  for (let t = schema.tables[table]; t?.parent; t = schema.tables[t.parent]) n++;
  return n;
}
