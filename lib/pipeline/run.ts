/**
 * The pipeline: finish pending packages first (normalize, then load), then extract a new
 * package, normalize it and load it. State and schema are kept in the working dir and
 * restored from the destination when the working dir is new.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { Catalog, ResolvedResource } from "../catalog/types.ts";
import type { Config } from "../config/types.ts";
import { extract, type ExtractInfo } from "../extract/mod.ts";
import { Cursors } from "../extract/incremental.ts";
import { type LoadOptions, loadPackage, type LoadPackageInfo } from "../load/load.ts";
import type { LoadProgress } from "./progress.ts";
import type { SqlClient } from "../load/sql_client.ts";
import {
  type ExtractFollower,
  followExtract,
  normalizedRows,
  type NormalizeInfo,
  normalizePackage,
} from "../normalize/mod.ts";
import {
  applyTableHints,
  bumpVersion,
  cursorColumnName,
  fromStoredJson,
  importSchema,
  importSchemaFile,
  newSchema,
  pipelineStateTable,
  setMaxNesting,
  storedSchemaProblem,
  writeSchemaExport,
} from "../schema/mod.ts";
import { STATE_TABLE } from "../schema/names.ts";
import type { Column, StoredSchema } from "../schema/types.ts";
import type { SchemaContract } from "../schema/contract.ts";
import { JobWriter } from "../storage/job_writer.ts";
import {
  newLoadId,
  PACKAGE_STATE_FILE,
  packageAdvice,
  PackageStorage,
  readJsonIfExists,
  writeFileAtomic,
} from "../storage/package_storage.ts";
import { destinationTypeOf, openDestination } from "./destination.ts";
import { tryLock } from "../storage/file_lock.ts";
import { ConfigError, DestinationError } from "../common/errors.ts";
import { CRASH_ENV, crashHook } from "./crash.ts";
import { planRefresh, type RefreshMode, type RefreshPlan } from "./refresh.ts";
import {
  bumpStateVersion,
  chooseState,
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
  /**
   * Warnings of the run found before it starts (the CLI's, from the whole catalog before
   * `--resources` narrowed it), reported with the run's own. @default {[]}
   */
  startWarnings?: string[];
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
  /** Load progress: after each job file of a package is COPYed. @default {undefined} */
  onLoadJob?: (event: LoadProgress) => void;
  /**
   * Test hook called at named points ("page", "extracted", "extract_committed", "normalized",
   * load points; see crash.ts). @default {undefined}
   */
  hook?: (point: string) => void | Promise<void>;
  /**
   * TEST ONLY: exit with code 137 at this hook point (`point` or `point:n`, see crash.ts).
   * @default {env GITLAB_PG_TEST_CRASH_AT}
   */
  crashAt?: string;
  /** dlt's `refresh`: drop_sources, drop_resources or drop_data. @default {undefined} */
  refresh?: RefreshMode;
  /** The run's schema contract (`--schema-contract`), over source and resources. @default {{}} */
  schemaContract?: Partial<SchemaContract>;
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
  /** New variant columns per table (packages normalized in this run). */
  newVariantColumns?: Record<string, string[]>;
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
  /** Seconds the load step took (dlt's load info times that step); unset when nothing loaded. */
  loadSeconds?: number;
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
  return await readJsonIfExists<StoredSchema>(schemaPath(workdir, name), {
    check: storedSchemaProblem,
  });
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
  const cwd = options.cwd ?? Deno.cwd();
  const workdir = resolve(cwd, config.pipelines_dir, config.pipeline_name);
  await usableDir(workdir, "pipelines_dir", config.pipelines_dir);
  // checked before anything is loaded: the export comes after the data is committed
  await usableDir(
    resolve(cwd, config.export_schema_path),
    "export_schema_path",
    config.export_schema_path,
  );
  using _lock = await lockWorkdir(workdir, options.onLog ?? (() => {}));
  return await runLocked(config, options, workdir);
}

/** Makes `dir` (the config key `key` set to `value`), or says why it cannot be used. */
async function usableDir(dir: string, key: string, value: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ConfigError(
      `Cannot use folder "${dir}" (${key} = "${value}", env ${key.toUpperCase()}): ${why}`,
      { cause: e },
    );
  }
}

