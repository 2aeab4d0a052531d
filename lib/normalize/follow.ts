/**
 * Normalizing a package while it is extracted: a worker reads the extracted files as the
 * extract writes them (each root table's files in name order, complete lines only) and
 * normalizes them as {@linkcode normalizeGroup} would, one group per root table, into the
 * package's normalizing folder. When the extract is done the worker reads the rest of every
 * file from the extracted package and closes the groups; `normalizePackage` merges them as it
 * merges groups normalized in parallel. So with a slow GitLab most of the normalizing is done
 * when the last page arrives, on a core the extract leaves free.
 *
 * The result is used only when it is exactly what normalizing the finished package would
 * give: the schema the worker started from equals the package's (its settings, normalizers
 * and tables, the pipeline state table aside, which is normalized at the end from the
 * package's own schema), every file it read is in the package, in the same order, and no
 * compressed file appeared; otherwise (or on any failure) the package is normalized as usual.
 *
 * @module
 */

import { join } from "node:path";
import { concatBytes } from "../common/bytes.ts";
import { STATE_TABLE } from "../schema/names.ts";
import { fromStoredJson } from "../schema/export.ts";
import type { StoredSchema } from "../schema/types.ts";
import {
  AUTO_PARALLEL_MIN_BYTES,
  CHUNK_ROWS,
  defaultNormalizeWorkers,
  PARALLEL_MIN_BYTES,
} from "./normalize.ts";
import { NEW_JOBS, type PackageStorage, parseJobFileName } from "../storage/package_storage.ts";
import {
  extractedJob,
  GroupNormalizer,
  type GroupResult,
  type GroupSettings,
  resultOfGroup,
  runGroup,
} from "./group.ts";

/** Messages to a worker following a package. */
export type FollowRequest =
  | {
    type: "follow";
    schemaText: string;
    dir: string;
    settings: GroupSettings;
    pollMs: number;
    /** Report the bytes read per root table after each step that read some (tests). */
    report?: boolean;
  }
  | { type: "hold" }
  | {
    type: "finish";
    schemaText: string;
    dir: string;
    files: string[];
    drop: string[];
    /** The files the extract vouched for (its `plain_json.json`). */
    plainFiles: string[];
  };

/** A following worker's answers. */
export type FollowReply =
  | { type: "held"; progress: Record<string, number> }
  | { type: "read"; progress: Record<string, number> }
  | { type: "done"; results: [string, GroupResult][] | null; why?: string }
  | { type: "failed"; message: string };

/** Extracted files a follower can read while they grow (not gzipped ones). */
const FOLLOWED_SUFFIXES = [".typed-jsonl", ".jsonl"];
/** Bytes read from a file at a time. */
const READ_BYTES = 1 << 20;

/** The writer of a job file (the first 6 of its 10 id characters) and its file counter. */
function fileSeries(name: string): { writer: string; count: number } | undefined {
  const id = parseJobFileName(name).fileId;
  if (!/^[0-9a-f]{10}$/.test(id)) return undefined;
  return { writer: id.slice(0, 6), count: parseInt(id.slice(6), 16) };
}

/** What normalizing depends on in a schema: all but its versions and the state table. */
function normalizingPart(schemaText: string): string {
  const schema = JSON.parse(schemaText) as StoredSchema;
  const tables = { ...schema.tables };
  delete tables[STATE_TABLE];
  return JSON.stringify([schema.settings, schema.normalizers, tables]);
}

/** One root table followed: its group and where in which file it is. */
interface TableFollow {
  group: GroupNormalizer;
  /** Table JSON per name when the group started (to tell which tables it changed). */
  initial: Map<string, string>;
  /** Files begun, in order. */
  files: string[];
  /** Bytes of the files read to their end. */
  done: number;
  /** The file being read, and the next byte to read in it. */
  current?: string;
  offset: number;
  /** Bytes of a line not complete yet. */
  rest: Uint8Array;
}

/**
 * The worker side: follows the extracted files under `dir`, then finishes them under the
 * finished package's folder. Used by `worker.ts`.
 */
