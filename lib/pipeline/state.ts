/**
 * Pipeline state in dlt's format: the document, its version hash, its compressed form in
 * `_dlt_pipeline_state`, the local copy in the working dir, and restore from the destination.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { deflateSync, inflateSync } from "node:zlib";
import { join } from "node:path";
import { sortedJson } from "../common/json.ts";
import { LOADS_TABLE, STATE_ENGINE_VERSION, STATE_TABLE } from "../schema/names.ts";
import { qualified, type SqlClient } from "../load/sql_client.ts";
import { readJsonIfExists, writeFileAtomic } from "../storage/package_storage.ts";

/** dlt's `TPipelineState`. `_local` is never synced to the destination. */
export interface PipelineState {
  _state_version: number;
  _state_engine_version: number;
  _version_hash?: string;
  pipeline_name: string;
  dataset_name: string;
  default_schema_name?: string;
  schema_names?: string[];
  destination_type?: string;
  destination_name?: string | null;
  staging_type?: string | null;
  staging_name?: string | null;
  sources?: Record<
    string,
    { resources?: Record<string, Record<string, unknown>> } & Record<string, unknown>
  >;
  _local?: Record<string, unknown>;
  [key: string]: unknown;
}

const HASH_EXCLUDED = new Set([
  "_local",
  "_state_version",
  "_state_engine_version",
  "_version_hash",
]);

/** A fresh state document for a pipeline. */
export function newState(pipelineName: string, datasetName: string): PipelineState {
  return {
    _state_version: 0,
    _state_engine_version: STATE_ENGINE_VERSION,
    pipeline_name: pipelineName,
    dataset_name: datasetName,
    sources: {},
    _local: { first_run: true },
  };
}

/** dlt's `generate_state_version_hash`: sha3-256 of the sorted typed JSON, base64. */
export function stateVersionHash(state: PipelineState): string {
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (!HASH_EXCLUDED.has(k)) doc[k] = v;
  return createHash("sha3-256").update(sortedJson(doc)).digest("base64");
}

/**
 * Recomputes the hash; when it changed, bumps `_state_version` (dlt's `bump_version_if_modified`).
 * Returns whether it changed.
 */
export function bumpStateVersion(state: PipelineState): boolean {
  const hash = stateVersionHash(state);
  if (hash === state._version_hash) return false;
  state._state_version = (state._state_version ?? 0) + 1;
  state._version_hash = hash;
  return true;
}

function withoutLocal(state: PipelineState): Record<string, unknown> {
  const { _local: _, ...rest } = state;
  return rest;
}

/** dlt's `compress_state`: base64(zlib level 9 (typed JSON without `_local`)). */
export function compressState(state: PipelineState): string {
  const bytes = new TextEncoder().encode(JSON.stringify(withoutLocal(state)));
  return Buffer.from(deflateSync(bytes, { level: 9 })).toString("base64");
}

/** dlt's `decompress_state`: base64+zlib first, plain typed JSON as the fallback. */
export function decompressState(text: string): PipelineState {
  let json: string;
  try {
    json = new TextDecoder().decode(inflateSync(Buffer.from(text, "base64")));
  } catch {
    json = text;
  }
  return JSON.parse(json, untype);
}

/**
 * dlt's typed JSON marks non-JSON values with a private-use first character (U+F026 Decimal,
 * U+F027 datetime, U+F028 date, U+F029 UUID, U+F02A hexbytes, U+F02B base64 bytes, U+F02C wei,
 * U+F02D time); their text follows. gitlab-pg keeps such values as their text (a datetime
 * cursor becomes its ISO string), so a state written by Python dlt reads as plain values.
 */
function untype(_key: string, value: unknown): unknown {
  if (typeof value !== "string" || value.length === 0) return value;
  const c = value.charCodeAt(0);
  return c >= 0xf026 && c <= 0xf02d ? value.slice(1) : value;
}

/** The `_dlt_pipeline_state` row for `state` (the pipeline writes it into the package). */
export function stateRow(state: PipelineState, createdAt: Date): Record<string, unknown> {
  return {
    version: state._state_version,
    engine_version: state._state_engine_version,
    pipeline_name: state.pipeline_name,
    state: compressState(state),
    created_at: createdAt.toISOString(),
    version_hash: state._version_hash,
  };
}