/** Lock file of a working dir: held by the run using it (released when the process ends). */
export const LOCK_FILE = "run.lock";

/**
 * Takes the working dir's lock, waiting (with a warning) while another run holds it: two runs
 * at once would take each other's packages (a cron job that overlaps the previous one, say).
 */
async function lockWorkdir(workdir: string, log: (line: string) => void): Promise<Disposable> {
  const path = join(workdir, LOCK_FILE);
  const attempt = await tryLock(path, 200);
  if (attempt.state === "busy") {
    log(`WARNING: another gitlab-pg run is using ${workdir}: waiting for it to finish`);
    await attempt.taken;
  }
  if (attempt.error !== undefined) {
    // a file system without locks (some network mounts) must not stop the run: warn, go on
    const e = attempt.error;
    log(
      `WARNING: cannot lock ${path} (${
        e instanceof Error ? e.message : String(e)
      }): make sure no two runs use ${workdir} at once`,
    );
  }
  return { [Symbol.dispose]: () => attempt.file.close() };
}

/**
 * Tests only: `GITLAB_PG_TEST_FOLLOW_MIN_BYTES=<n>` makes a worker normalize a package while it
 * is extracted once it holds n bytes (0: at once), instead of from 32 MiB (8 MiB with
 * `[normalize] workers` set); a huge n turns that off.
 */
export const FOLLOW_MIN_BYTES_ENV = "GITLAB_PG_TEST_FOLLOW_MIN_BYTES";

/**
 * Tests only: `GITLAB_PG_TEST_PRECOPY_MIN_BYTES=<n>` COPYs the tables a load creates over
 * parallel connections (`[load] workers`) from n bytes of job files instead of 4 MiB.
 */
export const PRECOPY_MIN_BYTES_ENV = "GITLAB_PG_TEST_PRECOPY_MIN_BYTES";

