/**
 * The `pglite` destination: a real Postgres running in-process (WASM) through
 * `@electric-sql/pglite`, stored in a folder. The embedded default when no credentials are given.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { DestinationBusyError, DestinationError } from "../../common/errors.ts";
import { tryLock } from "../../storage/file_lock.ts";
import type { SqlClient } from "../../load/sql_client.ts";
import { readTemplate } from "./template.ts";

type Db = PGlite | Transaction;

function wrapError(e: unknown): never {
  if (e instanceof DestinationError) throw e;
  throw new DestinationError(`PGlite failed: ${thrownText(e)}`, { cause: e });
}

/** WASI's errno numbers (what PGlite's file system throws) and their names. */
const WASI_ERRNO: Record<number, string> = {
  2: "EACCES: permission denied",
  20: "EEXIST: file exists",
  29: "EIO: input/output error",
  31: "EISDIR: is a directory",
  44: "ENOENT: no such file or directory",
  51: "ENOSPC: no space left on device",
  54: "ENOTDIR: not a directory",
  55: "ENOTEMPTY: directory not empty",
  63: "EPERM: operation not permitted",
  69: "EROFS: read-only file system",
};

/**
 * What PGlite threw, in words: an `Error`'s message, or for the plain object its file system
 * throws (`{ name: "ErrnoError", errno: 54 }`, which prints as "[object Object]") the errno and
 * its name.
 */
export function thrownText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e !== null && typeof e === "object") {
    const o = e as { name?: unknown; errno?: unknown; message?: unknown };
    if (typeof o.message === "string" && o.message) return o.message;
    if (typeof o.errno === "number") {
      const name = WASI_ERRNO[o.errno];
      return `${typeof o.name === "string" ? o.name : "error"} ${o.errno}${
        name ? ` (${name})` : ""
      } in the embedded database's files: check that its folder is writable and has space`;
    }
    try {
      return JSON.stringify(e);
    } catch {
      // a cycle: as it prints
    }
  }
  return String(e);
}

async function collect(data: AsyncIterable<Uint8Array>): Promise<Blob> {
  const parts: Uint8Array[] = [];
  for await (const chunk of data) parts.push(chunk);
  return new Blob(parts as BlobPart[]);
}

class PgliteClient implements SqlClient {
  readonly kind = "pglite" as const;
  readonly location: string;
  readonly #db: Db;
  readonly #root?: PGlite;
  #lock?: Deno.FsFile;

  constructor(db: Db, location: string, root?: PGlite, lock?: Deno.FsFile) {
    this.#db = db;
    this.location = location;
    this.#root = root;
    this.#lock = lock;
  }

  async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.#db.query<T>(text, params)).rows;
    } catch (e) {
      wrapError(e);
    }
  }

  async exec(text: string): Promise<void> {
    try {
      await this.#db.exec(text);
    } catch (e) {
      wrapError(e);
    }
  }

  async copyFrom(copySql: string, data: AsyncIterable<Uint8Array>): Promise<void> {
    // PGlite reads COPY input from a virtual /dev/blob file; job files are bounded in size.
    const sql = copySql.replace(/FROM\s+STDIN/i, "FROM '/dev/blob'");
    try {
      await this.#db.query(sql, [], { blob: await collect(data) });
    } catch (e) {
      wrapError(e);
    }
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (!this.#root) return await fn(this);
    try {
      return await this.#root.transaction((tx) => fn(new PgliteClient(tx, this.location)));
    } catch (e) {
      wrapError(e);
    }
  }

  async close(): Promise<void> {
    try {
      await this.#root?.close();
    } finally {
      this.#lock?.close();
      this.#lock = undefined;
    }
  }
}

/**
 * Opens (creating when missing) an embedded Postgres stored in `dataDir`.
 *
 * @example
 * ```ts
 * const client = await openPglite("/tmp/pipe/pglite");
 * await client.query("select 1");
 * await client.close();
 * ```
 */
