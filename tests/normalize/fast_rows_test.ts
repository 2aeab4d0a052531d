/**
 * The normalizer's fast path (`lib/normalize/fast_rows.ts`) against the general path: the same
 * extracted files, normalized with and without it, give the same job files byte for byte, the
 * same schema and the same schema updates, while the fast path takes most records.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { normalizeGroup } from "../../lib/normalize/group.ts";
import { applyTableHints, newSchema, setMaxNesting, toStoredJson } from "../../lib/schema/mod.ts";
import { fromStoredJson } from "../../lib/schema/export.ts";
import type { StoredSchema } from "../../lib/schema/types.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { NEW_JOBS } from "../../lib/storage/package_storage.ts";
import { withTempDir } from "./_package.ts";

const samples = new URL("../testdata/reference/gitlab-samples/", import.meta.url);
const sample = (name: string): Record<string, unknown>[] => {
  const data = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, samples)));
  return Array.isArray(data) ? data : [data];
};

/** Records of a GitLab sample, repeated, with what makes the general path take some of them. */
function hostile(name: string, n: number): Record<string, unknown>[] {
  const base = sample(name);
  return Array.from({ length: n }, (_, i) => {
    const r: Record<string, unknown> = structuredClone(base[i % base.length]);
    r.id = 5000 + i;
    r.note = i % 5 === 0 ? "tab\there\nnew line \\ back\u0000nul" : `plain ${i}`;
    r.maybe = i % 4 === 0 ? null : {
      a: i,
      b: i % 3 === 0 ? null : `b${i}`,
      // a dict kept whole past max_nesting, its integer-like key last in the text
      deep: i % 10 === 1 ? { b: i, index_key_here: true } : { b: i },
    };
    r.tags = i % 6 === 0 ? [] : [`t${i}`, null, `u${i}`];
    r.items = i % 9 === 0 ? [] : [{ k: i, sub: [{ z: i }, { z: i + 1 }] }, { k: i + 1, sub: [] }];
    if (i === 40 || i === 100) r.fooBar = "collides"; // with foo_bar: two keys, one column
    if (i >= 40) r.foo_bar = "exact";
    if (i === 60) r.score = "heavy"; // a number column, then text: a variant
    else r.score = i;
    if (i === 70) r.when = "2024-01-15 10:30:00+02:00"; // not GitLab's form
    else r.when = "2024-01-15T10:30:00.000Z";
    if (i === 75) r.ratio = 2; // an integer into a double column
    else r.ratio = i + 0.5;
    if (i === 80 || i === 140) r.matrix = [[1, 2], [3]]; // a list of lists
    // JSON.parse moves an integer-like key first; the text has it last (see normalizeOnce)
    if (i === 85 || i === 130) r.index_key_here = true;
    if (i > n - 20) r[`late_${name}`] = i; // a new column late
    if (i === n - 5) r._dlt_id = "from-data";
    r.flag = i % 2 === 0;
    r.always_empty = []; // a nested table that never gets a row
    return r;
  });
}

interface Run {
  fastRecords: number;
  schema: string;
  updates: string;
  jobs: [string, string][];
}

/**
 * Normalizes `data` written as extracted files, with or without the fast path; `vouched`:
 * the files are listed as plain JSON (the extract's `plain_json.json`), else each line is
 * checked (as for a package without the list, or a file that also holds a page with a number
 * `JSON.parse` would change).
 */