function bytesFromEnv(name: string): number | undefined {
  const text = Deno.env.get(name);
  return text && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** The run itself, in the locked working dir `workdir`. */
async function runLocked(
  config: Config,
  options: RunOptions & { catalog: Catalog },
  workdir: string,
): Promise<RunInfo> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const log = options.onLog ?? (() => {});
  const crash = crashHook(options.crashAt ?? Deno.env.get(CRASH_ENV));
  const hook = async (point: string) => {
    await options.hook?.(point);
    crash(point);
  };
  const { catalog } = options;
  const cwd = options.cwd ?? Deno.cwd();
  const dataset = config.dataset_name;
  const storage = new PackageStorage(workdir);
  await storage.cleanUp();

  const destinationType = destinationTypeOf(config);
  const client = options.client ?? await openDestination(config, { workdir, hook: crash });
  const packages: PackageInfo[] = [];
  const warnings: string[] = [];
  let loadSeconds: number | undefined;
  const loadPackageNow = async (loadId: string) => {
    const started = now().getTime();
    try {
      return await loadOne(client, storage, loadId, {
        dataset,
        now,
        hook,
        workers: config.load.workers,
        onJob: options.onLoadJob &&
          ((job) =>
            options.onLoadJob?.({ loadId, table: job.table, done: job.done, total: job.total })),
        onWarning: (message) => {
          warnings.push(message);
          log(`WARNING: ${message}`);
        },
      });
    } finally {
      // a pending package's load and the new one's, not the extract and normalize between
      loadSeconds = (loadSeconds ?? 0) + (now().getTime() - started) / 1000;
    }
  };
  let extractInfo: ExtractInfo | undefined;
  let follower: ExtractFollower | undefined;
  let schema: StoredSchema;
  try {
    // state: the newest of local, newest pending package and destination (never ahead of data)
    let local = await loadLocalState(workdir);
    const pending = await newestPendingState(storage);
    const destination = await restoreState(client, {
      dataset,
      pipelineName: config.pipeline_name,
    });
    // the state is synced with the destination (dlt's "sync" step): a failure before this (the
    // destination, or a damaged local state or pending package) fails that step
    await hook("synced");
    if (local && !pending && !destination && local._state_version > 0) {
      // dlt's rule: the destination lost this pipeline's data, so the local cursors are void
      log(`Destination has no state of pipeline "${config.pipeline_name}": starting over`);
      local = undefined;
      await Deno.remove(schemaPath(workdir, catalog.sourceName)).catch(() => {});
    }
    const chosen = chooseState(local, { pending, destination, dataset });
    const state = chosen.state ?? newState(config.pipeline_name, dataset);
    let restoredSchema: StoredSchema | undefined;
    if (chosen.source === "destination") {
      log(`Restored state of pipeline "${config.pipeline_name}" from the destination`);
      state._local = { ...(state._local ?? {}), first_run: false, restored_from_destination: true };
      const json = await restoreSchemaJson(client, { dataset, schemaName: catalog.sourceName });
      if (json) restoredSchema = fromStoredJson(json);
    }
    schema = restoredSchema ?? (await loadWorkingSchema(workdir, catalog.sourceName)) ??
      newSchema(catalog.sourceName);
    if (config.import_schema_path) {
      // dlt's import_schema_path: a user-curated schema YAML, applied when it changed
      await importSchemaFile(schema, resolve(cwd, config.import_schema_path));
    }

    const normalizeOptions = {
      schemaContract: options.schemaContract,
      hook,
      workers: config.normalize.workers,
    };
    // 1. finish pending packages
    for (const loadId of await storage.list("extracted")) {
      log(`Normalizing pending package ${loadId}`);
      await normalizePackage(storage, loadId, normalizeOptions);
    }
    for (const loadId of await storage.list("normalized")) {
      log(`Loading pending package ${loadId}`);
      const rows = await normalizedRows(storage, loadId);
      const done = await loadPackageNow(loadId).catch((e) => {
        // it failed before: without a word on it, every later run would fail the same way
        if (!(e instanceof DestinationError) || e.retryable) throw e;
        throw new DestinationError(
          `${e.message}. Package ${loadId}, left by an earlier run, did not load: put the ` +
            `destination right and run again; if it cannot take the package's rows, ` +
            packageAdvice(storage.path("normalized", loadId)),
          { cause: e },
        );
      });
      packages.push(toPackageInfo(done, rows));
      schema = await adoptLoadedSchema(storage, loadId, schema, workdir);
    }

    // 2. extract a new package
    const loadId = newLoadId();
    const packageDir = await storage.create("extracting", loadId);
    const selected = catalog.resources.filter((r) =>
      options.resources ? options.resources.includes(r.name) : r.selected
    );
    declareResources(schema, selected);
    const early = [
      ...(options.startWarnings ?? []),
      ...unselectedChildWarnings(catalog, options.resources),
    ];
    for (const message of new Set(early)) {
      warnings.push(message);
      log(`WARNING: ${message}`);
    }
    let refresh: RefreshPlan | undefined;
    if (options.refresh) {
      refresh = planRefresh(schema, {
        state: state as PipelineState,
        source: catalog.sourceName,
        mode: options.refresh,
        resources: selected.map((r) => r.name),
      });
      log(
        `Refresh ${options.refresh}: ${
          [...refresh.dropped_tables, ...refresh.truncated_tables].join(", ") || "no tables"
        }`,
      );
      declareResources(schema, selected);
    }
    if (config.import_schema_path) {
      // dlt's save_import_schema_if_not_exists: with no schema to import yet, the current one
      // is written there for the user to edit (and counts as imported: nothing changes now)
      const dir = resolve(cwd, config.import_schema_path);
      const path = join(dir, `${schema.name}.schema.yaml`);
      if (!(await Deno.stat(path).then(() => true, () => false))) {
        await writeSchemaExport(schema, dir);
        importSchema(schema, await Deno.readTextFile(path), path);
        log(`Wrote the schema to import into ${path}: edit it there`);
      }
    }
    state.sources ??= {};
    state.sources[catalog.sourceName] ??= { resources: {} };
    const sourceState = state.sources[catalog.sourceName];
    const cursors = new Cursors(sourceState.resources ??= {}, {
      startDate: config.source.start_date,
    });
    setMaxNesting(schema, config.source.max_table_nesting ?? catalog.maxTableNesting);
    // a worker normalizes the files while they are written (once they are big enough)
    follower = followExtract(storage, loadId, JSON.stringify(schema), {
      workers: config.normalize.workers,
      schemaContract: options.schemaContract,
      minBytes: bytesFromEnv(FOLLOW_MIN_BYTES_ENV),
    });
    extractInfo = await extract(catalog, {
      source: config.source,
      baseUrl: baseUrlOf(config, catalog),
      http: {
        timeoutMs: config.runtime.request_timeout === undefined
          ? undefined
          : config.runtime.request_timeout * 1000,
        maxAttempts: config.runtime.request_max_attempts,
      },
      packageDir,
      resources: options.resources,
      limit: options.limit ?? catalog.limit,
      fetch: options.fetch,
      cursors,
      onProgress: (event) => {
        hook("page");
        options.onProgress?.(event);
      },
      onWarning: (w: string) => {
        warnings.push(w);
        log(`WARNING: ${w}`);
      },
    });
    await hook("extracted");
    cursors.commit();

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
    const localInfo = state._local ?? {};
    if (localInfo._last_extracted_hash !== state._version_hash) {
      schema.tables[STATE_TABLE] ??= pipelineStateTable();
      const writer = new JobWriter(packageDir, STATE_TABLE, "typed-jsonl");
      await writer.write(JSON.stringify(stateRow(state, now())));
      await writer.close();
    }
    state._local = {
      ...localInfo,
      first_run: false,
      _last_extracted_at: now().toISOString(),
      _last_extracted_hash: state._version_hash,
    };
    const replaceTables = selected.filter((r) => r.writeDisposition === "replace").map((r) =>
      r.tableName
    );
    // dlt commits the live schema after extract: a schema the run changed (new tables, hints)
    // gets its version bumped here, and again when normalize adds the data's columns
    bumpVersion(schema);
    if (
      !refresh && replaceTables.length === 0 &&
      (await storage.jobs("extracting", loadId)).length === 0
    ) {
      // nothing new and the state unchanged: dlt's normalize deletes a package without jobs,
      // so nothing is loaded and no _dlt_loads row is written
      follower?.cancel();
      await storage.remove("extracting", loadId);
      await saveLocalState(workdir, state as PipelineState);
      log(`Nothing new to load: package ${loadId} has no jobs and was dropped (as dlt does)`);
      loadSeconds ??= 0;
      await hook("normalized");
    } else {
      await writeFileAtomic(join(packageDir, "schema.json"), JSON.stringify(schema));
      await writeFileAtomic(
        join(packageDir, PACKAGE_STATE_FILE),
        JSON.stringify({
          replace_tables: replaceTables,
          ...(refresh ?? {}),
          created_at: now().toISOString(),
          pipeline_state: state,
        }),
      );
      await follower?.hold();
      await storage.move(loadId, "extracting", "extracted");
      await hook("extract_committed");
      await saveLocalState(workdir, state as PipelineState);

      // 3. normalize and load it
      const normInfo: NormalizeInfo = await normalizePackage(storage, loadId, {
        ...normalizeOptions,
        follower,
      });
      if (normInfo.followed) {
        log(`Normalized package ${loadId} while it was extracted (1 worker)`);
      } else if (follower?.why) {
        log(`Normalized package ${loadId} after it was extracted: ${follower.why}`);
      }
      if (!normInfo.followed && normInfo.threads > 1) {
        log(`Normalized package ${loadId}: root tables in ${normInfo.threads} threads`);
      }
      await hook("normalized");
      const done = await loadPackageNow(loadId);
      packages.push({
        ...toPackageInfo(done, normInfo.rows ?? {}),
        newVariantColumns: normInfo.newVariantColumns,
      });
      schema = await adoptLoadedSchema(storage, loadId, schema, workdir);
    }
  } finally {
    follower?.cancel();
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
    ...(loadSeconds !== undefined ? { loadSeconds } : {}),
    packages,
    extract: extractInfo,
    warnings,
    schemaExportPath,
    schemaVersion: schema.version,
    schemaVersionHash: schema.version_hash,
  };
}

