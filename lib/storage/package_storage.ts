/**
 * Load packages on disk, dlt's layout. A package is a folder named by its load id that moves
 * between states by atomic renames, so a crash leaves every package in exactly one state:
 *
 * ```
 * extract/<id>/                 being extracted (thrown away on restart)
 * normalize/extracted/<id>/     extracted: new_jobs/<table>.<file_id>.0.typed-jsonl
 * load/new/<id>/                being normalized (thrown away on restart)
 * load/normalized/<id>/         normalized: new_jobs/<table>.<file_id>.0.copy, schema.json
 * load/loaded/<id>/             loaded (package_completed.json)
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { DamagedFileError } from "../common/errors.ts";
import { isMapping } from "../common/json.ts";

/** States a package can be in, in order. */
export type PackageState = "extracting" | "extracted" | "normalizing" | "normalized" | "loaded";

const STATE_DIRS: Record<PackageState, string> = {
  extracting: "extract",
  extracted: join("normalize", "extracted"),
  normalizing: join("load", "new"),
  normalized: join("load", "normalized"),
  loaded: join("load", "loaded"),
};

/** Folder of jobs inside a package. */
export const NEW_JOBS = "new_jobs";
/** File holding the package's own state (pipeline state doc, metrics). */
export const PACKAGE_STATE_FILE = "load_package_state.json";

let lastLoadId = 0;

/**
 * A new load id as dlt makes them: `str(time.time())`, strictly increasing within the process.
 *
 * @example
 * ```ts
 * newLoadId(); // "1763934775.1234567"
 * ```
 */
export function newLoadId(
  now: () => number = () => performance.timeOrigin + performance.now(),
): string {
  let t = now() / 1000;
  if (t <= lastLoadId) t = lastLoadId + 0.000001;
  lastLoadId = t;
  const s = String(t);
  return s.includes(".") ? s : `${s}.0`;
}

/**
 * An extracted package's list (a JSON array of job file names) of the files in which every
 * line is plain JSON: written by gitlab-pg's extract from values plain `JSON.parse` gave (no
 * integer beyond 2^53, no integral float literal such as `1.0`, object keys in V8's order),
 * so plain `JSON.parse` reads them exactly and the normalizer skips its checks for such
 * numbers and keys. A file not listed (or a package without the list) is read with the checks.
 */
export const PLAIN_JSON_FILE = "plain_json.json";

/** A random id of 2×`bytes` hex characters (dlt's `uniq_id`). */
export function uniqId(bytes = 5): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Parses a job file name `<table>.<file_id>.<retry>.<format>`. */
export function parseJobFileName(
  fileName: string,
): { table: string; fileId: string; retry: number; format: string } {
  const parts = fileName.split(".");
  if (parts.length < 4) throw new Error(`Cannot parse job file name "${fileName}"`);
  const format = parts.pop()!;
  const retry = Number(parts.pop());
  const fileId = parts.pop()!;
  return { table: parts.join("."), fileId, retry, format };
}

