/**
 * dlt's `print(load_info)` text and the `--json` form of a run.
 *
 * @module
 */

import type { RunInfo } from "./run.ts";

/** Duration like Python's `humanize.precisedelta`: `1.08 seconds`, `2 minutes and 3.45 seconds`. */
export function preciseDelta(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  if (hours) parts.push(`${hours} hour${hours === 1 ? "" : "s"}`);
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest > 0 || parts.length === 0) parts.push(`${rest.toFixed(2)} seconds`);
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
}

/**
 * The load info block dlt prints after `pipeline.run()`.
 *
 * @example
 * ```ts
 * console.log(formatLoadInfo(info));
 * // Pipeline gitlab_pipeline load step completed in 1.08 seconds
 * // 1 load package(s) were loaded to destination postgres and into dataset gitlab_data
 * // ...
 * ```
 */
export function formatLoadInfo(info: RunInfo): string {
  // the load step's own time, as dlt's LoadInfo (the whole run is in --json and the trace)
  const secs = info.loadSeconds ??
    (info.finishedAt.getTime() - info.startedAt.getTime()) / 1000;
  const lines = [
    `Pipeline ${info.pipelineName} load step completed in ${preciseDelta(secs)}`,
    `${info.packages.length} load package(s) were loaded to destination ${info.destinationType} and into dataset ${info.datasetName}`,
    `The ${info.destinationType} destination used ${info.destinationLocation} location to store data`,
  ];
  for (const p of info.packages) {
    lines.push(`Load package ${p.loadId} is LOADED and contains no failed jobs`);
  }
  return lines.join("\n");
}

/** dlt's `NormalizeInfo` text: rows per table of the packages normalized in this run. */
export function formatNormalizeInfo(info: RunInfo): string {
  const rows: Record<string, number> = {};
  for (const p of info.packages) {
    for (const [t, n] of Object.entries(p.rows)) rows[t] = (rows[t] ?? 0) + n;
  }
  const names = Object.keys(rows).sort();
  if (names.length === 0) return "";
  return [
    "Normalized data for the following tables:",
    ...names.map((t) => `- ${t}: ${rows[t]} row(s)`),
  ]
    .join("\n");
}

/** Schema changes of a run: new tables, new columns and new variant columns per table. */
export function schemaChangesOf(info: RunInfo): {
  newTables: string[];
  newColumns: Record<string, string[]>;
  newVariantColumns: Record<string, string[]>;
} {
  const newColumns: Record<string, string[]> = {};
  const newVariantColumns: Record<string, string[]> = {};
  for (const p of info.packages) {
    for (const [t, cols] of Object.entries(p.newColumns)) {
      newColumns[t] = [...(newColumns[t] ?? []), ...cols];
    }
    for (const [t, cols] of Object.entries(p.newVariantColumns ?? {})) {
      newVariantColumns[t] = [...(newVariantColumns[t] ?? []), ...cols];
    }
  }
  return { newTables: info.packages.flatMap((p) => p.newTables), newColumns, newVariantColumns };
}

/**
 * The schema change alert of a run (empty when nothing changed): new tables, then new
 * columns of existing tables, then new variant columns.
 *
 * @example
 * ```ts
 * formatSchemaChanges(info);
 * // Schema changes:
 * // - new table issues
 * // - new variant column issues.weight__v_text
 * ```
 */
export function formatSchemaChanges(info: RunInfo): string {
  const { newTables, newColumns, newVariantColumns } = schemaChangesOf(info);
  const lines: string[] = [];
  for (const t of newTables) lines.push(`- new table ${t}`);
  for (const [t, cols] of Object.entries(newColumns)) {
    if (newTables.includes(t)) continue;
    for (const c of cols) {
      if (!newVariantColumns[t]?.includes(c)) lines.push(`- new column ${t}.${c}`);
    }
  }
  for (const [t, cols] of Object.entries(newVariantColumns)) {
    for (const c of cols) lines.push(`- new variant column ${t}.${c}`);
  }
  return lines.length ? ["Schema changes:", ...lines].join("\n") : "";
}

/** The stable `--json` document of a run (keys documented in README). */
export function runInfoJson(info: RunInfo): Record<string, unknown> {
  const newTables = info.packages.flatMap((p) => p.newTables);
  const newColumns: Record<string, string[]> = {};
  for (const p of info.packages) {
    for (const [t, cols] of Object.entries(p.newColumns)) {
      newColumns[t] = [...(newColumns[t] ?? []), ...cols];
    }
  }
  return {
    pipeline_name: info.pipelineName,
    dataset_name: info.datasetName,
    destination_type: info.destinationType,
    destination_location: info.destinationLocation,
    started_at: info.startedAt.toISOString(),
    finished_at: info.finishedAt.toISOString(),
    duration_seconds: (info.finishedAt.getTime() - info.startedAt.getTime()) / 1000,
    load_packages: info.packages.map((p) => ({
      load_id: p.loadId,
      state: p.state,
      jobs: p.jobs,
      rows: p.rows,
    })),
    requests: info.extract?.requests ?? 0,
    retries: info.extract?.retries ?? 0,
    warnings: info.warnings,
    schema_changes: {
      new_tables: newTables,
      new_columns: newColumns,
      new_variant_columns: schemaChangesOf(info).newVariantColumns,
    },
    schema: {
      version: info.schemaVersion,
      version_hash: info.schemaVersionHash,
      export_path: info.schemaExportPath ?? null,
    },
  };
}
