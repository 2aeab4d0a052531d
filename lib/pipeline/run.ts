/**
 * The pipeline: finish pending packages first (normalize, then load), then extract a new
 * package, normalize it and load it. State and schema are kept in the working dir and
 * restored from the destination when the working dir is new.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { Catalog } from "../catalog/types.ts";
import type { Config } from "../config/types.ts";
import { extract, type ExtractInfo } from "../extract/mod.ts";
import { loadPackage, type LoadPackageInfo } from "../load/load.ts";
import type { SqlClient } from "../load/sql_client.ts";
import { type NormalizeInfo, normalizePackage } from "../normalize/mod.ts";
import {
  applyTableHints,
  bumpVersion,
  fromStoredJson,
  newSchema,
  pipelineStateTable,
  writeSchemaExport,
} from "../schema/mod.ts";
import { STATE_TABLE } from "../schema/names.ts";
import type { Column, StoredSchema } from "../schema/types.ts";
import { JobWriter } from "../storage/job_writer.ts";
import {
  newLoadId,
  PACKAGE_STATE_FILE,
  PackageStorage,
  readJsonIfExists,
  writeFileAtomic,
} from "../storage/package_storage.ts";
import { destinationTypeOf, openDestination } from "./destination.ts";
import {
  bumpStateVersion,
  loadLocalState,
  newState,
  type PipelineState,
  restoreSchemaJson,
  restoreState,
  saveLocalState,
  stateRow,
} from "./state.ts";

/** Options of {@linkcode runPipeline}. */
export interface RunOptions {
  /** Resource names to load (their parents are fetched as needed). @default {all selected} */
  resources?: string[];
  /** At most this many pages per request series. @default {unlimited} */
  limit?: number;
  /** The fetch used for GitLab. @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Clock. @default {() => new Date()} */
  now?: () => Date;
  /** Working directory for relative paths (export_schema_path). @default {Deno.cwd()} */
  cwd?: string;
  /** An open destination to use instead of the configured one (tests). @default {undefined} */
  client?: SqlClient;
  /** Progress and log lines (stderr in the CLI). @default {no-op} */
  onLog?: (line: string) => void;
  /** Extract progress events. @default {undefined} */
  onProgress?: (event: unknown) => void;
  /** Test hook called at named points ("extracted", "normalized", load points). */
  hook?: (point: string) => void | Promise<void>;
}

/** One load package's outcome. */
export interface PackageInfo {
  loadId: string;
  state: "loaded" | "already_loaded";
  /** Rows per table normalized into this package (empty for resumed packages). */
  rows: Record<string, number>;
  jobs: number;
  newTables: string[];
  newColumns: Record<string, string[]>;
}

/** What a run did: dlt's load info plus extract and normalize figures. */
export interface RunInfo {
  pipelineName: string;
  datasetName: string;
  destinationType: "postgres" | "pglite";
  destinationLocation: string;
  workdir: string;
  startedAt: Date;
  finishedAt: Date;
  packages: PackageInfo[];
  extract?: ExtractInfo;
  warnings: string[];
  schemaExportPath?: string;
  schemaVersion: number;
  schemaVersionHash: string;
}

function schemaPath(workdir: string, name: string): string {
  return join(workdir, "schemas", `${name}.schema.json`);
}

async function loadWorkingSchema(workdir: string, name: string): Promise<StoredSchema | undefined> {
  return await readJsonIfExists<StoredSchema>(schemaPath(workdir, name));
}

async function saveWorkingSchema(workdir: string, schema: StoredSchema): Promise<void> {
  await Deno.mkdir(join(workdir, "schemas"), { recursive: true });
  await writeFileAtomic(schemaPath(workdir, schema.name), JSON.stringify(schema, null, 2));
}

/** dlt's destination type name recorded in the state. */
function stateDestinationType(type: "postgres" | "pglite"): string {
  return type === "postgres" ? "dlt.destinations.postgres" : "gitlab_pg.destinations.pglite";
}

/**
 * Runs the pipeline once.
 *
 * @example
 * ```ts
 * const info = await runPipeline(config, { catalog });
 * console.log(formatLoadInfo(info));
 * ```
 */
