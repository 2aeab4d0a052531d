/**
 * Normalized packages for the load tests: a table `issues` with its nested `issues__labels`.
 *
 * @module
 */

import { join } from "node:path";
import type { SqlClient } from "../../lib/load/sql_client.ts";
import { newSchema } from "../../lib/schema/mod.ts";
import type { StoredSchema } from "../../lib/schema/types.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { newLoadId, type PackageStorage } from "../../lib/storage/package_storage.ts";

/** A schema with a merge table `issues` (pk id) and its nested `issues__labels`. */
export function issuesSchema(disposition: "merge" | "append" | "replace"): StoredSchema {
  const schema = newSchema("gitlab");
  schema.tables.issues = {
    name: "issues",
    columns: {
      id: { name: "id", nullable: false, primary_key: true, data_type: "bigint" },
      title: { name: "title", data_type: "text", nullable: true },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    },
    write_disposition: disposition,
    resource: "issues",
  };
  schema.tables.issues__labels = {
    name: "issues__labels",
    columns: {
      value: { name: "value", data_type: "text", nullable: true },
      _dlt_root_id: { name: "_dlt_root_id", data_type: "text", nullable: false, root_key: true },
      _dlt_parent_id: {
        name: "_dlt_parent_id",
        data_type: "text",
        nullable: false,
        parent_key: true,
      },
      _dlt_list_idx: { name: "_dlt_list_idx", data_type: "bigint", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    },
    parent: "issues",
  };
  schema.version = 1;
  schema.version_hash = `hash-${disposition}`;
  return schema;
}

/** Writes a normalized package: issues (id,title) each with labels. */
export async function writePackage(
  storage: PackageStorage,
  schema: StoredSchema,
  issues: ({ id: number; title: string; labels: string[] } & Record<string, unknown>)[],
  options: { stableIds?: boolean; columns?: string[] } = {},
): Promise<string> {
  const loadId = newLoadId();
  const dir = await storage.create("normalized", loadId);
  await Deno.writeTextFile(join(dir, "schema.json"), JSON.stringify(schema));
  const extra = options.columns ?? [];
  const root = new JobWriter(dir, "issues", "copy", {
    header: () => JSON.stringify(["id", "title", ...extra, "_dlt_load_id", "_dlt_id"]),
  });
  const nested = new JobWriter(dir, "issues__labels", "copy", {
    header: () =>
      JSON.stringify(["value", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]),
  });
  for (const [n, issue] of issues.entries()) {
    // upsert needs the root id to be a hash of the key (stable across loads), as dlt makes it
    const id = options.stableIds ? `r${issue.id}` : `r${issue.id}-${n}-${loadId}`;
    const values = extra.map((c) => {
      const v = issue[c];
      return v === undefined || v === null ? "\\N" : typeof v === "boolean" ? (v ? "t" : "f") : v;
    });
    await root.write([issue.id, issue.title, ...values, loadId, id].join("\t"));
    for (const [i, l] of issue.labels.entries()) {
      await nested.write([l, id, id, i, `${id}-${i}`].join("\t"));
    }
  }
  await root.close();
  await nested.close();
  return loadId;
}

/** `[id, title]` of every issue, by id. */
export async function issueRows(client: SqlClient, dataset: string): Promise<string[][]> {
  const rows = await client.query<{ id: string; title: string }>(
    `SELECT id::text, title FROM "${dataset}".issues ORDER BY id`,
  );
  return rows.map((r) => [r.id, r.title]);
}

/** Every label value, sorted. */
export async function labelValues(client: SqlClient, dataset: string): Promise<string[]> {
  const rows = await client.query<{ value: string }>(
    `SELECT value FROM "${dataset}".issues__labels ORDER BY value`,
  );
  return rows.map((l) => l.value);
}

/**
 * `client` (and its transactions) with every statement told to `seen` (a transaction as
 * `BEGIN`), and its COPYs through `copyFrom` when given (`next` sends one as usual).
 */
export function wrapClient(
  client: SqlClient,
  options: {
    seen?: (sql: string) => void;
    copyFrom?: (
      sql: string,
      data: AsyncIterable<Uint8Array>,
      next: SqlClient["copyFrom"],
    ) => Promise<void>;
  },
): SqlClient {
  const seen = options.seen ?? (() => {});
  const wrap = (c: SqlClient): SqlClient => ({
    kind: c.kind,
    location: c.location,
    query: (sql, params) => (seen(sql), c.query(sql, params)),
    exec: (sql) => (seen(sql), c.exec(sql)),
    copyFrom: (sql, data) => {
      seen(sql);
      const next = (s: string, d: AsyncIterable<Uint8Array>) => c.copyFrom(s, d);
      return options.copyFrom ? options.copyFrom(sql, data, next) : next(sql, data);
    },
    transaction: (fn) => (seen("BEGIN"), c.transaction((tx) => fn(wrap(tx)))),
    close: () => c.close(),
  });
  return wrap(client);
}