/** Compares load ids numerically (they are decimal numbers as text). */
export function compareLoadIds(a: string, b: string): number {
  return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The package folders of one pipeline working dir.
 *
 * @example
 * ```ts
 * const storage = new PackageStorage("/tmp/pipe");
 * const dir = await storage.create("extracting", newLoadId());
 * ```
 */
export class PackageStorage {
  /** The pipeline working dir. */
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  /** Folder of package `loadId` in `state`. */
  path(state: PackageState, loadId: string): string {
    return join(this.root, STATE_DIRS[state], loadId);
  }

  /** Creates an empty package (with `new_jobs/`) in `state` and returns its folder. */
  async create(state: PackageState, loadId: string): Promise<string> {
    const dir = this.path(state, loadId);
    await Deno.mkdir(join(dir, NEW_JOBS), { recursive: true });
    return dir;
  }

  /** Load ids of packages in `state`, oldest first. */
  async list(state: PackageState): Promise<string[]> {
    const ids: string[] = [];
    try {
      for await (const e of Deno.readDir(join(this.root, STATE_DIRS[state]))) {
        if (e.isDirectory) ids.push(e.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return ids.sort(compareLoadIds);
  }

  /** Moves a package from one state to the next with one atomic rename. */
  async move(loadId: string, from: PackageState, to: PackageState): Promise<string> {
    const target = this.path(to, loadId);
    await Deno.mkdir(join(this.root, STATE_DIRS[to]), { recursive: true });
    await Deno.rename(this.path(from, loadId), target);
    return target;
  }

  /** Deletes a package folder (no error if it is gone). */
  async remove(state: PackageState, loadId: string): Promise<void> {
    await Deno.remove(this.path(state, loadId), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /**
   * Throws away half-done work a crash left behind: packages still being extracted or
   * normalized, and extracted packages whose normalized copy already exists.
   */
  async cleanUp(): Promise<void> {
    for (const id of await this.list("extracting")) await this.remove("extracting", id);
    for (const id of await this.list("normalizing")) await this.remove("normalizing", id);
    const normalized = new Set(await this.list("normalized"));
    const loaded = new Set(await this.list("loaded"));
    for (const id of await this.list("extracted")) {
      if (normalized.has(id) || loaded.has(id)) await this.remove("extracted", id);
    }
  }

  /** Job files of a package, sorted by name. */
  async jobs(state: PackageState, loadId: string): Promise<string[]> {
    const dir = join(this.path(state, loadId), NEW_JOBS);
    const files: string[] = [];
    for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(join(dir, e.name));
    return files.sort();
  }
}

/** Writes `data` to `path` atomically (temp file in the same folder, then rename). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${uniqId(4)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    // a full disk leaves no half-written temp file behind
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * What to do about a damaged file of a load package in `dir` (see {@linkcode readJsonIfExists}):
 * without the package and the local state, the next run takes the state from the destination,
 * which moves a cursor only with its data, so the package's records are extracted again.
 */
export function packageAdvice(dir: string): string {
  return `delete the package's folder "${dir}" and the pipeline's state.json, and run again: ` +
    "the state then comes from the destination, and what was not loaded is extracted again";
}

/**
 * What to do about a damaged file of the pipeline's own (the working schema, anything without
 * a more precise advice): the state and the schema come back from the destination.
 */
const WORKDIR_FILE_ADVICE = "delete it and the pipeline's state.json, and run again: " +
  "the state and the schema then come from the destination (the data loaded so far stays)";

/** Options of {@linkcode readJsonIfExists}. */
export interface ReadJsonOptions<T> {
  /**
   * Why a parsed value is not what the file should hold (e.g. "it has no steps"), or
   * undefined when it is. @default {a JSON object is enough}
   */
  check?: (value: T) => string | undefined;
  /** What the user should do when the file is damaged. @default {WORKDIR_FILE_ADVICE} */
  advice?: string;
}

/**
 * Reads a JSON object that gitlab-pg wrote, or returns `undefined` when the file does not
 * exist. A file that is not JSON (an empty one, one cut short) or not an object as expected
 * throws a {@linkcode DamagedFileError} that names it and says what to do.
 */
export async function readJsonIfExists<T>(
  path: string,
  options: ReadJsonOptions<T> = {},
): Promise<T | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return parseJsonFile(path, text, options);
}

/**
 * The JSON object of file `path` already read as `text`, checked as
 * {@linkcode readJsonIfExists} does (a {@linkcode DamagedFileError} when it is not one).
 */
export function parseJsonFile<T>(path: string, text: string, options: ReadJsonOptions<T> = {}): T {
  const advice = options.advice ?? WORKDIR_FILE_ADVICE;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = text.trim() === ""
      ? "it is empty"
      : `it is not valid JSON (${e instanceof Error ? e.message : String(e)})`;
    throw new DamagedFileError(path, why, advice);
  }
  if (!isMapping(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;
    throw new DamagedFileError(path, `it holds ${kind}, not a JSON object`, advice);
  }
  const wrong = options.check?.(value as T);
  if (wrong !== undefined) throw new DamagedFileError(path, wrong, advice);
  return value as T;
}
