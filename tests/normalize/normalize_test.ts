import assert from "node:assert/strict";
import { join } from "node:path";
import { normalizePackage } from "../../lib/normalize/mod.ts";
import {
  applyTableHints,
  fromStoredJson,
  newSchema,
  pipelineStateTable,
  type StoredSchema,
  toStoredJson,
} from "../../lib/schema/mod.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { PackageStorage } from "../../lib/storage/package_storage.ts";
import { PIPELINE_STATE } from "./_package.ts";

const samples = new URL("../testdata/reference/gitlab-samples/", import.meta.url);
const LOAD_ID = "1714567890.123456";

async function extractedPackage(
  root: string,
  records: Record<string, unknown[]>,
): Promise<PackageStorage> {
  const storage = new PackageStorage(root);
  const dir = await storage.create("extracted", LOAD_ID);
  const schema = newSchema("gitlab");
  for (const [table, pk] of [["issues", "id"], ["merge_requests", "id"], ["jobs", "id"]]) {
    applyTableHints(schema, {
      table,
      resource: table,
      write_disposition: "merge",
      primary_key: [pk],
      merge_key: [],
      columns: {},
    });
  }
  schema.tables._dlt_pipeline_state = pipelineStateTable();
  await Deno.writeTextFile(join(dir, "schema.json"), toStoredJson(schema));
  await Deno.writeTextFile(join(dir, "load_package_state.json"), '{"created_at":"x"}');
  for (const [table, items] of Object.entries(records)) {
    const w = new JobWriter(dir, table, "typed-jsonl");
    for (const item of items) await w.write(JSON.stringify(item));
    await w.close();
  }
  return storage;
}

interface CopyFile {
  header: string[];
  rows: string[][];
}

async function readCopyJobs(dir: string, table: string): Promise<CopyFile[]> {
  const out: CopyFile[] = [];
  const names = [...Deno.readDirSync(join(dir, "new_jobs"))].map((e) => e.name)
    .filter((n) => n.startsWith(`${table}.`) && n.endsWith(".0.copy")).sort();
  for (const name of names) {
    const lines = (await Deno.readTextFile(join(dir, "new_jobs", name))).split("\n");
    assert.equal(lines.pop(), "");
    out.push({ header: JSON.parse(lines[0]), rows: lines.slice(1).map((l) => l.split("\t")) });
  }
  return out;
}

