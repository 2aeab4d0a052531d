/**
 * dlt's `print(load_info)` text and the `--json` form of a run.
 *
 * @module
 */

import type { RunInfo } from "./run.ts";

/** Python's `"%0.2f" % value`: the nearest 2-decimal text, an exact tie to the even digit. */
function pyFixed2(value: number): string {
  const text = value.toFixed(2);
  // a double's decimal expansion is finite: 100 digits hold every value this prints
  const exact = value.toFixed(100);
  const cut = exact.indexOf(".") + 3;
  if (!/^50*$/.test(exact.slice(cut))) return text; // not a tie: toFixed rounds to the nearest
  const truncated = exact.slice(0, cut);
  // toFixed rounds a tie up: keep the digit instead when it is even
  return Number(truncated.at(-1)) % 2 === 0 ? truncated : text;
}

/**
 * A duration as Python's `humanize.precisedelta(timedelta(seconds=…))` writes it (minimum unit
 * seconds, format `%0.2f`), which dlt's load info and trace use: `0.43 seconds`, `1 second`,
 * `2 minutes and 3.45 seconds`, `1 hour`, `1 day, 2 hours and 0.50 seconds`. Whole units are
 * written as integers, fractional seconds with 2 decimals, units of 0 are left out, a month is
 * 30.5 days (as humanize counts), the value is rounded to microseconds first (a `timedelta`).
 */
export function preciseDelta(seconds: number): string {
  const micros = Math.round(Math.max(0, seconds) * 1e6);
  let days = Math.floor(micros / 86_400_000_000);
  let secs = Math.floor((micros % 86_400_000_000) / 1e6);
  const usecs = micros % 1e6;
  const years = Math.floor(days / 365);
  days -= years * 365;
  const months = Math.floor(days / 30.5);
  days -= months * 30.5;
  const hours = Math.floor(secs / 3600);
  secs -= hours * 3600;
  const minutes = Math.floor(secs / 60);
  secs = secs - minutes * 60 + usecs / 1e6;
  const units: [string, number][] = [
    ["year", years],
    ["month", months],
    ["day", days],
    ["hour", hours],
    ["minute", minutes],
    ["second", secs],
  ];
  const texts: string[] = [];
  for (const [unit, value] of units) {
    const last = unit === "second";
    if (!(value > 0 || (last && texts.length === 0))) continue;
    // humanize picks the plural of 1 < value < 2 as of 2, else of the integer part
    const n = value > 1 && value < 2 ? 2 : Math.trunc(value);
    const word = n === 1 ? unit : `${unit}s`;
    const fractional = value % 1 > 0;
    const number = last && fractional
      ? pyFixed2(value)
      : unit === "year"
      ? Math.trunc(value).toLocaleString("en-US")
      : String(Math.trunc(value));
    texts.push(`${number} ${word}`);
  }
  return texts.length === 1 ? texts[0] : `${texts.slice(0, -1).join(", ")} and ${texts.at(-1)}`;
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