export async function runPipeline(
  config: Config,
  options: RunOptions & { catalog: Catalog },
): Promise<RunInfo> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const log = options.onLog ?? (() => {});
  const hook = options.hook ?? (() => {});
  const { catalog } = options;
  const cwd = options.cwd ?? Deno.cwd();
  const workdir = resolve(cwd, config.pipelines_dir, config.pipeline_name);
  const dataset = config.dataset_name;
  const storage = new PackageStorage(workdir);
  await Deno.mkdir(workdir, { recursive: true });
  await storage.cleanUp();

  const destinationType = destinationTypeOf(config);
  const client = options.client ?? await openDestination(config, { workdir });
  const packages: PackageInfo[] = [];
  const warnings: string[] = [];
  let extractInfo: ExtractInfo | undefined;
  let schema: StoredSchema;
  try {
    // state and schema: local first, else restored from the destination
    let state = await loadLocalState(workdir);
    let restoredSchema: StoredSchema | undefined;
    if (!state) {
      state = await restoreState(client, { dataset, pipelineName: config.pipeline_name });
      if (state) {
        log(`Restored state of pipeline "${config.pipeline_name}" from the destination`);
        state._local = { first_run: false, restored_from_destination: true };
        state.dataset_name = dataset;
        const json = await restoreSchemaJson(client, { dataset, schemaName: catalog.sourceName });
        if (json) restoredSchema = fromStoredJson(json);
      } else {
        state = newState(config.pipeline_name, dataset);
      }
    }
    schema = (await loadWorkingSchema(workdir, catalog.sourceName)) ?? restoredSchema ??
      newSchema(catalog.sourceName);

    // 1. finish pending packages
    for (const loadId of await storage.list("extracted")) {
      log(`Normalizing pending package ${loadId}`);
      await normalizePackage(storage, loadId, {});
    }
    for (const loadId of await storage.list("normalized")) {
      log(`Loading pending package ${loadId}`);
      const done = await loadOne(client, storage, loadId, { dataset, now, hook });
      packages.push(toPackageInfo(done, {}));
      schema = await adoptLoadedSchema(storage, loadId, schema);
    }

    // 2. extract a new package
    const loadId = newLoadId();
    const packageDir = await storage.create("extracting", loadId);
    const selected = catalog.resources.filter((r) =>
      options.resources ? options.resources.includes(r.name) : r.selected
    );
    for (const r of selected) {
      applyTableHints(schema, {
        table: r.tableName,
        resource: r.name,
        write_disposition: r.writeDisposition,
        merge_strategy: r.mergeStrategy,
        primary_key: r.primaryKey,
        merge_key: r.mergeKey,
        columns: r.columns as Record<string, Partial<Column>>,
        max_nesting: r.maxTableNesting,
      });
    }
    schema.normalizers.json.config = {
      ...(schema.normalizers.json.config ?? {}),
      max_nesting: config.source.max_table_nesting ?? catalog.maxTableNesting,
    };
    extractInfo = await extract(catalog, {
      source: config.source,
      baseUrl: baseUrlOf(config, catalog),
      packageDir,
      resources: options.resources,
      limit: options.limit,
      fetch: options.fetch,
      onProgress: options.onProgress,
      onWarning: (w: string) => {
        warnings.push(w);
        log(`WARNING: ${w}`);
      },
    });
    await hook("extracted");

    // state: written into the package only when it changed
    state.dataset_name = dataset;
    state.default_schema_name = schema.name;
    state.schema_names = [schema.name];
    state.destination_type = stateDestinationType(destinationType);
    state.destination_name = null;
    state.staging_type = null;
    state.staging_name = null;
    state.sources ??= {};
    state.sources[catalog.sourceName] ??= { resources: {} };
    bumpStateVersion(state);
    const local = state._local ?? {};
    if (local._last_extracted_hash !== state._version_hash) {
      schema.tables[STATE_TABLE] ??= pipelineStateTable();
      const writer = new JobWriter(packageDir, STATE_TABLE, "typed-jsonl");
      await writer.write(JSON.stringify(stateRow(state, now())));
      await writer.close();
    }
    state._local = {
      ...local,
      first_run: false,
      _last_extracted_at: now().toISOString(),
      _last_extracted_hash: state._version_hash,
    };
    const replaceTables = selected.filter((r) => r.writeDisposition === "replace").map((r) =>
      r.tableName
    );
    await writeFileAtomic(join(packageDir, "schema.json"), JSON.stringify(schema));
    await writeFileAtomic(
      join(packageDir, PACKAGE_STATE_FILE),
      JSON.stringify({ replace_tables: replaceTables, created_at: now().toISOString() }),
    );
    await storage.move(loadId, "extracting", "extracted");
    await saveLocalState(workdir, state as PipelineState);

    // 3. normalize and load it
    const normInfo: NormalizeInfo = await normalizePackage(storage, loadId, {});
    await hook("normalized");
    const done = await loadOne(client, storage, loadId, { dataset, now, hook });
    packages.push(toPackageInfo(done, normInfo.rows ?? {}));
    schema = await adoptLoadedSchema(storage, loadId, schema);
  } finally {
    if (!options.client) await client.close();
  }
  await saveWorkingSchema(workdir, schema);
  const exportDir = resolve(cwd, config.export_schema_path);
  const schemaExportPath = await writeSchemaExport(schema, exportDir);
  return {
    pipelineName: config.pipeline_name,
    datasetName: dataset,
    destinationType,
    destinationLocation: client.location,
    workdir,
    startedAt,
    finishedAt: now(),
    packages,
    extract: extractInfo,
    warnings,
    schemaExportPath,
    schemaVersion: schema.version,
    schemaVersionHash: schema.version_hash,
  };
}

/** The API root: config, then the catalog's client.base_url, then GitLab.com. */
export function baseUrlOf(config: Config, catalog: Catalog): string {
  return (config.source.base_url ?? catalog.client.base_url ?? "https://gitlab.com/api/v4")
    .replace(/\/+$/, "");
}

async function loadOne(
  client: SqlClient,
  storage: PackageStorage,
  loadId: string,
  options: { dataset: string; now: () => Date; hook: (p: string) => void | Promise<void> },
): Promise<LoadPackageInfo> {
  // the normalized schema gets its version bumped before it is loaded
  const path = join(storage.path("normalized", loadId), "schema.json");
  const schema = await readJsonIfExists<StoredSchema>(path);
  if (schema && bumpVersion(schema)) await writeFileAtomic(path, JSON.stringify(schema));
  return await loadPackage(client, {
    storage,
    loadId,
    dataset: options.dataset,
    now: () => options.now(),
    hook: options.hook,
  });
}

async function adoptLoadedSchema(
  storage: PackageStorage,
  loadId: string,
  fallback: StoredSchema,
): Promise<StoredSchema> {
  return (await readJsonIfExists<StoredSchema>(
    join(storage.path("loaded", loadId), "schema.json"),
  )) ?? fallback;
}

function toPackageInfo(done: LoadPackageInfo, rows: Record<string, number>): PackageInfo {
  return {
    loadId: done.loadId,
    state: done.status,
    rows,
    jobs: done.jobs,
    newTables: done.migration.newTables,
    newColumns: done.migration.newColumns,
  };
}