async function normalizeOnce(
  root: string,
  data: Record<string, unknown[]>,
  schema: StoredSchema,
  fastRows: boolean,
  vouched = true,
): Promise<Run> {
  const source = join(root, `extracted_${fastRows}_${vouched}`);
  const target = join(root, `normalized_${fastRows}_${vouched}`);
  await Deno.mkdir(join(target, NEW_JOBS), { recursive: true });
  await Deno.mkdir(join(source, NEW_JOBS), { recursive: true });
  const paths: string[] = [];
  for (const [table, items] of Object.entries(data)) {
    // two files per table, a few records per line as dlt writes them
    for (const part of [items.slice(0, items.length / 2), items.slice(items.length / 2)]) {
      const w = new JobWriter(source, table, "typed-jsonl");
      for (let i = 0; i < part.length; i += 3) {
        const line = JSON.stringify(part.slice(i, i + 3));
        await w.write(
          line.replaceAll(`"index_key_here":true`, `"10":"index-like key"`)
            // numbers JSON.parse would change: an integral float, an integer beyond 2^53
            .replaceAll(`"lossy_here":true`, `"weight":1.0,"big":12345678901234567890`),
        );
      }
      paths.push(...await w.close());
    }
  }
  let n = 0;
  const run = await normalizeGroup(fromStoredJson(toStoredJson(schema)), paths, {
    loadId: "1714567890.123456",
    target,
    chunkRows: 7,
    plainFiles: vouched ? paths.map((p) => p.split("/").pop()!) : [],
    fastRows,
  }, { newRowId: () => `root${n++}` });
  const files = await run.jobs.close();
  return {
    fastRecords: run.fastRecords,
    schema: toStoredJson(run.schema),
    updates: JSON.stringify(run.evolution.updates),
    jobs: files.map((f) => [f.split("/").pop()!.split(".")[0], Deno.readTextFileSync(f)]),
  };
}

async function compare(
  data: Record<string, unknown[]>,
  schema: StoredSchema,
  vouched = true,
): Promise<Run> {
  let fast!: Run;
  await withTempDir(async (root) => {
    const general = await normalizeOnce(root, data, schema, false, vouched);
    fast = await normalizeOnce(root, data, schema, true, vouched);
    assert.equal(general.fastRecords, 0);
    assert.deepEqual(fast.jobs.map(([t]) => t), general.jobs.map(([t]) => t));
    for (let i = 0; i < fast.jobs.length; i++) {
      assert.equal(fast.jobs[i][1], general.jobs[i][1], `job file of ${fast.jobs[i][0]}`);
    }
    assert.equal(fast.schema, general.schema);
    assert.equal(fast.updates, general.updates);
  });
  return fast;
}

function schemaFor(tables: Record<string, "merge" | "append">): StoredSchema {
  const schema = newSchema("gitlab");
  for (const [table, disposition] of Object.entries(tables)) {
    applyTableHints(schema, {
      table,
      resource: table,
      write_disposition: disposition,
      primary_key: disposition === "merge" ? ["id"] : [],
      merge_key: [],
      columns: {},
    });
  }
  return schema;
}

Deno.test("fast path: GitLab records with hostile variations give the general path's job files, schema and updates", async () => {
  const data = {
    issues: hostile("issues", 200),
    merge_requests: hostile("merge_requests", 150),
    commits: hostile("commits", 120),
  };
  const total = 470;
  const fast = await compare(
    data,
    schemaFor({ issues: "merge", merge_requests: "merge", commits: "append" }),
  );
  // the general path takes each table's first records and those that change the schema; the
  // fast path the rest
  assert.ok(fast.fastRecords > total * 0.6, `fast path took ${fast.fastRecords} of ${total}`);
  assert.ok(fast.fastRecords < total, "some records took the general path");
  // the merge tables hand their root id down (_dlt_root_id), the append one does not
  const nested = fast.jobs.find(([t]) => t === "issues__items__sub")![1];
  assert.ok(JSON.parse(nested.split("\n")[0]).includes("_dlt_root_id"));
});

Deno.test("fast path: lines of files the extract did not vouch for take it too when JSON.parse reads them exactly", async () => {
  // as a worker following a package reads every file (the list comes at the end), and as
  // normalize reads a file that also holds a page with a number JSON.parse would change
  const issues = hostile("issues", 200).map((r, i) =>
    i % 25 === 3 ? { ...r, lossy_here: true } : r
  );
  const data = { issues, commits: hostile("commits", 90) };
  const fast = await compare(data, schemaFor({ issues: "merge", commits: "append" }), false);
  assert.ok(fast.fastRecords > 290 * 0.6, `fast path took ${fast.fastRecords} of 290`);
  // the lines with such a number (3 records each) and with an integer-like key went the
  // general path, read by the exact parser
  assert.ok(fast.fastRecords <= 290 - 8 * 3, `fast path took ${fast.fastRecords} of 290`);
  const issuesJob = fast.jobs.find(([t]) => t === "issues")![1];
  assert.ok(issuesJob.includes("12345678901234567890"), "the big integer kept exact");
  const header: string[] = JSON.parse(issuesJob.split("\n")[0]);
  assert.ok(header.includes("weight"), "1.0 made a column");
  assert.ok(
    fast.schema.includes('"weight"') && /"weight":\{[^}]*"data_type":"double"/.test(fast.schema),
    "1.0 is a double, as in dlt",
  );
});

