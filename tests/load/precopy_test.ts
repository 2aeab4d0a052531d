/**
 * The tables a load creates, COPYed over parallel connections before its transaction and
 * moved into the dataset by it (`lib/load/precopy.ts`), against the test Postgres server.
 */

import assert from "node:assert/strict";
import { connectPostgres } from "../../lib/destinations/postgres/client.ts";
import { type LoadJobDone, loadPackage, type LoadPackageInfo } from "../../lib/load/load.ts";
import { precopySchema, spreadTables, uniqueNames } from "../../lib/load/precopy.ts";
import type { SqlClient } from "../../lib/load/sql_client.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { newLoadId, PackageStorage } from "../../lib/storage/package_storage.ts";
import { within } from "../helpers/deadline.ts";
import { issueRows, issuesSchema, labelValues, wrapClient, writePackage } from "./_packages.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

/** Issues 1..n, each with two labels; with `twice`, issue 1 again (a newer copy) at the end. */
function issues(n: number, twice = false) {
  const out = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    title: `issue ${i + 1}`,
    labels: [`a${i + 1}`, `b${i + 1}`],
  }));
  if (twice) out.push({ id: 1, title: "issue 1, again", labels: ["again"] });
  return out;
}

/** The columns and constraints of a dataset's tables, without its name. */
async function shape(dataset: string): Promise<string[]> {
  const columns = await pgQuery<{ r: string }>(
    `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS r
     FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    [dataset],
  );
  const constraints = await pgQuery<{ r: string }>(
    `SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || c.contype::text AS r
     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
     ORDER BY 1`,
    [dataset],
  );
  return [...columns, ...constraints].map((x) => x.r.replaceAll(`${dataset}.`, ""));
}

async function exists(relation: string): Promise<boolean> {
  const [row] = await pgQuery<{ r: string | null }>(`SELECT to_regclass($1)::text AS r`, [
    relation,
  ]);
  return row.r !== null;
}

/** Schemas of loads into `dataset` left in the database. */
async function loadSchemas(dataset: string): Promise<string[]> {
  const rows = await pgQuery<{ s: string }>(
    `SELECT nspname AS s FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1`,
    [`${dataset}_load_`],
  );
  return rows.map((r) => r.s);
}

/** Runs `fn` with a client, a fresh storage and datasets that are dropped afterwards. */
function pgTest(
  name: string,
  fn: (client: SqlClient, storage: PackageStorage, dataset: () => string) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: pgIgnore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const client = await connectPostgres(TEST_PG_URL);
      const dir = await Deno.makeTempDir();
      const datasets: string[] = [];
      try {
        await fn(client, new PackageStorage(dir), () => {
          datasets.push(uniqueDataset("pre"));
          return datasets.at(-1)!;
        });
      } finally {
        await client.close();
        for (const d of datasets) await dropDataset(d);
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/**
 * Loads a package over two connections, `meddle` running between the parallel COPY and the
 * load's transaction.
 */
function loadMeddled(
  client: SqlClient,
  options: {
    storage: PackageStorage;
    loadId: string;
    dataset: string;
    onJob?: (job: LoadJobDone) => void;
  },
  meddle: () => Promise<void>,
): Promise<LoadPackageInfo> {
  return loadPackage(client, {
    ...options,
    workers: 2,
    precopyMinBytes: 0,
    hook: (point) => point === "precopied" ? meddle() : undefined,
  });
}

for (const disposition of ["append", "merge", "replace"] as const) {
  pgTest(
    `a load COPYs the tables it creates over two connections: the tables, constraints and rows of one connection, seen at its commit (${disposition})`,
    async (client, storage, newDataset) => {
      const schema = issuesSchema(disposition);
      const data = issues(40, disposition === "merge");
      const one = newDataset();
      const oneId = await writePackage(storage, schema, data);
      const single = await loadPackage(client, { storage, loadId: oneId, dataset: one });
      assert.deepEqual(single.precopied, []);

      const two = newDataset();
      const loadId = await writePackage(storage, schema, data);
      const seen: string[] = [];
      const info = await loadPackage(client, {
        storage,
        loadId,
        dataset: two,
        workers: 2,
        precopyMinBytes: 0,
        hook: async (point) => {
          if (point === "precopied") {
            const [n] = await pgQuery<{ n: string }>(
              `SELECT count(*)::text AS n FROM "${precopySchema(two, loadId)}".issues`,
            );
            seen.push(
              `${point}: ${n.n} rows aside, in the dataset: ${await exists(`"${two}".issues`)}`,
            );
          }
          if (point === "migrated" || point === "completed") {
            // inside the load's transaction: nobody else sees the tables yet
            seen.push(`${point}: in the dataset: ${await exists(`"${two}".issues`)}`);
          }
        },
      });
      assert.deepEqual(seen, [
        `precopied: ${data.length} rows aside, in the dataset: false`,
        "migrated: in the dataset: false",
        "completed: in the dataset: false",
      ]);
      assert.deepEqual(info.precopied.sort(), ["issues", "issues__labels"]);
      assert.deepEqual(info.migration.newTables, single.migration.newTables);
      assert.deepEqual(info.tables, single.tables);
      assert.equal(info.jobs, single.jobs);
      assert.deepEqual(await shape(two), await shape(one));
      assert.deepEqual(await issueRows(client, two), await issueRows(client, one));
      assert.deepEqual(await labelValues(client, two), await labelValues(client, one));
      if (disposition === "merge") {
        // the newer copy of issue 1 only, with its labels (dlt's delete-insert)
        assert.deepEqual((await issueRows(client, two))[0], ["1", "issue 1, again"]);
        assert.ok((await labelValues(client, two)).includes("again"));
        assert.ok(!(await labelValues(client, two)).includes("a1"));
      }
      assert.deepEqual(await loadSchemas(two), []);
    },
  );
}

pgTest(
  "a load that fails in its transaction after the parallel COPY leaves nothing, and loads once when run again",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const loadId = await writePackage(storage, issuesSchema("append"), issues(20));
    const options = { storage, loadId, dataset, workers: 2, precopyMinBytes: 0 };
    await assert.rejects(
      loadPackage(client, {
        ...options,
        hook: (point) => {
          if (point === "copied") throw new Error("stopped at copied");
        },
      }),
      /stopped at copied/,
    );
    assert.equal(await exists(`"${dataset}".issues`), false);
    assert.deepEqual(await loadSchemas(dataset), []);
    const info = await loadPackage(client, options);
    assert.deepEqual(info.precopied.sort(), ["issues", "issues__labels"]);
    assert.equal((await issueRows(client, dataset)).length, 20);
    assert.equal((await labelValues(client, dataset)).length, 40);
  },
);

pgTest(
  "what a crash after the parallel COPY left aside is dropped by the next load of the package",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const loadId = await writePackage(storage, issuesSchema("append"), issues(20));
    // a hook that throws at "precopied" stops the load as a crash would: nothing cleans up
    await assert.rejects(
      loadPackage(client, {
        storage,
        loadId,
        dataset,
        workers: 2,
        precopyMinBytes: 0,
        hook: (point) => {
          if (point === "precopied") throw new Error("crash");
        },
      }),
      /crash/,
    );
    assert.deepEqual(await loadSchemas(dataset), [precopySchema(dataset, loadId)]);
    // loaded again over one connection, it COPYs in its transaction and drops the leftovers
    const info = await loadPackage(client, { storage, loadId, dataset, workers: 1 });
    assert.deepEqual(info.precopied, []);
    assert.deepEqual(await loadSchemas(dataset), []);
    assert.equal((await issueRows(client, dataset)).length, 20);
    assert.equal((await labelValues(client, dataset)).length, 40);
  },
);

pgTest(
  "a table made in the dataset after the parallel COPY: its chain is COPYed in the transaction",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const loadId = await writePackage(storage, issuesSchema("append"), issues(10));
    const info = await loadMeddled(client, { storage, loadId, dataset }, async () => {
      await pgQuery(
        `CREATE SCHEMA "${dataset}"; CREATE TABLE "${dataset}".issues (id bigint NOT NULL,
         title varchar, _dlt_load_id varchar NOT NULL, _dlt_id varchar NOT NULL UNIQUE)`,
      );
      await pgQuery(`INSERT INTO "${dataset}".issues VALUES (0, 'there before', 'x', 'x')`);
    });
    assert.deepEqual(info.precopied, []);
    assert.deepEqual(info.migration.newTables, ["_dlt_version", "_dlt_loads", "issues__labels"]);
    const rows = await issueRows(client, dataset);
    assert.deepEqual(rows.slice(0, 2), [["0", "there before"], ["1", "issue 1"]]);
    assert.equal(rows.length, 11);
    assert.equal((await labelValues(client, dataset)).length, 20);
    assert.deepEqual(await loadSchemas(dataset), []);
  },
);

pgTest(
  "a table set aside gone when the transaction moves them: they are COPYed in the transaction",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const loadId = await writePackage(storage, issuesSchema("append"), issues(10));
    const info = await loadMeddled(client, { storage, loadId, dataset }, async () => {
      await pgQuery(`DROP TABLE "${precopySchema(dataset, loadId)}".issues__labels`);
    });
    // the chain was not moved: the transaction COPYed both tables itself
    assert.deepEqual(info.precopied, []);
    assert.deepEqual(info.migration.newTables, [
      "_dlt_version",
      "_dlt_loads",
      "issues",
      "issues__labels",
    ]);
    assert.equal((await issueRows(client, dataset)).length, 10);
    assert.equal((await labelValues(client, dataset)).length, 20);
    assert.deepEqual(await loadSchemas(dataset), []);
  },
);

pgTest(
  "a row the server refuses in the parallel COPY is told as the load's transaction tells it",
  async (client, storage, newDataset) => {
    const bad = [...issues(5), { id: "seven" as unknown as number, title: "x", labels: [] }];
    const messages: string[] = [];
    const warnings: string[] = [];
    for (const workers of [1, 2]) {
      const dataset = newDataset();
      const loadId = await writePackage(storage, issuesSchema("append"), bad);
      const error = await loadPackage(client, {
        storage,
        loadId,
        dataset,
        workers,
        precopyMinBytes: 0,
        onWarning: (w) => warnings.push(w.replaceAll(loadId, "<id>")),
      }).then(() => undefined, (e: Error) => e);
      assert.ok(error, `workers ${workers}: loaded`);
      assert.equal(await exists(`"${dataset}".issues`), false);
      assert.deepEqual(await loadSchemas(dataset), []);
      messages.push(error.message.replaceAll(dataset, "<dataset>"));
    }
    assert.match(messages[0], /"<dataset>"\."issues"/);
    assert.equal(messages[1], messages[0]);
    // the parallel COPY's failure is told, not hidden
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /^Cannot COPY the new tables of load <id> over 2 connections \(Postgres rejected the rows of COPY .*\."issues" .*\): the load's transaction COPYs them itself; \[load\] workers = 1 skips trying$/,
    );
  },
);

pgTest(
  "a load of less than 4 MiB of new tables COPYs them in its transaction",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const loadId = await writePackage(storage, issuesSchema("append"), issues(10));
    const info: LoadPackageInfo = await loadPackage(client, {
      storage,
      loadId,
      dataset,
      workers: 4,
    });
    assert.deepEqual(info.precopied, []);
    assert.equal((await issueRows(client, dataset)).length, 10);
  },
);

pgTest(
  "a dataset that grants its new tables (ALTER DEFAULT PRIVILEGES) gets them made in it",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    await pgQuery(
      `CREATE SCHEMA "${dataset}";
       ALTER DEFAULT PRIVILEGES IN SCHEMA "${dataset}" GRANT SELECT ON TABLES TO PUBLIC`,
    );
    const loadId = await writePackage(storage, issuesSchema("append"), issues(10));
    const info = await loadPackage(client, {
      storage,
      loadId,
      dataset,
      workers: 2,
      precopyMinBytes: 0,
    });
    assert.deepEqual(info.precopied, []);
    const [row] = await pgQuery<{ ok: boolean }>(
      `SELECT has_table_privilege('public', $1, 'SELECT') AS ok`,
      [`"${dataset}".issues`],
    );
    assert.equal(row.ok, true);
  },
);

pgTest(
  "a load drops the tables a load of its dataset killed an hour ago or more set aside, not newer ones",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const old = precopySchema(dataset, "1700000000.25");
    const recent = precopySchema(dataset, `${Math.floor(Date.now() / 1000) - 60}.25`);
    const other = precopySchema(`${dataset}x`, "1700000000.25");
    for (const s of [old, recent, other]) {
      await pgQuery(`CREATE SCHEMA "${s}"; CREATE TABLE "${s}".issues (id bigint)`);
    }
    try {
      const loadId = await writePackage(storage, issuesSchema("append"), issues(3));
      await loadPackage(client, { storage, loadId, dataset, workers: 1 });
      assert.deepEqual(await loadSchemas(dataset), [recent]);
      assert.equal(await exists(`"${other}".issues`), true);
    } finally {
      await pgQuery(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
    }
  },
);

Deno.test("uniqueNames() tells the tables whose UNIQUE names are cut or shared", () => {
  const schema = issuesSchema("append");
  const unique = { data_type: "text" as const, unique: true };
  schema.tables["a_b"] = { name: "a_b", columns: { c: { name: "c", ...unique } } };
  schema.tables["a"] = { name: "a", columns: { b_c: { name: "b_c", ...unique } } };
  const long = "t".repeat(52);
  schema.tables[long] = { name: long, columns: { _dlt_id: { name: "_dlt_id", ...unique } } };
  const fits = "u".repeat(51);
  schema.tables[fits] = { name: fits, columns: { _dlt_id: { name: "_dlt_id", ...unique } } };
  const names = uniqueNames(schema, ["issues", "issues__labels", "a_b", "a", long, fits]);
  assert.deepEqual(Object.fromEntries(names), {
    issues: true,
    issues__labels: true,
    a_b: false,
    a: false,
    [long]: false,
    [fits]: true,
  });
});

Deno.test("spreadTables() gives the biggest tables first to the least loaded connection", () => {
  const sizes = new Map([["a", 50], ["a__x", 10], ["b", 40], ["b__y", 30], ["c", 5]]);
  const order = ["a", "a__x", "b", "b__y", "c"];
  assert.deepEqual(spreadTables(sizes, 2, order), [["a", "a__x", "c"], ["b", "b__y"]]);
  assert.deepEqual(spreadTables(sizes, 9, order).length, 5);
  assert.deepEqual(spreadTables(sizes, 1, order), [order]);
});

Deno.test("precopySchema() names a schema of at most 63 bytes after the dataset and load id", () => {
  assert.equal(
    precopySchema("gitlab_data", "1795576147.5295784"),
    "gitlab_data_load_1795576147_5295784",
  );
  const long = precopySchema("d".repeat(63), "1795576147.5295784");
  assert.equal(new TextEncoder().encode(long).length, 63);
  assert.ok(long.endsWith("_load_1795576147_5295784"));
  const wide = precopySchema("é".repeat(40), "1795576147.5295784");
  assert.ok(new TextEncoder().encode(wide).length <= 63);
});

pgTest(
  "each job file is told once as loaded, set aside or COPYed again in the transaction",
  async (client, storage, newDataset) => {
    const gone = (dataset: string, loadId: string) =>
      pgQuery(`DROP TABLE "${precopySchema(dataset, loadId)}".issues__labels`);
    for (const meddle of [undefined, gone]) {
      const dataset = newDataset();
      const loadId = await writePackage(storage, issuesSchema("append"), issues(10));
      const told: LoadJobDone[] = [];
      const info = await loadMeddled(
        client,
        { storage, loadId, dataset, onJob: (job) => told.push(job) },
        async () => {
          await meddle?.(dataset, loadId);
        },
      );
      // set aside and moved in, or (a table gone) COPYed again by the transaction
      assert.deepEqual(info.precopied, meddle ? [] : ["issues", "issues__labels"]);
      assert.equal(info.jobs, 2);
      assert.deepEqual(told.map((j) => [j.done, j.total]), [[1, 2], [2, 2]]);
      assert.deepEqual(told.map((j) => j.table).sort(), ["issues", "issues__labels"]);
      assert.equal(new Set(told.map((j) => j.path)).size, 2);
    }
  },
);

/** A package of `roots` root tables `r<i>` (as `issues`), each with nested labels, n rows each. */
async function writeWidePackage(storage: PackageStorage, roots: number, n: number) {
  const base = issuesSchema("append");
  const schema = { ...base, tables: { ...base.tables } };
  delete schema.tables.issues;
  delete schema.tables.issues__labels;
  const loadId = newLoadId();
  const dir = await storage.create("normalized", loadId);
  for (let r = 0; r < roots; r++) {
    schema.tables[`r${r}`] = { ...base.tables.issues, name: `r${r}`, resource: `r${r}` };
    schema.tables[`r${r}__labels`] = {
      ...base.tables.issues__labels,
      name: `r${r}__labels`,
      parent: `r${r}`,
    };
    const root = new JobWriter(dir, `r${r}`, "copy", {
      header: () => JSON.stringify(["id", "title", "_dlt_load_id", "_dlt_id"]),
    });
    const nested = new JobWriter(dir, `r${r}__labels`, "copy", {
      header: () =>
        JSON.stringify(["value", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]),
    });
    for (let i = 1; i <= n; i++) {
      await root.write([i, `row ${i}`, loadId, `r${r}-${i}`].join("\t"));
      await nested.write([`l${i}`, `r${r}-${i}`, `r${r}-${i}`, 0, `r${r}-${i}-0`].join("\t"));
    }
    await root.close();
    await nested.close();
  }
  await Deno.writeTextFile(`${dir}/schema.json`, JSON.stringify(schema));
  return loadId;
}

Deno.test({
  name:
    "a load over 6 connections (more than the pool's floor of 4) COPYs every new table aside and moves them all in",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // one table per connection, each in its own transaction (the pool holds a seventh for a
    // COPY whose acknowledgement is checked over another connection)
    const [{ t0 }] = await pgQuery<{ t0: string }>("SELECT now()::text AS t0");
    const client = await connectPostgres(TEST_PG_URL, { connections: 6 });
    const dir = await Deno.makeTempDir();
    const dataset = uniqueDataset("pre");
    try {
      const storage = new PackageStorage(dir);
      const loadId = await writeWidePackage(storage, 3, 2000);
      let backends = 0;
      const info = await within(
        loadPackage(client, {
          storage,
          loadId,
          dataset,
          workers: 6,
          precopyMinBytes: 0,
          hook: async (point) => {
            if (point !== "precopied") return;
            const [row] = await pgQuery<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE application_name = 'gitlab-pg' AND backend_start >= $1::timestamptz`,
              [t0],
            );
            backends = row.n;
          },
        }),
        30_000,
        "the load over 6 connections",
      );
      // the six tables went over six connections at once (the pool opened them all)
      assert.ok(backends >= 6, `${backends} connections`);
      assert.deepEqual(info.precopied.toSorted(), [
        "r0",
        "r0__labels",
        "r1",
        "r1__labels",
        "r2",
        "r2__labels",
      ]);
      for (const t of ["r0", "r1__labels", "r2"]) {
        const [n] = await pgQuery<{ n: string }>(
          `SELECT count(DISTINCT _dlt_id)::text AS n FROM "${dataset}"."${t}"`,
        );
        assert.equal(n.n, "2000", t);
      }
      assert.deepEqual(await loadSchemas(dataset), []);
    } finally {
      await client.close();
      await dropDataset(dataset);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** `client`, its COPY aside of `table` failing (after `delayMs`), every other call as is. */
function failingAside(client: SqlClient, table: string, delayMs: number): SqlClient {
  return wrapClient(client, {
    copyFrom: async (sql, data, next) => {
      if (!sql.includes("_load_") || !sql.includes(`."${table}" (`)) return await next(sql, data);
      await new Promise((r) => setTimeout(r, delayMs));
      throw new Error("injected: the side COPY broke off");
    },
  });
}

pgTest(
  "after a failed side COPY the transaction's job files are counted anew, and a throwing progress callback changes nothing",
  async (client, storage, newDataset) => {
    const dataset = newDataset();
    const loadId = await writePackage(storage, issuesSchema("append"), issues(10));
    const told: number[] = [];
    const warnings: string[] = [];
    const info = await loadPackage(failingAside(client, "issues__labels", 300), {
      storage,
      loadId,
      dataset,
      workers: 2,
      precopyMinBytes: 0,
      onWarning: (w) => warnings.push(w),
      onJob: (job) => {
        told.push(job.done);
        throw new Error("a progress display that fails"); // never fails the load
      },
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /injected: the side COPY broke off/);
    assert.deepEqual(info.precopied, []);
    // issues set aside (1/2), then both again in the transaction (1/2, 2/2)
    assert.deepEqual(told, [1, 1, 2]);
    assert.equal((await issueRows(client, dataset)).length, 10);
    assert.deepEqual(await loadSchemas(dataset), []);
  },
);
