/**
 * Buffered, rotating writers of job files: one line at a time, flushed in large chunks, a new
 * file when the current one passes a size, so memory stays flat whatever the data size.
 *
 * @module
 */

import { join } from "node:path";
import { concatBytes } from "../common/bytes.ts";
import { NEW_JOBS, uniqId } from "./package_storage.ts";

/** Options of {@linkcode JobWriter}. */
export interface JobWriterOptions {
  /** Bytes buffered in memory before a write to disk (per open file). @default {131072} */
  bufferBytes?: number;
  /** Size after which the next line goes to a new file. @default {67108864} */
  maxFileBytes?: number;
  /**
   * A line written first in every file (e.g. the column header of a COPY job), computed when
   * the file is opened. @default {undefined}
   */
  header?: () => string;
}

const encoder = new TextEncoder();

/** Text and bytes chunks as one UTF-8 buffer (runs of text encoded at once). */
function encodeChunks(chunks: (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let text: string[] = [];
  for (const c of chunks) {
    if (typeof c === "string") {
      text.push(c);
      continue;
    }
    if (text.length > 0) parts.push(encoder.encode(text.join("")));
    text = [];
    parts.push(c);
  }
  if (text.length > 0) parts.push(encoder.encode(text.join("")));
  return concatBytes(parts);
}

/**
 * Writes lines into `<package>/new_jobs/<table>.<file_id>.0.<format>` files; the ids (10 hex
 * characters, as dlt's) of one writer's files sort in the order they were written (up to
 * 65,536 files).
 *
 * @example
 * ```ts
 * const w = new JobWriter("/tmp/pkg", "issues", "typed-jsonl");
 * await w.write('{"id":1}');
 * const files = await w.close();
 * ```
 */
export class JobWriter {
  readonly #dir: string;
  readonly #table: string;
  readonly #format: string;
  readonly #bufferBytes: number;
  readonly #maxFileBytes: number;
  readonly #header?: () => string;
  #file?: Deno.FsFile;
  #path?: string;
  /** Lines waiting to be written, with their newlines; bytes are lines already UTF-8. */
  #chunks: (string | Uint8Array)[] = [];
  /** Whether a chunk is bytes (then the buffer is written by {@linkcode encodeChunks}). */
  #bytesChunks = false;
  #buffered = 0;
  #fileBytes = 0;
  /** The write in flight ({@linkcode JobWriter.flush} waits for it). */
  #writing?: Promise<void>;
  /** Random first 6 hex characters of this writer's file ids. */
  readonly #idBase = uniqId(3);
  /** Files started so far: the last 4 hex characters of the next file id. */
  #fileCount = 0;
  /** Files written so far (closed and current). */
  readonly files: string[] = [];
  /** Lines written (headers excluded). */
  lines = 0;

  constructor(packageDir: string, table: string, format: string, options: JobWriterOptions = {}) {
    this.#dir = join(packageDir, NEW_JOBS);
    this.#table = table;
    this.#format = format;
    this.#bufferBytes = options.bufferBytes ?? 1 << 17;
    this.#maxFileBytes = options.maxFileBytes ?? 64 << 20;
    this.#header = options.header;
  }

  /** Appends one line (without its newline). */
  async write(line: string): Promise<void> {
    if (this.#append(line)) await this.#spill();
  }

  /** Appends lines (without their newlines): {@linkcode write} for each, awaited once. */
  async writeLines(lines: string[]): Promise<void> {
    for (const line of lines) if (this.#append(line)) await this.#spill();
  }

  /**
   * Appends UTF-8 bytes written as they are, then a newline: one line (e.g. a response body that
   * is already one JSON line) or complete lines joined by `\n` (counted as one in `lines`).
   */
  async writeRaw(line: Uint8Array): Promise<void> {
    if (this.#append(line)) await this.#spill();
  }

  /** Buffers one line (text, or UTF-8 bytes); true when the buffer or the file is full. */
  #append(line: string | Uint8Array): boolean {
    if (this.#file === undefined && this.#chunks.length === 0) this.#startFile();
    this.#chunks.push(line, "\n");
    if (typeof line !== "string") this.#bytesChunks = true;
    this.#buffered += line.length + 1;
    this.#fileBytes += line.length + 1;
    this.lines++;
    return this.#buffered >= this.#bufferBytes || this.#fileBytes >= this.#maxFileBytes;
  }

  /** Writes a full buffer out (behind) and starts a new file when this one is full. */
  async #spill(): Promise<void> {
    if (this.#buffered >= this.#bufferBytes) await this.#writeBehind();
    if (this.#fileBytes >= this.#maxFileBytes) await this.rotate();
  }

  #startFile(): void {
    // Ids that sort in the order the files were written (a random base, then a counter):
    // readers take a table's files sorted by name, and the order of rows matters (the last
    // of two rows with one primary key wins a merge).
    const id = `${this.#idBase}${(this.#fileCount++).toString(16).padStart(4, "0")}`;
    this.#path = join(this.#dir, `${this.#table}.${id}.0.${this.#format}`);
    this.files.push(this.#path);
    this.#fileBytes = 0;
    if (this.#header) {
      const h = this.#header();
      this.#chunks.push(h, "\n");
      this.#buffered += h.length + 1;
    }
  }

  /** Writes buffered lines to disk: on disk when this resolves. */
  async flush(): Promise<void> {
    await this.#writeBehind();
    await this.#settle();
  }

  /**
   * Starts writing the buffered lines and returns once the write before it is done: the
   * caller goes on producing lines while the disk takes this buffer (one write in flight, so
   * memory stays at two buffers). A failed write is thrown by the next call or `flush`.
   */
  async #writeBehind(): Promise<void> {
    await this.#settle();
    if (this.#chunks.length === 0) return;
    if (this.#file === undefined) {
      this.#file = await Deno.open(this.#path!, { write: true, create: true, truncate: true });
    }
    const data = this.#bytesChunks
      ? encodeChunks(this.#chunks)
      : encoder.encode((this.#chunks as string[]).join(""));
    this.#chunks = [];
    this.#bytesChunks = false;
    this.#buffered = 0;
    const file = this.#file;
    const writing = (async () => {
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
    })();
    writing.catch(() => {}); // handled: awaited (and thrown) by the next #settle
    this.#writing = writing;
  }

  /** Waits for the write in flight, if any (throws its error). */
  async #settle(): Promise<void> {
    const writing = this.#writing;
    this.#writing = undefined;
    if (writing) await writing;
  }

  /**
   * Takes a complete file of lines (each ending in `\n`, no header) as this writer's next file,
   * renamed into the package, after the file being written (closed first); the next line starts
   * a new file. Returns its new path.
   */
  async adopt(path: string): Promise<string> {
    if (this.#header) throw new Error("Cannot adopt a file into a writer of files with a header");
    await this.rotate();
    this.#startFile(); // no header: nothing buffered for it
    const target = this.#path!;
    await Deno.rename(path, target);
    this.#path = undefined;
    return target;
  }

  /** Closes the current file; the next line starts a new one. */
  async rotate(): Promise<void> {
    await this.flush();
    this.#file?.close();
    this.#file = undefined;
    this.#path = undefined;
  }

  /** Flushes and closes; returns every file written. */
  async close(): Promise<string[]> {
    await this.rotate();
    return this.files;
  }
}