/** The pipeline state stored in the newest pending (extracted or normalized) package. */
async function newestPendingState(storage: PackageStorage): Promise<PipelineState | undefined> {
  const pending = [
    ...(await storage.list("extracted")).map((id) => storage.path("extracted", id)),
    ...(await storage.list("normalized")).map((id) => storage.path("normalized", id)),
  ];
  let best: PipelineState | undefined;
  for (const dir of pending) {
    const pkg = await readJsonIfExists<{ pipeline_state?: PipelineState }>(
      join(dir, PACKAGE_STATE_FILE),
      { advice: packageAdvice(dir) },
    );
    const s = pkg?.pipeline_state;
    if (s && (!best || s._state_version > best._state_version)) best = s;
  }
  return best;
}

/** Declares the tables of the resources to load (write disposition, keys, hints) in `schema`. */
function declareResources(schema: StoredSchema, resources: ResolvedResource[]): void {
  for (const r of resources) {
    applyTableHints(schema, {
      table: r.tableName,
      resource: r.name,
      write_disposition: r.writeDisposition,
      merge_strategy: r.mergeStrategy,
      replace_strategy: r.replaceStrategy,
      primary_key: r.primaryKey,
      merge_key: r.mergeKey,
      columns: r.columns as Record<string, Partial<Column>>,
      max_nesting: r.maxTableNesting,
      schema_contract: r.schemaContract,
      incremental_column: cursorColumnName(r.endpoint.incremental?.cursor_path),
    });
  }
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
  options: Omit<LoadOptions, "schema" | "precopyMinBytes">,
): Promise<LoadPackageInfo> {
  // the normalized schema gets its version bumped before it is loaded
  const dir = storage.path("normalized", loadId);
  const path = join(dir, "schema.json");
  const schema = await readJsonIfExists<StoredSchema>(path, {
    check: storedSchemaProblem,
    advice: packageAdvice(dir),
  });
  if (schema && bumpVersion(schema)) await writeFileAtomic(path, JSON.stringify(schema));
  return await loadPackage(client, {
    ...options,
    storage,
    loadId,
    schema, // (read once: loadPackage tells a missing one)
    precopyMinBytes: bytesFromEnv(PRECOPY_MIN_BYTES_ENV),
  });
}