Deno.test("normalizePackage() writes COPY jobs, schema and updates for GitLab samples", async () => {
  const root = await Deno.makeTempDir();
  try {
    const issues = JSON.parse(await Deno.readTextFile(new URL("issues.json", samples)));
    const mrs = JSON.parse(await Deno.readTextFile(new URL("merge_requests.json", samples)));
    const jobs = JSON.parse(await Deno.readTextFile(new URL("jobs.json", samples)));
    issues[0].title = "tab\there\nnew line \\ backslash \u0000 nul";
    const storage = await extractedPackage(root, {
      issues,
      merge_requests: mrs,
      jobs,
      _dlt_pipeline_state: [PIPELINE_STATE],
    });
    const info = await normalizePackage(storage, LOAD_ID);

    assert.deepEqual(await storage.list("extracted"), []);
    assert.deepEqual(await storage.list("normalized"), [LOAD_ID]);
    const dir = storage.path("normalized", LOAD_ID);
    assert.equal(
      await Deno.readTextFile(join(dir, "load_package_state.json")),
      '{"created_at":"x"}',
    );

    assert.equal(info.rows.issues, 1);
    assert.equal(info.rows.issues__labels, 2);
    assert.equal(info.rows.issues__assignees, 1);
    assert.equal(info.rows.jobs, 2);
    assert.equal(info.rows._dlt_pipeline_state, 1);
    assert.ok(info.newTables.includes("issues__labels"));
    assert.ok(info.newColumns.issues.includes("author__username"));

    const [issueJob] = await readCopyJobs(dir, "issues");
    assert.deepEqual(issueJob.header.slice(-2), ["_dlt_load_id", "_dlt_id"]);
    const issueRow = Object.fromEntries(issueJob.header.map((c, i) => [c, issueJob.rows[0][i]]));
    assert.equal(issueRow.title, "tab\\there\\nnew line \\\\ backslash \\\\u0000 nul");
    assert.equal(issueRow.updated_at, "2016-01-04T15:31:51.081000+00:00");
    assert.equal(issueRow.confidential, "f");
    assert.equal(issueRow._dlt_load_id, LOAD_ID);
    assert.equal(issueRow._dlt_id.length, 14);

    const [labels] = await readCopyJobs(dir, "issues__labels");
    assert.deepEqual(labels.header, [
      "value",
      "_dlt_root_id",
      "_dlt_parent_id",
      "_dlt_list_idx",
      "_dlt_id",
    ]);
    assert.deepEqual(labels.rows.map((r) => [r[0], r[1], r[3]]), [
      ["foo", issueRow._dlt_id, "0"],
      ["bar", issueRow._dlt_id, "1"],
    ]);

    const [stateJob] = await readCopyJobs(dir, "_dlt_pipeline_state");
    assert.deepEqual(stateJob.header, [
      "version",
      "engine_version",
      "pipeline_name",
      "state",
      "created_at",
      "version_hash",
      "_dlt_load_id",
      "_dlt_id",
    ]);
    assert.equal(stateJob.rows[0][4], "2024-05-01T12:00:00+00:00");

    const schema: StoredSchema = fromStoredJson(await Deno.readTextFile(join(dir, "schema.json")));
    assert.equal(schema.version, 2);
    assert.deepEqual(schema.previous_hashes.length, 1);
    for (const t of ["issues", "issues__labels", "jobs", "_dlt_pipeline_state"]) {
      assert.deepEqual(schema.tables[t]["x-normalizer"], { "seen-data": true }, t);
    }
    assert.equal(schema.tables._dlt_version["x-normalizer"], undefined);
    assert.deepEqual(schema.tables._dlt_pipeline_state.columns._dlt_id, {
      name: "_dlt_id",
      data_type: "text",
      nullable: false,
      unique: true,
      row_key: true,
    });
    assert.equal(schema.tables.jobs__tag_list?.parent, "jobs");

    const updates = JSON.parse(await Deno.readTextFile(join(dir, "schema_updates.json")));
    assert.ok(updates.issues.columns.author__username);
    assert.equal(updates.issues__labels.parent, "issues");
    assert.equal(updates._dlt_pipeline_state.columns._dlt_id.unique, true);
    assert.deepEqual(Object.keys(updates._dlt_pipeline_state.columns), ["_dlt_id"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("normalizePackage() streams many rows in chunks and new files per new header", async () => {
  const root = await Deno.makeTempDir();
  try {
    const n = 12_000;
    const items = Array.from({ length: n }, (_, i) => ({
      id: i,
      title: `issue ${i}`,
      labels: ["a", "b"],
      ...(i >= 7_000 ? { weight: i % 5 } : {}),
    }));
    const storage = await extractedPackage(root, { issues: items });
    const info = await normalizePackage(storage, LOAD_ID, {
      chunkRows: 1_000,
      maxFileBytes: 256 * 1024,
    });
    assert.equal(info.rows.issues, n);
    assert.equal(info.rows.issues__labels, 2 * n);
    const dir = storage.path("normalized", LOAD_ID);
    const files = await readCopyJobs(dir, "issues");
    assert.ok(files.length >= 2, `${files.length} files`);
    assert.equal(files.reduce((s, f) => s + f.rows.length, 0), n);
    const withWeight = files.filter((f) => f.header.includes("weight"));
    const withoutWeight = files.filter((f) => !f.header.includes("weight"));
    assert.ok(withWeight.length > 0 && withoutWeight.length > 0);
    for (const f of files) for (const r of f.rows) assert.equal(r.length, f.header.length);
    assert.equal(withoutWeight.reduce((s, f) => s + f.rows.length, 0), 7_000);
    const labelFiles = await readCopyJobs(dir, "issues__labels");
    assert.ok(labelFiles.length >= 2);
    assert.equal(labelFiles.reduce((s, f) => s + f.rows.length, 0), 2 * n);
    assert.equal(info.jobs.length, files.length + labelFiles.length);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("normalizePackage() writes a header-only job for an empty extracted file", async () => {
  const root = await Deno.makeTempDir();
  try {
    const storage = await extractedPackage(root, {});
    const dir = storage.path("extracted", LOAD_ID);
    await Deno.writeTextFile(join(dir, "new_jobs", "issues.0123456789.0.typed-jsonl"), "");
    const info = await normalizePackage(storage, LOAD_ID);
    assert.equal(info.rows.issues, 0);
    const [job] = await readCopyJobs(storage.path("normalized", LOAD_ID), "issues");
    assert.deepEqual(job.header, ["_dlt_load_id", "_dlt_id"]);
    assert.equal(job.rows.length, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("normalizePackage() reads the files named in plain_json.json with JSON.parse alone", async () => {
  // extract lists only files whose lines JSON.parse reads exactly; here a line that it does
  // not (1.0) shows which parser read the file
  const columns = async (
    plainJson: string | undefined,
    line = '{"id":1,"x":1.0,"b":1}',
    table = "issues",
  ) => {
    const root = await Deno.makeTempDir();
    try {
      const storage = await extractedPackage(root, {});
      const dir = storage.path("extracted", LOAD_ID);
      const w = new JobWriter(dir, "issues", "typed-jsonl");
      await w.write(line);
      const [file] = await w.close();
      if (plainJson !== undefined) {
        await Deno.writeTextFile(
          join(dir, "plain_json.json"),
          plainJson.replace("FILE", file.split("/").pop()!),
        );
      }
      await normalizePackage(storage, LOAD_ID);
      const schema = fromStoredJson(
        await Deno.readTextFile(join(storage.path("normalized", LOAD_ID), "schema.json")),
      );
      return Object.values(schema.tables[table].columns)
        .filter((c) => !c.name.startsWith("_dlt"))
        .map((c) => `${c.name}:${c.data_type}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  };
  const exact = ["id:bigint", "x:double", "b:bigint"];
  assert.deepEqual(await columns(undefined), exact);
  assert.deepEqual(await columns('["other.0a1b2c3d4e.0.typed-jsonl"]'), exact);
  assert.deepEqual(await columns("not json"), exact, "a broken list is ignored");
  assert.deepEqual(await columns('["FILE"]'), ["id:bigint", "x:bigint", "b:bigint"]);
  // an integer-like key, which JSON.parse lists first, is found by the normalizer: that line
  // is read again in its text's order (at any depth, in nested rows too), the others stay
  // with JSON.parse
  const nested = '[{"id":1,"b":1,"2":"two","d":{"k":1,"7":2},"l":[{"z":1,"3":3}]},{"id":2}]';
  const textOrder = ["id:bigint", "b:bigint", "_2:text", "d__k:bigint", "d___7:bigint"];
  assert.deepEqual(await columns('["FILE"]', nested), textOrder);
  assert.deepEqual(await columns(undefined, nested), textOrder);
  assert.deepEqual(await columns('["FILE"]', nested, "issues__l"), ["z:bigint", "_3:bigint"]);
  // the item that needs it is taken from the line read again, whatever its place in the line
  const second = '[{"id":1,"b":1},{"id":2,"b":2,"2":"two"},{"id":3,"c":3}]';
  const all = ["id:bigint", "b:bigint", "_2:text", "c:bigint"];
  assert.deepEqual(await columns('["FILE"]', second), all);
  assert.deepEqual(await columns(undefined, second), all);
});

Deno.test("normalizePackage() keeps the text's key order in json values of files read with JSON.parse", async () => {
  // a dict kept whole (beyond max_nesting here) with an integer-like key, which JSON.parse lists
  // first: its line is read again, so the json text is the same whichever parser read the file
  const line = '[{"id":1,"n":{"m":{"b":1,"2":2}}},{"id":2,"n":{"m":[{"c":1,"7":2}]}}]';
  const values = async (plain: boolean) => {
    const root = await Deno.makeTempDir();
    try {
      const storage = await extractedPackage(root, {});
      const dir = storage.path("extracted", LOAD_ID);
      const schema = fromStoredJson(await Deno.readTextFile(join(dir, "schema.json")));
      schema.tables.issues["x-normalizer"] = { max_nesting: 1 };
      await Deno.writeTextFile(join(dir, "schema.json"), toStoredJson(schema));
      const w = new JobWriter(dir, "issues", "typed-jsonl");
      await w.write(line);
      const [file] = await w.close();
      if (plain) {
        await Deno.writeTextFile(
          join(dir, "plain_json.json"),
          JSON.stringify([file.split("/").pop()]),
        );
      }
      await normalizePackage(storage, LOAD_ID);
      const [job] = await readCopyJobs(storage.path("normalized", LOAD_ID), "issues");
      const at = job.header.indexOf("n__m");
      return job.rows.map((r) => r[at]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  };
  const textOrder = ['{"b":1,"2":2}', '[{"c":1,"7":2}]'];
  assert.deepEqual(await values(false), textOrder);
  assert.deepEqual(await values(true), textOrder);
});
