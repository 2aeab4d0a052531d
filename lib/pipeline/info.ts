/**
 * What `dlt pipeline <name> info` shows: the synchronized state, the local state, resources
 * with their tables and state slots, pending and completed load packages, and whether a trace
 * exists. Read from the working dir; from the destination only when the working dir has no
 * state (a fresh CI container), and then the destination is closed again at once.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { DestinationBusyError } from "../common/errors.ts";
import type { Config } from "../config/types.ts";
import type { SqlClient } from "../load/sql_client.ts";
import { fromStoredJson, storedSchemaProblem } from "../schema/mod.ts";
import type { StoredSchema, Table } from "../schema/types.ts";
import { PackageStorage, readJsonIfExists } from "../storage/package_storage.ts";
import { destinationTypeOf, openDestination, pgliteDir } from "./destination.ts";
import { loadLocalState, type PipelineState, restoreSchemaJson, restoreState } from "./state.ts";
import { TRACE_FILE } from "./trace.ts";

/** One table of a resource. */
export interface TableInfo {
  name: string;
  columns: number;
  /** dlt's `x-normalizer.seen-data`: the table received rows at least once. */
  receivedData: boolean;
  /** Columns without a data type yet. */
  incompleteColumns: number;
}

/** One resource of a schema. */
export interface ResourceInfo {
  name: string;
  tables: TableInfo[];
  /** Keys of the resource's state (`sources.<schema>.resources.<name>`). */
  stateSlots: number;
}

/** What {@linkcode pipelineInfo} found. */
export interface PipelineInfo {
  pipelineName: string;
  pipelinesDir: string;
  workdir: string;
  /** The working dir exists. */
  found: boolean;
  /**
   * Why the destination could not be read for the state: the embedded database is open in
   * another gitlab-pg process (a run in progress, `show`). @default {undefined}
   */
  destinationBusy?: string;
  /** Where the state came from. */
  stateSource: "local" | "destination" | "none";
  state?: PipelineState;
  schemas: { name: string; version: number; versionHash: string; resources: ResourceInfo[] }[];
  packages: { extracted: string[]; normalized: string[]; loaded: string[] };
  hasTrace: boolean;
}

/** Options of {@linkcode pipelineInfo}. */
export interface PipelineInfoOptions {
  /** Base for a relative pipelines_dir. @default {Deno.cwd()} */
  cwd?: string;
  /**
   * Opens the destination when the working dir has no state; `false` never opens it.
   * @default {openDestination}
   */
  open?: ((config: Config, workdir: string) => Promise<SqlClient>) | false;
}

/**
 * Collects the pipeline's info.
 *
 * @example
 * ```ts
 * const info = await pipelineInfo(config, { cwd: Deno.cwd() });
 * console.log(formatPipelineInfo(info));
 * ```
 */