/**
 * The schema of package `loadId`, just loaded, as the working schema (saved at once), or
 * `fallback` when the package has none.
 */
async function adoptLoadedSchema(
  storage: PackageStorage,
  loadId: string,
  fallback: StoredSchema,
  workdir: string,
): Promise<StoredSchema> {
  const loaded = await readJsonIfExists<StoredSchema>(
    join(storage.path("loaded", loadId), "schema.json"),
    { check: storedSchemaProblem },
  );
  // saved at once: if the run fails later, the next one must not normalize against a schema
  // older than the destination's (a column it created would be unknown, then mistyped)
  if (loaded) await saveWorkingSchema(workdir, loaded);
  return loaded ?? fallback;
}

/**
 * Warnings for a `--resources` choice that runs an incremental parent without a child the
 * catalog selects: the parent's cursor moves past the records read now, so later runs read
 * the child only for parent records that change again (dlt behaves the same).
 */
export function unselectedChildWarnings(catalog: Catalog, resources?: string[]): string[] {
  if (!resources) return [];
  const chosen = new Set(resources);
  const byName = new Map(catalog.resources.map((r) => [r.name, r]));
  const out: string[] = [];
  for (const child of catalog.resources) {
    if (!child.selected || chosen.has(child.name)) continue;
    for (let p = child.parent; p !== undefined; p = byName.get(p)?.parent) {
      if (chosen.has(p) && byName.get(p)?.endpoint.incremental) {
        out.push(
          `Resource "${p}" runs without its child "${child.name}": the "${p}" cursor moves ` +
            `past the records read now, so later runs read "${child.name}" only for ${p} ` +
            `records that change again; run them together (--resources ${p},${child.name})`,
        );
        break;
      }
    }
  }
  return out;
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