export class PackageFollower {
  readonly #settings: GroupSettings;
  readonly #startText: string;
  readonly #tables = new Map<string, TableFollow>();
  readonly #decoder = new TextDecoder();
  readonly #buffer = new Uint8Array(READ_BYTES);
  /** Why the result cannot be used (set once; following stops). */
  #broken?: string;
  /** Files known to be plain JSON (at the finish: the extract's list). */
  #plain = new Set<string>();
  /** Set by {@linkcode hold}: the step under way stops after the line it is on. */
  #held = false;
  /** Called after each line read while following (tests: a hold at a known line). */
  readonly #onLine?: () => void;

  constructor(schemaText: string, settings: GroupSettings, onLine?: () => void) {
    this.#startText = schemaText;
    this.#settings = settings;
    this.#onLine = onLine;
  }

  /** Stops the step under way after the line it is on (the next finish reads the rest). */
  hold(): void {
    this.#held = true;
  }

  /** Bytes read so far per root table. */
  progress(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [table, t] of this.#tables) out[table] = t.done + (t.current ? t.offset : 0);
    return out;
  }

  /**
   * Reads what was written since the last step under `dir` (a package being extracted);
   * true when it found anything. A file that vanished (the package was moved) is left for
   * {@linkcode finish}.
   */
  async step(dir: string): Promise<boolean> {
    if (this.#broken) return false;
    let names: string[];
    try {
      names = [];
      for await (const e of Deno.readDir(join(dir, NEW_JOBS))) if (e.isFile) names.push(e.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
    if (names.some((n) => n.endsWith(".gz"))) {
      this.#broken = "a compressed extracted file";
      return false;
    }
    names = names.filter((n) => FOLLOWED_SUFFIXES.some((s) => n.endsWith(s))).sort();
    let progressed = false;
    for (const [table, files] of byTable(names)) {
      if (this.#held) break;
      if (table === STATE_TABLE) continue; // written last, normalized from the final schema
      try {
        if (await this.#advance(dir, table, files, this.#startText, false)) progressed = true;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return progressed;
        throw e;
      }
      if (this.#broken) return false;
    }
    return progressed;
  }

  /**
   * Reads the rest of every file of the finished package under `dir` (`files`: its
   * extracted job file names, sorted) and closes the groups, but those of the tables in
   * `drop` (normalized elsewhere; their job files are removed): the results by table in file
   * order, or null (with why) when they are not what normalizing the package would give.
   */
  async finish(
    dir: string,
    schemaText: string,
    files: string[],
    drop: string[] = [],
    plainFiles: string[] = [],
  ): Promise<{ results: [string, GroupResult][] | null; why?: string }> {
    this.#held = false;
    this.#plain = new Set(plainFiles);
    for (const table of drop) {
      const t = this.#tables.get(table);
      this.#tables.delete(table);
      for (const f of await t?.group.jobs.close() ?? []) await Deno.remove(f);
    }
    if (this.#broken) return { results: null, why: this.#broken };
    if (normalizingPart(schemaText) !== normalizingPart(this.#startText)) {
      return { results: null, why: "the schema changed while extracting" };
    }
    if (files.some((n) => !FOLLOWED_SUFFIXES.some((s) => n.endsWith(s)))) {
      return { results: null, why: "a compressed extracted file" };
    }
    const groups = byTable([...files].sort());
    for (const table of this.#tables.keys()) {
      if (!groups.has(table)) return { results: null, why: `the files of "${table}" are gone` };
    }
    const kept = [...groups].filter(([table]) => !drop.includes(table));
    for (const [table, names] of kept) {
      await this.#advance(dir, table, names, schemaText, true);
      if (this.#broken) return { results: null, why: this.#broken };
    }
    const results: [string, GroupResult][] = [];
    for (const [table] of kept) {
      const t = this.#tables.get(table)!;
      results.push([table, await resultOfGroup(t.group, t.initial)]);
    }
    return { results };
  }

  /**
   * Reads on in `table`'s files (`names`, sorted): the current file to its end, then the next
   * one once the current is known to be complete (its writer started a later file, or
   * `final`). True when any line was read.
   */
  async #advance(
    dir: string,
    table: string,
    names: string[],
    schemaText: string,
    final: boolean,
  ): Promise<boolean> {
    let t = this.#tables.get(table);
    if (!t) {
      const schema = fromStoredJson(schemaText);
      t = {
        group: new GroupNormalizer(schema, this.#settings),
        initial: new Map(Object.entries(schema.tables).map(([k, v]) => [k, JSON.stringify(v)])),
        files: [],
        done: 0,
        offset: 0,
        rest: new Uint8Array(0),
      };
      this.#tables.set(table, t);
    }
    // the files begun must be the first of the table's files, in order
    for (let i = 0; i < t.files.length; i++) {
      if (names[i] !== t.files[i]) {
        this.#broken = `a file of "${table}" appeared before one already read`;
        return false;
      }
    }
    let progressed = false;
    for (;;) {
      if (t.current === undefined) {
        const next = names[t.files.length];
        if (next === undefined) return progressed;
        t.files.push(next);
        t.current = next;
        t.offset = 0;
        t.rest = new Uint8Array(0);
        t.group.beginFile(join(dir, NEW_JOBS, next), this.#plain.has(next));
      } else if (final) {
        // the rest of a file begun while it was written: plain JSON.parse if it is vouched for
        t.group.setPlain(this.#plain.has(t.current));
      }
      // a later file of the same writer means this one was closed before it was started
      const complete = final || isSuperseded(t.current, names);
      if (await this.#read(join(dir, NEW_JOBS, t.current), t)) progressed = true;
      if (!complete || this.#held) return progressed;
      if (t.rest.length > 0) {
        await t.group.lines([this.#decoder.decode(t.rest)]);
        t.rest = new Uint8Array(0);
      }
      await t.group.endFile();
      t.done += t.offset;
      t.current = undefined;
    }
  }

  /**
   * Reads `path` from `t.offset` to its end, normalizing its complete lines. A hold stops it
   * after the line it is on (a line is a page, a chunk up to a few MiB): `t.offset` then
   * points after that line, so the lines not normalized yet are read again at the finish.
   */
  async #read(path: string, t: TableFollow): Promise<boolean> {
    using file = await Deno.open(path, { read: true });
    await file.seek(t.offset, Deno.SeekMode.Start);
    let progressed = false;
    for (;;) {
      const n = await file.read(this.#buffer);
      if (n === null || n === 0) return progressed;
      progressed = true;
      /** Where in the file `head` starts. */
      const headAt = t.offset - t.rest.length;
      t.offset += n;
      const chunk = this.#buffer.subarray(0, n);
      const last = chunk.lastIndexOf(0x0a);
      if (last < 0) {
        t.rest = concatBytes([t.rest, chunk]);
        continue;
      }
      // complete lines, each with its newline
      const head = t.rest.length > 0
        ? concatBytes([t.rest, chunk.subarray(0, last + 1)])
        : chunk.subarray(0, last + 1);
      t.rest = chunk.slice(last + 1);
      for (let start = 0; start < head.length;) {
        const end = head.indexOf(0x0a, start);
        await t.group.lines([this.#decoder.decode(head.subarray(start, end))]);
        start = end + 1;
        this.#onLine?.();
        if (this.#held && start < head.length) {
          t.offset = headAt + start;
          t.rest = new Uint8Array(0);
          return progressed;
        }
      }
      if (this.#held) return progressed;
    }
  }
}

/** Whether a later file of `name`'s writer is among `names`. */
function isSuperseded(name: string, names: string[]): boolean {
  const mine = fileSeries(name);
  if (!mine) return false;
  return names.some((n) => {
    const other = fileSeries(n);
    return other !== undefined && other.writer === mine.writer && other.count > mine.count;
  });
}

/** Sorted job file names (or paths) by root table, tables in the order of their first file. */
function byTable(names: string[]): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const name of names) {
    const { table } = extractedJob(name);
    let list = tables.get(table);
    if (!list) tables.set(table, list = []);
    list.push(name);
  }
  return tables;
}

/** A root table at the end of an extract: its extracted bytes, and how many the worker read. */
export interface TableProgress {
  table: string;
  bytes: number;
  read: number;
}

/**
 * The tables this thread should normalize anew while the worker finishes the others, so the
 * two end together: the set that makes the larger of (bytes this thread reads, bytes left
 * to the worker) the smallest (all sets up to 12 tables, else none taken over).
 */
export function tablesToTakeOver(tables: TableProgress[]): string[] {
  if (tables.length > 12) return [];
  const left = tables.map((t) => Math.max(0, t.bytes - t.read));
  let best = { cost: left.reduce((a, b) => a + b, 0), mask: 0 };
  for (let mask = 1; mask < 1 << tables.length; mask++) {
    let mine = 0;
    let theirs = 0;
    tables.forEach((t, i) => {
      if (mask & (1 << i)) mine += t.bytes;
      else theirs += left[i];
    });
    const cost = Math.max(mine, theirs);
    if (cost < best.cost) best = { cost, mask };
  }
  return tables.filter((_, i) => best.mask & (1 << i)).map((t) => t.table);
}

/** Options of {@linkcode followExtract}. */
export interface FollowOptions {
  /** Threads allowed for normalizing (`[normalize] workers`); below 2 nothing follows. */
  workers?: number;
  /**
   * Extracted bytes after which a worker starts following.
   * @default {8 MiB when workers is given, else 32 MiB: as for normalizing in parallel}
   */
  minBytes?: number;
  /** Rows buffered per table before they are written. @default {200} */
  chunkRows?: number;
  /** Size after which a job file is closed and a new one started. @default {67108864} */
  maxFileBytes?: number;
  /** The run's schema contract. */
  schemaContract?: GroupSettings["schemaContract"];
  /** How often the package is looked at for new lines, in ms. @default {25} */
  pollMs?: number;
  /** Which tables this thread normalizes anew at the end (tests). @default {tablesToTakeOver} */
  takeOver?: (tables: TableProgress[]) => string[];
  /** Told the bytes read per root table whenever the worker read more (tests). */
  onRead?: (progress: Record<string, number>) => void;
}

/** A package followed while it is extracted (see {@linkcode followExtract}). */
export interface ExtractFollower {
  /**
   * Stops reading (before the package is moved); resolves when the worker stopped, with the
   * bytes it read per root table.
   */
  hold(): Promise<Record<string, number>>;
  /**
   * Finishes under the extracted package (`paths`: its extracted files; `settings`: the
   * normalizing's, for tables taken over in this thread): the groups' results in file
   * order, or undefined
   * (nothing followed, or not usable: then normalize the package as usual). The worker is
   * gone when this resolves.
   */
  finish(
    schemaText: string,
    paths: string[],
    settings: GroupSettings,
  ): Promise<GroupResult[] | undefined>;
  /** Stops everything (idempotent). */
  cancel(): void;
  /** Why the last {@linkcode finish} gave nothing, if it said. */
  readonly why?: string;
}

/**
 * Follows the package `loadId` while it is extracted: once its files pass `minBytes`, a
 * worker normalizes them as they grow into the package's normalizing folder. Undefined when
 * only one thread may normalize.
 *
 * @example
 * ```ts
 * const follower = followExtract(storage, loadId, JSON.stringify(schema), { workers: 2 });
 * // … extract, then: await follower?.hold(); move the package; normalizePackage(…, { follower })
 * ```
 */
export function followExtract(
  storage: PackageStorage,
  loadId: string,
  schemaText: string,
  options: FollowOptions = {},
): ExtractFollower | undefined {
  const workers = options.workers ?? defaultNormalizeWorkers();
  if (workers < 2) return undefined;
  const dir = storage.path("extracting", loadId);
  const minBytes = options.minBytes ??
    (options.workers === undefined ? AUTO_PARALLEL_MIN_BYTES : PARALLEL_MIN_BYTES);
  const pollMs = options.pollMs ?? 25;
  let worker: Worker | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let why: string | undefined;
  /** Bytes the worker had read per root table when it was held. */
  let progress: Record<string, number> = {};
  /** Replies not yet taken, and who waits for the next one. */
  const replies: FollowReply[] = [];
  let waiting: ((r: FollowReply) => void) | undefined;
  const reply = (): Promise<FollowReply> =>
    replies.length > 0
      ? Promise.resolve(replies.shift()!)
      : new Promise((resolve) => waiting = resolve);
  const deliver = (r: FollowReply) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(r);
    } else replies.push(r);
  };
  const stopWorker = () => {
    worker?.terminate();
    worker = undefined;
  };

  const start = async () => {
    const target = await storage.create("normalizing", loadId);
    if (stopped) return;
    worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (e: MessageEvent<FollowReply>) => {
      if (e.data.type === "read") options.onRead?.(e.data.progress);
      else deliver(e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      deliver({ type: "failed", message: e.message });
    };
    const settings: GroupSettings = {
      loadId,
      target,
      chunkRows: options.chunkRows ?? CHUNK_ROWS,
      maxFileBytes: options.maxFileBytes,
      schemaContract: options.schemaContract,
    };
    worker.postMessage(
      {
        type: "follow",
        schemaText,
        dir,
        settings,
        pollMs,
        report: options.onRead !== undefined,
      } satisfies FollowRequest,
    );
  };
  const watch = async () => {
    timer = undefined;
    if (stopped) return;
    let bytes = 0;
    try {
      for await (const e of Deno.readDir(join(dir, NEW_JOBS))) {
        if (e.isFile) bytes += (await Deno.stat(join(dir, NEW_JOBS, e.name))).size;
      }
    } catch {
      // not there yet, or moved: looked at again, or stopped
    }
    if (stopped) return;
    if (bytes >= minBytes) {
      await start().catch(() => {
        stopped = true;
      });
    } else timer = setTimeout(watch, pollMs * 2);
  };
  timer = setTimeout(watch, 0);

  return {
    get why() {
      return why;
    },
    async hold() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const w = worker;
      stopped = true;
      if (!w) return progress;
      w.postMessage({ type: "hold" } as FollowRequest);
      const r = await reply();
      if (r.type === "held") progress = r.progress;
      else {
        why = r.type === "failed" ? r.message : "the worker stopped";
        stopWorker();
      }
      return progress;
    },
    async finish(text, paths, settings) {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const w = worker;
      if (!w) return undefined;
      try {
        const files = paths.map((p) => p.split(/[\\/]/).pop()!);
        const tables = byTable([...paths].sort());
        const progressOf: TableProgress[] = [];
        for (const [table, tablePaths] of tables) {
          let bytes = 0;
          for (const path of tablePaths) bytes += (await Deno.stat(path)).size;
          progressOf.push({ table, bytes, read: progress[table] ?? 0 });
        }
        // the tables the worker is least far in are normalized anew here, at the same time
        const drop = (options.takeOver ?? tablesToTakeOver)(progressOf);
        const finalDir = storage.path("extracted", loadId);
        const request: FollowRequest = {
          type: "finish",
          schemaText: text,
          dir: finalDir,
          files,
          drop,
          plainFiles: settings.plainFiles ?? [],
        };
        w.postMessage(request);
        const own = new Map<string, GroupResult>();
        let failed = false;
        for (const table of drop) {
          try {
            const request = { schemaText: text, paths: tables.get(table)!, settings };
            own.set(table, await runGroup(request));
          } catch {
            failed = true; // the one pass after this tells the error
            break;
          }
        }
        const r = await reply();
        if (failed) return undefined;
        if (r.type !== "done" || !r.results) {
          why = r.type === "done" ? r.why : r.type === "failed" ? r.message : undefined;
          return undefined;
        }
        const theirs = new Map(r.results);
        return [...tables.keys()].map((t) => own.get(t) ?? theirs.get(t)!);
      } finally {
        stopWorker();
      }
    },
    cancel() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      stopWorker();
    },
  };
}

/**
 * Runs a follow in a worker: `post` gets the replies. Follows until held, then waits for the
 * finish. Used by `worker.ts`.
 */
export function followInWorker(post: (reply: FollowReply) => void): (r: FollowRequest) => void {
  let follower: PackageFollower | undefined;
  let hold = false;
  let loop: Promise<void> | undefined;
  return (request) => {
    if (request.type === "follow") {
      follower = new PackageFollower(request.schemaText, request.settings);
      const f = follower;
      loop = (async () => {
        while (!hold) {
          const progressed = await f.step(request.dir);
          if (progressed && request.report) post({ type: "read", progress: f.progress() });
          if (!progressed && !hold) await new Promise((r) => setTimeout(r, request.pollMs));
        }
      })();
      loop.catch(() => {}); // its error is told at the hold or finish
    } else if (request.type === "hold") {
      hold = true;
      follower?.hold();
      (loop ?? Promise.resolve()).then(
        () => post({ type: "held", progress: follower?.progress() ?? {} }),
        (e) => post({ type: "failed", message: messageOf(e) }),
      );
    } else {
      hold = true;
      const f = follower;
      (loop ?? Promise.resolve()).then(async () => {
        if (!f) return post({ type: "done", results: null, why: "nothing followed" });
        const { results, why } = await f.finish(
          request.dir,
          request.schemaText,
          request.files,
          request.drop,
          request.plainFiles,
        );
        post({ type: "done", results, why });
      }).catch((e) => post({ type: "failed", message: messageOf(e) }));
    }
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