export async function pipelineInfo(
  config: Config,
  options: PipelineInfoOptions = {},
): Promise<PipelineInfo> {
  const cwd = options.cwd ?? Deno.cwd();
  const pipelinesDir = resolve(cwd, config.pipelines_dir);
  const workdir = join(pipelinesDir, config.pipeline_name);
  const found = await exists(workdir);
  let state = found ? await loadLocalState(workdir) : undefined;
  let stateSource: PipelineInfo["stateSource"] = state ? "local" : "none";
  const schemas: StoredSchema[] = [];
  if (found) {
    try {
      for await (const e of Deno.readDir(join(workdir, "schemas"))) {
        if (!e.isFile || !e.name.endsWith(".schema.json")) continue;
        const s = await readJsonIfExists<StoredSchema>(join(workdir, "schemas", e.name), {
          check: storedSchemaProblem,
        });
        if (s) schemas.push(s);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const open = options.open === undefined
    ? (c: Config, w: string) => openDestination(c, { workdir: w })
    : options.open;
  // PGlite would create an empty database where there is none: only open an existing one
  const canOpen = open !== false &&
    (destinationTypeOf(config) === "postgres" || await exists(pgliteDir(workdir)));
  let destinationBusy: string | undefined;
  let client: SqlClient | undefined;
  if (!state && canOpen) {
    try {
      client = await open(config, workdir);
    } catch (e) {
      // a first run still going holds the embedded database: tell that, with what is known
      if (!(e instanceof DestinationBusyError)) throw e;
      destinationBusy = e.message;
    }
  }
  if (client) {
    try {
      state = await restoreState(client, {
        dataset: config.dataset_name,
        pipelineName: config.pipeline_name,
      });
      if (state) {
        stateSource = "destination";
        for (const name of state.schema_names ?? []) {
          const json = await restoreSchemaJson(client, {
            dataset: config.dataset_name,
            schemaName: name,
          });
          if (json && !schemas.some((s) => s.name === name)) schemas.push(fromStoredJson(json));
        }
      }
    } finally {
      await client.close();
    }
  }
  const storage = new PackageStorage(workdir);
  return {
    pipelineName: config.pipeline_name,
    pipelinesDir,
    workdir,
    found,
    ...(destinationBusy !== undefined ? { destinationBusy } : {}),
    stateSource,
    state,
    schemas: schemas.sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({
      name: s.name,
      version: s.version,
      versionHash: s.version_hash,
      resources: resourcesOf(s, state),
    })),
    packages: {
      extracted: await storage.list("extracted"),
      normalized: await storage.list("normalized"),
      loaded: await storage.list("loaded"),
    },
    hasTrace: found && await exists(join(workdir, TRACE_FILE)),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function rootOf(tables: Record<string, Table>, name: string): Table | undefined {
  let t: Table | undefined = tables[name];
  for (let i = 0; t?.parent && i < 100; i++) t = tables[t.parent];
  return t;
}

/** Data tables grouped by the resource of their root table (system tables left out). */
function resourcesOf(schema: StoredSchema, state: PipelineState | undefined): ResourceInfo[] {
  const byResource = new Map<string, TableInfo[]>();
  for (const [name, table] of Object.entries(schema.tables)) {
    if (name.startsWith("_dlt")) continue;
    const resource = rootOf(schema.tables, name)?.resource ?? name;
    const cols = Object.values(table.columns ?? {});
    const list = byResource.get(resource) ?? [];
    list.push({
      name,
      columns: cols.length,
      receivedData: Boolean(table["x-normalizer"]?.["seen-data"]),
      incompleteColumns: cols.filter((c) => !c.data_type).length,
    });
    byResource.set(resource, list);
  }
  const slots = state?.sources?.[schema.name]?.resources ?? {};
  return [...byResource].map(([name, tables]) => ({
    name,
    tables,
    stateSlots: Object.keys(slots[name] ?? {}).length,
  }));
}

/**
 * dlt's `pipeline info` text; `verbose` adds the sources state and one line per table.
 *
 * @example
 * ```ts
 * formatPipelineInfo(info, { verbose: true });
 * // Found pipeline gitlab_pipeline in /home/me/.gitlab-pg/pipelines
 * // Synchronized state:
 * // ...
 * ```
 */
export function formatPipelineInfo(
  info: PipelineInfo,
  options: { verbose?: boolean } = {},
): string {
  const lines: string[] = [];
  if (info.destinationBusy !== undefined) {
    lines.push(
      `The state is not in the working dir yet and the embedded database is in use by another ` +
        `gitlab-pg process (a run in progress, or show): ${info.destinationBusy}`,
      "",
    );
  }
  if (!info.found && info.stateSource === "none") {
    return `Pipeline ${info.pipelineName} not found in ${info.pipelinesDir}: it has not run ` +
      `here yet and the destination holds no state for it`;
  }
  lines.push(
    info.found
      ? `Found pipeline ${info.pipelineName} in ${info.pipelinesDir}`
      : `Pipeline ${info.pipelineName} has no working dir in ${info.pipelinesDir}; its state was restored from the destination`,
  );
  const state = info.state;
  if (state) {
    lines.push("Synchronized state:");
    for (const [k, v] of Object.entries(state)) {
      if (k === "_local" || (v && typeof v === "object" && !Array.isArray(v))) continue;
      lines.push(`${k}: ${Array.isArray(v) ? JSON.stringify(v) : v}`);
    }
    if (state.sources && Object.keys(state.sources).length) {
      lines.push("sources:");
      if (options.verbose) lines.push(JSON.stringify(state.sources, null, 2));
      else lines.push("Add -v option to see sources state. Note that it could be large.");
    }
    const local = state._local ?? {};
    lines.push("", "Local state:");
    for (const k of ["first_run", "_last_extracted_at", "_last_extracted_hash", "initial_cwd"]) {
      if (k in local) lines.push(`${k}: ${local[k]}`);
    }
  }
  for (const s of info.schemas) {
    lines.push("", `Resources in schema: ${s.name}`);
    for (const r of s.resources) {
      lines.push(
        `${r.name} with ${r.tables.length} table(s) and ${r.stateSlots} resource state slot(s)`,
      );
      if (!options.verbose) continue;
      for (const t of r.tables) {
        const inc = t.incompleteColumns ? ` ${t.incompleteColumns} incomplete column(s)` : "";
        lines.push(
          `\t${t.name} table ${t.columns} column(s) ${
            t.receivedData ? "received data" : "not yet received data"
          }${inc}`,
        );
      }
    }
  }
  lines.push("", "Working dir content:");
  const { extracted, normalized, loaded } = info.packages;
  if (extracted.length) {
    lines.push(
      `Has ${extracted.length} extracted packages ready to be normalized with following load ids:`,
    );
    lines.push(...extracted);
  }
  if (normalized.length) {
    lines.push(
      `Has ${normalized.length} load packages ready to be loaded with following load ids:`,
    );
    lines.push(...normalized);
  }
  if (!extracted.length && !normalized.length) lines.push("No pending packages found");
  if (loaded.length) {
    lines.push(`Has ${loaded.length} completed load packages with following load ids:`);
    lines.push(...loaded);
  }
  lines.push(
    "",
    info.hasTrace
      ? `Pipeline has last run trace. Use 'gitlab-pg trace' to inspect `
      : "Pipeline does not have last run trace.",
  );
  return lines.join("\n");
}

/** The stable `info --json` document (keys documented in README). */
export function pipelineInfoJson(info: PipelineInfo): Record<string, unknown> {
  const { _local, ...synced } = info.state ?? {};
  return {
    pipeline_name: info.pipelineName,
    pipelines_dir: info.pipelinesDir,
    working_dir: info.workdir,
    found: info.found,
    state_source: info.stateSource,
    destination_busy: info.destinationBusy ?? null,
    state: info.state ? synced : null,
    local_state: _local ?? null,
    schemas: info.schemas.map((s) => ({
      name: s.name,
      version: s.version,
      version_hash: s.versionHash,
      resources: s.resources.map((r) => ({
        name: r.name,
        state_slots: r.stateSlots,
        tables: r.tables.map((t) => ({
          name: t.name,
          columns: t.columns,
          received_data: t.receivedData,
          incomplete_columns: t.incompleteColumns,
        })),
      })),
    })),
    pending_packages: {
      extracted: info.packages.extracted,
      normalized: info.packages.normalized,
    },
    completed_packages: info.packages.loaded,
    has_trace: info.hasTrace,
  };
}
