/**
 * Reading normalized COPY job files: a first line with the JSON array of column names, then
 * rows in Postgres COPY text format, streamed in chunks.
 *
 * @module
 */

import { concatBytes } from "../common/bytes.ts";
import { parseJobFileName } from "../storage/package_storage.ts";

/** A COPY job: its table, columns and a stream of the row bytes. */
export interface CopyJob {
  path: string;
  table: string;
  columns: string[];
  /** Streams the rows (everything after the header line). Call once. */
  rows(): AsyncIterable<Uint8Array>;
}

const NL = 10;

/**
 * Opens a `.copy` job file and reads its header.
 *
 * @example
 * ```ts
 * const job = await openCopyJob("/pkg/new_jobs/issues.ab12cd34ef.0.copy");
 * console.log(job.columns);
 * ```
 */
export async function openCopyJob(path: string): Promise<CopyJob> {
  const { table } = parseJobFileName(path.split(/[\\/]/).pop()!);
  const file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(64 * 1024);
  const head: Uint8Array[] = [];
  let rest: Uint8Array = new Uint8Array(0);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    const chunk = buf.slice(0, n);
    const i = chunk.indexOf(NL);
    if (i >= 0) {
      head.push(chunk.subarray(0, i));
      rest = chunk.subarray(i + 1);
      break;
    }
    head.push(chunk);
  }
  const headerText = new TextDecoder().decode(concatBytes(head));
  let columns: string[];
  try {
    columns = JSON.parse(headerText);
  } catch (e) {
    file.close();
    throw new Error(`Cannot read job file "${path}": first line is not a JSON column list`, {
      cause: e,
    });
  }
  return {
    path,
    table,
    columns,
    async *rows() {
      try {
        if (rest.length) yield rest;
        for (;;) {
          const chunk = new Uint8Array(256 * 1024);
          const n = await file.read(chunk);
          if (n === null) break;
          yield chunk.subarray(0, n);
        }
      } finally {
        file.close();
      }
    },
  };
}