export async function openPglite(
  dataDir: string,
  options: {
    hook?: (point: string) => void;
    /**
     * A new database's template (`template.ts`); null: none (initdb).
     * @default {the embedded one, when present}
     */
    template?: string | null;
  } = {},
): Promise<SqlClient> {
  let lock: Deno.FsFile | undefined;
  try {
    await Deno.mkdir(dirname(dataDir), { recursive: true });
    lock = await lockDataDir(dataDir);
    const db = await createOrOpen(dataDir, options.hook, options.template);
    return new PgliteClient(db, `pglite://${dataDir}`, db, lock);
  } catch (e) {
    lock?.close();
    if (e instanceof DestinationError) throw e;
    const msg = thrownText(e);
    throw new DestinationError(`Cannot open the embedded database in "${dataDir}": ${msg}`, {
      cause: e,
    });
  }
}

/** Shared buffers of the embedded Postgres (see {@linkcode START_OPTIONS}). */
export const PGLITE_SHARED_BUFFERS = "32MB";

/**
 * PGlite's start: its own parameters plus `shared_buffers` of 32 MB instead of Postgres' 128
 * MB, which PGlite's WASM memory holds from the start: ~100 MB less memory for every run on
 * the embedded default (a full-page load: 424–459 MB instead of 537–541 MB on an existing
 * database, 710 MB instead of 770 MB on the first), no slower on the bench. Passed as a start
 * parameter, not PGlite's `postgresqlconf` (that one overwrites the database's
 * `postgresql.conf`); without PGlite's defaults to extend (a later version), PGlite's own.
 */
const START_OPTIONS = (() => {
  const defaults = (PGlite as unknown as { defaultStartParams?: unknown }).defaultStartParams;
  if (!Array.isArray(defaults) || !defaults.every((p) => typeof p === "string")) return {};
  return { startParams: [...defaults, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`] };
})();

/**
 * Opens the database in `dataDir`, creating it when there is none. PGlite unpacks a new
 * database file by file and takes a folder with `PG_VERSION` for a complete one, so a process
 * killed while it wrote the last files left a folder that never opened again. A marker
 * (`<dataDir>.creating`) is written before a creation and removed after it: found at the next
 * open, it means the creation was cut short, and the folder is made again (nothing was loaded
 * into it yet). `hook("pglite_created")` runs just before the marker goes (tests).
 */
async function createOrOpen(
  dataDir: string,
  hook?: (point: string) => void,
  templatePath?: string | null,
): Promise<PGlite> {
  const marker = `${dataDir}.creating`;
  const interrupted = await Deno.stat(marker).then(() => true, () => false);
  if (interrupted) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  const exists = await Deno.stat(join(dataDir, "PG_VERSION")).then(() => true, () => false);
  if (!exists) await Deno.writeTextFile(marker, "");
  await Deno.mkdir(dataDir, { recursive: true });
  const db = exists
    ? await PGlite.create(dataDir, START_OPTIONS)
    : await createNew(dataDir, templatePath);
  if (!exists) {
    hook?.("pglite_created");
    await Deno.remove(marker);
  }
  return db;
}

/**
 * A new database in the empty folder `dataDir`: unpacked from the template when there is one
 * (half the time and ~200 MB less memory than initdb), else made by initdb; a template PGlite
 * cannot use leaves the folder to initdb.
 */
async function createNew(dataDir: string, templatePath?: string | null): Promise<PGlite> {
  const template = templatePath === null ? undefined : await readTemplate(templatePath);
  if (template) {
    try {
      return await PGlite.create(dataDir, {
        ...START_OPTIONS,
        loadDataDir: new Blob([template as BlobPart]),
      });
    } catch {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.mkdir(dataDir, { recursive: true });
    }
  }
  return await PGlite.create(dataDir, START_OPTIONS);
}

/**
 * Locks `<dataDir>.lock` for this process (released when the client closes or the process
 * ends). PGlite is a single-process database with no lock of its own: a second process
 * writing the same folder (a run while `gitlab-pg show` serves it) loses what it writes, so
 * that one fails at once instead. A file system without locks only skips the check.
 */
async function lockDataDir(dataDir: string): Promise<Deno.FsFile | undefined> {
  const attempt = await tryLock(`${dataDir}.lock`, 500);
  if (attempt.state === "locked") return attempt.file;
  attempt.file.close();
  if (attempt.state === "unsupported") return undefined;
  throw new DestinationBusyError(
    `Cannot open the embedded database in "${dataDir}": another gitlab-pg process has it ` +
      "open (a `gitlab-pg show` serving it, or another run or info); PGlite allows one " +
      "process at a time: stop that one, then try again",
  );
}