/** Reads `<workdir>/state.json`, or undefined when there is none. */
export async function loadLocalState(workdir: string): Promise<PipelineState | undefined> {
  return await readJsonIfExists<PipelineState>(join(workdir, "state.json"), {
    check: (s) =>
      typeof s._state_version !== "number"
        ? "it holds no pipeline state (no numeric _state_version)"
        : undefined,
    advice: "delete it and run again: the state then comes from the destination (or a package " +
      "not loaded yet), which moves a cursor only with its data",
  });
}

/** Writes `<workdir>/state.json` atomically. */
export async function saveLocalState(workdir: string, state: PipelineState): Promise<void> {
  await Deno.mkdir(workdir, { recursive: true });
  await writeFileAtomic(join(workdir, "state.json"), JSON.stringify(state, null, 2));
}

async function hasTable(client: SqlClient, dataset: string, table: string): Promise<boolean> {
  const rows = await client.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
    [dataset, table],
  );
  return rows.length > 0;
}

/**
 * The newest state of `pipelineName` stored in the destination, with dlt's query
 * (`_dlt_pipeline_state` joined with completed `_dlt_loads`, newest load id first).
 */
export async function restoreState(
  client: SqlClient,
  options: { dataset: string; pipelineName: string },
): Promise<PipelineState | undefined> {
  const { dataset, pipelineName } = options;
  if (!(await hasTable(client, dataset, STATE_TABLE))) return undefined;
  const rows = await client.query<{ state: string }>(
    `SELECT s.state FROM ${qualified(dataset, STATE_TABLE)} AS s JOIN ${
      qualified(dataset, LOADS_TABLE)
    } AS l ON l.load_id = s._dlt_load_id WHERE s.pipeline_name = $1 AND l.status = 0 ` +
      `ORDER BY l.load_id DESC LIMIT 1`,
    [pipelineName],
  );
  return rows.length ? decompressState(rows[0].state) : undefined;
}

/** The newest stored schema JSON named `schemaName` from `_dlt_version`, if any. */
export async function restoreSchemaJson(
  client: SqlClient,
  options: { dataset: string; schemaName: string },
): Promise<string | undefined> {
  const { dataset, schemaName } = options;
  if (!(await hasTable(client, dataset, "_dlt_version"))) return undefined;
  const rows = await client.query<{ schema: string }>(
    `SELECT schema FROM ${qualified(dataset, "_dlt_version")} WHERE schema_name = $1 ` +
      `ORDER BY inserted_at DESC LIMIT 1`,
    [schemaName],
  );
  if (!rows.length) return undefined;
  const text = rows[0].schema;
  if (text.trimStart().startsWith("{")) return text;
  return new TextDecoder().decode(inflateSync(Buffer.from(text, "base64")));
}

/**
 * Chooses the state a run starts from, never one ahead of the data it describes:
 * the newest of the local `state.json`, the state inside the newest pending package (a crash
 * between committing a package and saving `state.json` leaves the package newer), and the
 * destination's (another machine, or a fresh working dir). Newer means a higher
 * `_state_version`; `_local` of the local state is kept, `dataset_name` is the current one.
 *
 * @example
 * ```ts
 * const { state, source } = chooseState(local, { pending, destination, dataset: "gitlab_data" });
 * ```
 */
export function chooseState(
  local: PipelineState | undefined,
  options: { pending?: PipelineState; destination?: PipelineState; dataset: string },
): { state: PipelineState | undefined; source: "local" | "pending" | "destination" | "none" } {
  let best = local;
  let source: "local" | "pending" | "destination" | "none" = local ? "local" : "none";
  const newer = (s: PipelineState | undefined) =>
    s !== undefined && (best === undefined || s._state_version > best._state_version);
  if (newer(options.pending)) {
    best = options.pending;
    source = "pending";
  }
  if (newer(options.destination)) {
    best = options.destination;
    source = "destination";
  }
  if (best && best !== local) {
    // that state is already in a package or in the destination: extracting it again would add
    // a duplicate `_dlt_pipeline_state` row
    best = {
      ...best,
      _local: {
        ...(local?._local ?? { first_run: false }),
        _last_extracted_hash: best._version_hash,
      },
    };
    best.dataset_name = options.dataset;
  }
  return { state: best, source };
}
