import assert from "node:assert/strict";
import { join } from "node:path";
import { connectPostgres } from "../../lib/destinations/postgres/client.ts";
import { openPglite } from "../../lib/destinations/pglite/client.ts";
import { DestinationTables, planMigration } from "../../lib/load/ddl.ts";
import { deleteInsertSql, loadPackage } from "../../lib/load/load.ts";
import type { SqlClient } from "../../lib/load/sql_client.ts";
import { newSchema } from "../../lib/schema/mod.ts";
import { newLoadId, PackageStorage } from "../../lib/storage/package_storage.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { issueRows, issuesSchema, labelValues, wrapClient, writePackage } from "./_packages.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

function withDestinations(
  name: string,
  fn: (client: SqlClient, dataset: string, storage: PackageStorage) => Promise<void>,
): void {
  Deno.test({
    name: `${name} (postgres)`,
    ignore: pgIgnore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dataset = uniqueDataset("load");
      const client = await connectPostgres(TEST_PG_URL);
      const dir = await Deno.makeTempDir();
      try {
        await fn(client, dataset, new PackageStorage(dir));
      } finally {
        await client.close();
        await dropDataset(dataset);
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
  Deno.test({
    name: `${name} (pglite)`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir();
      const client = await openPglite(join(dir, "db"));
      try {
        await fn(client, "gitlab_data", new PackageStorage(join(dir, "pipe")));
      } finally {
        await client.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

withDestinations(
  "a merge key that names a column no record had fails before the load, naming it",
  async (client, dataset, storage) => {
    const schema = issuesSchema("merge");
    // the catalog's primary_key "idd": a hint without data (no data_type); "id" no key
    schema.tables.issues.columns.id.primary_key = false;
    schema.tables.issues.columns.idd = { name: "idd", primary_key: true, nullable: false };
    const loadId = await writePackage(storage, schema, [{ id: 1, title: "a", labels: [] }]);
    const seen: string[] = [];
    const spy = wrapClient(client, { seen: (sql) => seen.push(sql) });
    await assert.rejects(
      // (new tables that a Postgres server would get COPYed aside first, as a big package's)
      loadPackage(spy, { storage, loadId, dataset, workers: 2, precopyMinBytes: 0 }),
      (e: Error) =>
        e.name === "DestinationError" &&
        e.message ===
          'Cannot load table "issues": its primary_key "idd" names a column that no record of this load had (dlt\'s UnboundColumnException): check the resource\'s primary_key in the catalog against the fields GitLab returns',
    );
    // told before the destination is asked anything: nothing created, in the dataset or aside
    assert.deepEqual(seen, []);
    const tables = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [dataset],
    );
    assert.deepEqual(tables, []);
  },
);

withDestinations(
  "loadPackage() creates tables, copies rows and writes _dlt_loads and _dlt_version",
  async (client, dataset, storage) => {
    const schema = issuesSchema("append");
    const loadId = await writePackage(storage, schema, [
      { id: 1, title: "a b", labels: ["x", "y"] },
      { id: 2, title: "two", labels: [] },
    ]);
    const info = await loadPackage(client, { storage, loadId, dataset });
    assert.equal(info.status, "loaded");
    assert.deepEqual(info.tables, ["issues", "issues__labels"]);
    const cols = await client.query<
      { column_name: string; data_type: string; is_nullable: string }
    >(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'issues' ORDER BY ordinal_position`,
      [dataset],
    );
    assert.deepEqual(cols.map((c) => [c.column_name, c.data_type, c.is_nullable]), [
      ["id", "bigint", "NO"],
      ["title", "character varying", "YES"],
      ["_dlt_load_id", "character varying", "NO"],
      ["_dlt_id", "character varying", "NO"],
    ]);
    const loads = await client.query<{ load_id: string; status: number; schema_name: string }>(
      `SELECT load_id, status, schema_name, schema_version_hash FROM "${dataset}"._dlt_loads`,
    );
    assert.equal(loads.length, 1);
    assert.equal(loads[0].load_id, loadId);
    assert.equal(Number(loads[0].status), 0);
    const version = await client.query<{ version_hash: string; engine_version: number }>(
      `SELECT version_hash, engine_version FROM "${dataset}"._dlt_version`,
    );
    assert.deepEqual(version.map((v) => [v.version_hash, Number(v.engine_version)]), [[
      "hash-append",
      11,
    ]]);
    const titles = await client.query<{ title: string }>(
      `SELECT title FROM "${dataset}".issues ORDER BY id`,
    );
    assert.deepEqual(titles.map((t) => t.title), ["a b", "two"]);
    assert.deepEqual(await storage.list("loaded"), [loadId]);
    assert.deepEqual(await storage.list("normalized"), []);
  },
);

withDestinations(
  "loadPackage() merges with delete-insert: replaced rows and their nested rows",
  async (client, dataset, storage) => {
    const schema = issuesSchema("merge");
    const first = await writePackage(storage, schema, [
      { id: 1, title: "one", labels: ["a", "b"] },
      { id: 2, title: "two", labels: ["c"] },
    ]);
    await loadPackage(client, { storage, loadId: first, dataset });
    const second = await writePackage(storage, schema, [
      { id: 2, title: "two v2", labels: [] },
      { id: 3, title: "three", labels: ["d"] },
      { id: 3, title: "three dup", labels: ["e"] },
    ]);
    await loadPackage(client, { storage, loadId: second, dataset });
    assert.deepEqual(await issueRows(client, dataset), [
      ["1", "one"],
      ["2", "two v2"],
      ["3", "three dup"],
    ]);
    assert.deepEqual(await labelValues(client, dataset), ["a", "b", "e"]);
  },
);

withDestinations(
  "loadPackage() rolls everything back when the load fails before commit",
  async (client, dataset, storage) => {
    const schema = issuesSchema("append");
    const loadId = await writePackage(storage, schema, [{ id: 1, title: "one", labels: ["a"] }]);
    await assert.rejects(
      loadPackage(client, {
        storage,
        loadId,
        dataset,
        hook: (p) => {
          if (p === "completed") throw new Error("crash");
        },
      }),
      /crash/,
    );
    const tables = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [dataset],
    );
    assert.deepEqual(tables, []);
    assert.deepEqual(await storage.list("normalized"), [loadId]);
    const info = await loadPackage(client, { storage, loadId, dataset });
    assert.equal(info.status, "loaded");
  },
);

withDestinations(
  "loadPackage() skips a package whose load id is already in _dlt_loads",
  async (client, dataset, storage) => {
    const schema = issuesSchema("append");
    const loadId = await writePackage(storage, schema, [{ id: 1, title: "one", labels: [] }]);
    await loadPackage(client, { storage, loadId, dataset });
    // simulate a crash after commit but before the package moved: move it back
    await storage.move(loadId, "loaded", "normalized");
    const again = await loadPackage(client, { storage, loadId, dataset });
    assert.equal(again.status, "already_loaded");
    const n = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM "${dataset}".issues`,
    );
    assert.equal(n[0].n, "1");
  },
);

withDestinations(
  "loadPackage() replace swaps the rows in one transaction",
  async (client, dataset, storage) => {
    const schema = issuesSchema("replace");
    const a = await writePackage(storage, schema, [{ id: 1, title: "one", labels: ["a"] }]);
    await loadPackage(client, { storage, loadId: a, dataset });
    const b = await writePackage(storage, schema, [{ id: 5, title: "five", labels: [] }]);
    await loadPackage(client, { storage, loadId: b, dataset });
    const rows = await client.query<{ id: string }>(`SELECT id::text FROM "${dataset}".issues`);
    assert.deepEqual(rows.map((r) => r.id), ["5"]);
    const labels = await client.query(`SELECT * FROM "${dataset}".issues__labels`);
    assert.equal(labels.length, 0);
  },
);

withDestinations(
  "loadPackage() merges with upsert: MERGE on the key, nested rows follow their root",
  async (client, dataset, storage) => {
    const schema = issuesSchema("merge");
    schema.tables.issues["x-merge-strategy"] = "upsert";
    const first = await writePackage(storage, schema, [
      { id: 1, title: "one", labels: ["a", "b"] },
      { id: 2, title: "two", labels: ["c"] },
    ], { stableIds: true });
    await loadPackage(client, { storage, loadId: first, dataset });
    const second = await writePackage(storage, schema, [
      { id: 2, title: "two v2", labels: [] },
      { id: 3, title: "three", labels: ["d"] },
    ], { stableIds: true });
    await loadPackage(client, { storage, loadId: second, dataset });
    assert.deepEqual(await issueRows(client, dataset), [
      ["1", "one"],
      ["2", "two v2"],
      ["3", "three"],
    ]);
    assert.deepEqual(await labelValues(client, dataset), ["a", "b", "d"]);
  },
);

withDestinations(
  "loadPackage() delete-insert into tables it creates skips staging and dedups like staging does",
  async (client, dataset, storage) => {
    const schema = issuesSchema("merge");
    const issues = [
      { id: 1, title: "one", labels: ["a", "b"] },
      { id: 2, title: "two", labels: ["c"] },
      { id: 1, title: "one v2", labels: ["d"] },
    ];
    const read = async (ds: string) => ({
      issues: (await client.query<{ id: string; title: string }>(
        `SELECT id::text, title FROM "${ds}".issues WHERE id <> 99 ORDER BY id, title`,
      )).map((r) => `${r.id}:${r.title}`),
      labels: (await client.query<{ value: string; root: string }>(
        `SELECT l.value, i.id::text AS root FROM "${ds}".issues__labels l ` +
          `JOIN "${ds}".issues i ON i._dlt_id = l._dlt_root_id ORDER BY l.value`,
      )).map((r) => `${r.root}:${r.value}`),
    });
    // fresh: the tables are created by this load
    const fresh = await writePackage(storage, schema, issues);
    await loadPackage(client, { storage, loadId: fresh, dataset });
    const staging = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [`${dataset}_staging`],
    );
    assert.deepEqual(staging, [], "no staging table for a load into new tables");
    const direct = await read(dataset);
    assert.deepEqual(direct, { issues: ["1:one v2", "2:two"], labels: ["2:c", "1:d"] });
    // the same package through staging (tables exist already) gives the same rows
    const other = `${dataset}_b`;
    try {
      const seed = await writePackage(storage, schema, [{ id: 99, title: "x", labels: ["z"] }]);
      await loadPackage(client, { storage, loadId: seed, dataset: other });
      const again = await writePackage(storage, schema, issues);
      await loadPackage(client, { storage, loadId: again, dataset: other });
      const viaStaging = await read(other);
      // dlt's staging dataset keeps its own _dlt_version: the schema of the load, once
      const versions = await client.query<{ version_hash: string; n: number }>(
        `SELECT version_hash, count(*)::int AS n FROM "${other}_staging"._dlt_version GROUP BY 1`,
      );
      const hashes = await client.query<{ version_hash: string }>(
        `SELECT version_hash FROM "${other}"._dlt_version ORDER BY inserted_at DESC LIMIT 1`,
      );
      assert.deepEqual(versions, [{ version_hash: hashes[0].version_hash, n: 1 }]);
      viaStaging.labels = viaStaging.labels.filter((l) => !l.startsWith("99:"));
      assert.deepEqual(direct, viaStaging);
    } finally {
      for (const ds of [other, `${other}_staging`]) {
        await client.exec(`DROP SCHEMA IF EXISTS "${ds}" CASCADE`);
      }
    }
  },
);

withDestinations(
  "loadPackage() upsert with a key twice in one package: the last row wins, first load and later",
  async (client, dataset, storage) => {
    // upsert's root _dlt_id is the key's hash, so the two rows of id 1 share it: staging is
    // made without UNIQUE and the MERGE keeps the last (this failed the COPY for good before)
    const schema = issuesSchema("merge");
    schema.tables.issues["x-merge-strategy"] = "upsert";
    const issues = [
      { id: 1, title: "one", labels: ["a"] },
      { id: 2, title: "two", labels: ["c"] },
      { id: 1, title: "one v2", labels: ["d"] },
    ];
    const read = async () => ({
      issues: (await client.query<{ id: string; title: string }>(
        `SELECT id::text, title FROM "${dataset}".issues ORDER BY id, title`,
      )).map((r) => `${r.id}:${r.title}`),
      labels: (await client.query<{ value: string; root: string }>(
        `SELECT l.value, i.id::text AS root FROM "${dataset}".issues__labels l ` +
          `JOIN "${dataset}".issues i ON i._dlt_id = l._dlt_root_id ORDER BY l.value`,
      )).map((r) => `${r.root}:${r.value}`),
    });
    const first = await writePackage(storage, schema, issues, { stableIds: true });
    await loadPackage(client, { storage, loadId: first, dataset });
    assert.deepEqual(await read(), { issues: ["1:one v2", "2:two"], labels: ["2:c", "1:d"] });
    const later = [{ id: 2, title: "two v2", labels: ["e"] }, {
      id: 2,
      title: "two v3",
      labels: ["f"],
    }];
    const second = await writePackage(storage, schema, later, { stableIds: true });
    await loadPackage(client, { storage, loadId: second, dataset });
    assert.deepEqual(await read(), { issues: ["1:one v2", "2:two v3"], labels: ["1:d", "2:f"] });
  },
);

for (const strategy of ["insert-from-staging", "staging-optimized"]) {
  withDestinations(
    `loadPackage() replace with dlt's ${strategy} strategy swaps the rows of the chain`,
    async (client, dataset, storage) => {
      const schema = issuesSchema("replace");
      schema.tables.issues["x-replace-strategy"] = strategy;
      for (
        const issues of [
          [{ id: 1, title: "one", labels: ["a", "b"] }],
          [{ id: 5, title: "five", labels: ["c"] }, { id: 6, title: "six", labels: [] }],
          [{ id: 7, title: "seven", labels: [] }],
        ]
      ) {
        const loadId = await writePackage(storage, schema, issues);
        await loadPackage(client, { storage, loadId, dataset });
        const rows = await client.query<{ id: string }>(
          `SELECT id::text FROM "${dataset}".issues ORDER BY id`,
        );
        assert.deepEqual(rows.map((r) => r.id), issues.map((i) => String(i.id)));
        assert.deepEqual(
          await labelValues(client, dataset),
          issues.flatMap((i) => i.labels).sort(),
        );
      }
    },
  );
}

Deno.test({
  name: "loadPackage() replace never shows a concurrent reader an empty table (postgres)",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataset = uniqueDataset("replace");
    const client = await connectPostgres(TEST_PG_URL);
    const dir = await Deno.makeTempDir();
    try {
      const storage = new PackageStorage(dir);
      const schema = issuesSchema("replace");
      const a = await writePackage(storage, schema, [
        { id: 1, title: "one", labels: ["a"] },
        { id: 2, title: "two", labels: [] },
      ]);
      await loadPackage(client, { storage, loadId: a, dataset });
      const seen: string[][] = [];
      const b = await writePackage(storage, schema, [{ id: 5, title: "five", labels: [] }]);
      await loadPackage(client, {
        storage,
        loadId: b,
        dataset,
        // while the new rows are copied but not committed, another connection reads the table
        hook: async (point) => {
          if (point !== "copied" && point !== "completed") return;
          const rows = await pgQuery<{ id: string }>(
            `SELECT id::text FROM "${dataset}".issues ORDER BY id`,
          );
          seen.push(rows.map((r) => r.id));
        },
      });
      assert.deepEqual(seen, [["1", "2"], ["1", "2"]]);
      const after = await pgQuery<{ id: string }>(`SELECT id::text FROM "${dataset}".issues`);
      assert.deepEqual(after.map((r) => r.id), ["5"]);
    } finally {
      await client.close();
      await dropDataset(dataset);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deleteInsertSql() deletes nested rows by root id and dedups by primary key", () => {
  const sql = deleteInsertSql(issuesSchema("merge"), {
    dataset: "ds",
    staging: "ds_staging",
    root: "issues",
    nested: ["issues__labels"],
    uniq: "u",
  }).join(";\n");
  assert.match(sql, /DELETE FROM "ds"."issues__labels" WHERE "_dlt_root_id" IN/);
  assert.match(sql, /PARTITION BY "id"/);
  assert.match(sql, /d."id" = s."id"/);
});

/** A package of `events` rows (day, action) in a merge table keyed only by `day`. */
async function eventsPackage(storage: PackageStorage, rows: [string, string][]): Promise<string> {
  const schema = newSchema("gitlab");
  schema.tables.events = {
    name: "events",
    columns: {
      day: { name: "day", data_type: "text", nullable: true, merge_key: true },
      action: { name: "action", data_type: "text", nullable: true },
      _dlt_load_id: { name: "_dlt_load_id", data_type: "text", nullable: false },
      _dlt_id: { name: "_dlt_id", data_type: "text", nullable: false, unique: true, row_key: true },
    },
    write_disposition: "merge",
    resource: "events",
  };
  schema.version = 1;
  schema.version_hash = "merge-key-only";
  const loadId = newLoadId();
  const dir = await storage.create("normalized", loadId);
  await Deno.writeTextFile(join(dir, "schema.json"), JSON.stringify(schema));
  const w = new JobWriter(dir, "events", "copy", {
    header: () => JSON.stringify(["day", "action", "_dlt_load_id", "_dlt_id"]),
  });
  for (const [i, [day, action]] of rows.entries()) {
    await w.write([day, action, loadId, `${loadId}-${i}`].join("\t"));
  }
  await w.close();
  return loadId;
}

Deno.test({
  name: "loadPackage() merge with only a merge key replaces each key's rows and keeps them all",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // dlt: delete the rows whose merge key is in the package, insert every package row (rows
    // are dropped as duplicates by primary key only); both the first load (tables it creates)
    // and a later one (through staging)
    const dataset = uniqueDataset("mergekey");
    const client = await connectPostgres(TEST_PG_URL);
    const dir = await Deno.makeTempDir();
    const storage = new PackageStorage(dir);
    const rows = async () =>
      (await pgQuery<{ r: string }>(
        `SELECT day || ':' || action AS r FROM "${dataset}".events ORDER BY day, action`,
      )).map((x) => x.r);
    try {
      const first = [["d1", "push"], ["d1", "comment"], ["d2", "push"]] as [string, string][];
      await loadPackage(client, { storage, dataset, loadId: await eventsPackage(storage, first) });
      assert.deepEqual(await rows(), ["d1:comment", "d1:push", "d2:push"]);
      const second = [["d2", "merge"], ["d2", "close"]] as [string, string][];
      await loadPackage(client, { storage, dataset, loadId: await eventsPackage(storage, second) });
      assert.deepEqual(await rows(), ["d1:comment", "d1:push", "d2:close", "d2:merge"]);
    } finally {
      await client.close();
      await dropDataset(dataset);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

for (const strategy of ["delete-insert", "upsert"]) {
  withDestinations(
    `loadPackage() ${strategy} honours hard_delete and dedup_sort, first load and later`,
    async (client, dataset, storage) => {
      // dlt's hints: a row with `deleted` true deletes its key's row (and nested rows) and is
      // not loaded; of two rows with one key, delete-insert keeps the highest `version`
      // (dedup_sort), upsert the last written (dlt's upsert does not sort)
      const schema = issuesSchema("merge");
      schema.tables.issues["x-merge-strategy"] = strategy;
      Object.assign(schema.tables.issues.columns, {
        deleted: { name: "deleted", data_type: "bool", nullable: true, hard_delete: true },
        version: { name: "version", data_type: "bigint", nullable: true, dedup_sort: "desc" },
      });
      const columns = ["deleted", "version"];
      const stableIds = strategy === "upsert";
      const read = async () => ({
        issues: (await issueRows(client, dataset)).map(([id, title]) => `${id}:${title}`),
        labels: await labelValues(client, dataset),
      });
      const first = await writePackage(storage, schema, [
        { id: 1, title: "one", labels: ["a"], version: 1 },
        { id: 2, title: "two v2", labels: ["b2"], version: 2 },
        { id: 2, title: "two v1", labels: ["b1"], version: 1 }, // written last, older
        { id: 3, title: "three", labels: ["c"], version: 1 },
        { id: 4, title: "gone at once", labels: ["d"], deleted: true, version: 1 },
      ], { stableIds, columns });
      await loadPackage(client, { storage, loadId: first, dataset });
      const two = strategy === "upsert" ? "1" : "2";
      assert.deepEqual(await read(), {
        issues: ["1:one", `2:two v${two}`, "3:three"],
        labels: ["a", `b${two}`, "c"],
      });
      const second = await writePackage(storage, schema, [
        { id: 1, title: "one", labels: ["a"], deleted: true, version: 2 },
        { id: 3, title: "three v2", labels: ["c2"], deleted: false, version: 2 },
      ], { stableIds, columns });
      await loadPackage(client, { storage, loadId: second, dataset });
      assert.deepEqual(await read(), {
        issues: [`2:two v${two}`, "3:three v2"],
        labels: [`b${two}`, "c2"],
      });
    },
  );
}

Deno.test("planMigration() with deferUnique creates new tables without UNIQUE and keeps the ALTER for later", () => {
  const schema = issuesSchema("append");
  const deferred = new Map<string, string>();
  const ddl: string[] = [];
  planMigration(ddl, new DestinationTables(), "ds", {
    schema,
    tables: ["issues", "issues__labels"],
    deferUnique: deferred,
  });
  assert.ok(ddl.every((s) => !s.includes("UNIQUE")), ddl.join("\n"));
  assert.deepEqual(Object.fromEntries(deferred), {
    issues: `ALTER TABLE "ds"."issues" ADD UNIQUE ("_dlt_id")`,
    issues__labels: `ALTER TABLE "ds"."issues__labels" ADD UNIQUE ("_dlt_id")`,
  });
  // without it (and for tables that exist) the constraint is in the CREATE TABLE, as before
  const inline: string[] = [];
  planMigration(inline, new DestinationTables(), "ds", { schema, tables: ["issues"] });
  assert.match(inline.join("\n"), /"_dlt_id" varchar UNIQUE NOT NULL/);
});

withDestinations(
  "loadPackage() gives new tables the UNIQUE constraints of CREATE TABLE, added after their rows",
  async (client, dataset, storage) => {
    const constraints = async () =>
      (await client.query<{ t: string; name: string; def: string }>(
        "SELECT c.relname AS t, k.conname AS name, pg_get_constraintdef(k.oid) AS def " +
          "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid " +
          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND k.contype = 'u' " +
          "ORDER BY 1, 2",
        [dataset],
      )).map((r) => `${r.t}: ${r.name} ${r.def}`);
    const schema = issuesSchema("append");
    const first = await writePackage(storage, schema, [{ id: 1, title: "one", labels: ["a"] }]);
    await loadPackage(client, { storage, loadId: first, dataset });
    assert.deepEqual(await constraints(), [
      "issues: issues__dlt_id_key UNIQUE (_dlt_id)",
      "issues__labels: issues__labels__dlt_id_key UNIQUE (_dlt_id)",
    ]);
    // the same names as a table made with the constraint inline (an older load, or dlt)
    await client.exec(
      `CREATE TABLE "${dataset}".inline_made (_dlt_id varchar UNIQUE NOT NULL)`,
    );
    assert.ok(
      (await constraints()).includes("inline_made: inline_made__dlt_id_key UNIQUE (_dlt_id)"),
    );
    // a second load into the tables keeps one constraint each
    const second = await writePackage(storage, schema, [{ id: 2, title: "two", labels: ["b"] }]);
    await loadPackage(client, { storage, loadId: second, dataset });
    assert.equal((await constraints()).length, 3);
  },
);

withDestinations(
  "loadPackage() into new tables still refuses a row key twice, and leaves nothing behind",
  async (client, dataset, storage) => {
    const schema = issuesSchema("append");
    const loadId = await writePackage(storage, schema, [
      { id: 1, title: "one", labels: [] },
      { id: 1, title: "one again", labels: [] },
    ], { stableIds: true });
    await assert.rejects(
      () => loadPackage(client, { storage, loadId, dataset }),
      /issues__dlt_id_key|duplicate key/,
    );
    const tables = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [dataset],
    );
    assert.deepEqual(tables, []);
  },
);