Deno.test("fast path: past max_nesting, dicts and lists stay whole as json, as in the general path", async () => {
  const schema = schemaFor({ issues: "merge" });
  setMaxNesting(schema, 1);
  const fast = await compare({ issues: hostile("issues", 120) }, schema);
  assert.ok(fast.fastRecords > 60, `fast path took ${fast.fastRecords}`);
  const header: string[] = JSON.parse(fast.jobs.find(([t]) => t === "issues")![1].split("\n")[0]);
  assert.ok(header.includes("maybe__a"), "a dict at the first level is flattened");
  assert.ok(fast.jobs.some(([t]) => t === "issues__items"), "a list at the first level is nested");
  assert.ok(!fast.jobs.some(([t]) => t === "issues__items__sub"), "deeper lists stay json");
});

Deno.test("fast path: an upsert table's key-hash ids are left to the general path", async () => {
  const schema = schemaFor({ issues: "merge" });
  schema.tables.issues["x-merge-strategy"] = "upsert";
  const fast = await compare({ issues: hostile("issues", 60) }, schema);
  assert.equal(fast.fastRecords, 0);
});

Deno.test("fast path: a null where the schema forbids one fails as in the general path", async () => {
  for (const fastRows of [false, true]) {
    const schema = schemaFor({ issues: "merge" });
    schema.settings ??= {};
    const hints = (schema.settings.default_hints ??= {});
    (hints.not_null ??= []).push("note", "value");
    const data = hostile("issues", 60);
    for (const r of data) r.tags = ["a", "b"];
    data[50].note = null;
    await withTempDir(async (root) => {
      await assert.rejects(
        normalizeOnce(root, { issues: data }, schema, fastRows),
        /column "note" is not nullable/,
      );
    });
    data[50].note = "x";
    (data[52].tags as unknown[])[0] = null;
    await withTempDir(async (root) => {
      await assert.rejects(
        normalizeOnce(root, { issues: data }, schema, fastRows),
        /column "value" is not nullable/,
      );
    });
  }
});

Deno.test("fast path: a second package on the schema the first evolved (a later run) gives the general path's files", async () => {
  const data = { issues: hostile("issues", 120), merge_requests: hostile("merge_requests", 90) };
  let evolved!: StoredSchema;
  await withTempDir(async (root) => {
    const first = await normalizeOnce(
      root,
      data,
      schemaFor({ issues: "merge", merge_requests: "merge" }),
      false,
    );
    evolved = fromStoredJson(first.schema);
  });
  const later = {
    issues: hostile("issues", 150).map((r, i) => ({ ...r, id: 9000 + i, added_later: i })),
    merge_requests: hostile("merge_requests", 60),
  };
  const fast = await compare(later, evolved);
  assert.ok(fast.fastRecords > 60, `fast path took ${fast.fastRecords} of 210`);
});

Deno.test("fast path: two lists making one nested table from different rows keep the general path's row order", async () => {
  // `a.b__c` (a list in a dict of the row) and `a__b[].c` (a list in a list's dicts) both make
  // t__a__b__c; the general path puts a row's own lists before those of its nested rows
  const t = Array.from({ length: 12 }, (_, i) => ({
    id: i,
    a: { b__c: [`x${i}`] },
    a__b: [{ c: [`y${i}`] }],
    p: { q: [{ z: [`z${i}`] }] },
    p__q__z: [`w${i}`],
  }));
  const fast = await compare({ t }, schemaFor({ t: "append" }));
  assert.ok(fast.jobs.some(([table]) => table === "t__a__b__c"));
});
