import assert from "node:assert/strict";
import { DataValidationError } from "../../lib/common/errors.ts";
import { normalizePackage, type NormalizePackageOptions } from "../../lib/normalize/mod.ts";
import { PackageStorage } from "../../lib/storage/package_storage.ts";
import {
  assertSamePackage,
  copyDir,
  extractedPackage,
  LOAD_ID,
  PIPELINE_STATE,
  records,
  snapshot,
} from "./_package.ts";

async function normalizeBoth(
  data: Record<string, unknown[]>,
  parallel: NormalizePackageOptions,
  schemaText?: string,
) {
  const roots = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    // the same package twice (same file names, so the same file order)
    const one = await extractedPackage(roots[0], data, schemaText);
    const many = new PackageStorage(roots[1]);
    await copyDir(one.path("extracted", LOAD_ID), await many.create("extracted", LOAD_ID));
    const oneInfo = await normalizePackage(one, LOAD_ID, { workers: 1 });
    const manyInfo = await normalizePackage(many, LOAD_ID, parallel);
    return {
      oneInfo,
      manyInfo,
      one: snapshot(one),
      many: snapshot(many),
      left: await many.list("extracted"),
    };
  } finally {
    for (const r of roots) await Deno.remove(r, { recursive: true });
  }
}

const comparable = ({ jobs: _j, threads: _t, ...rest }: { jobs: string[]; threads: number }) =>
  rest;

Deno.test("normalizePackage() with workers: root tables in parallel, the package identical to one pass", async () => {
  const data = {
    _dlt_pipeline_state: [PIPELINE_STATE],
    issues: records("issues", 300),
    jobs: records("jobs", 200),
    merge_requests: records("merge_requests", 250),
  };
  const r = await normalizeBoth(data, { workers: 3, parallelMinBytes: 0 });
  assert.equal(r.oneInfo.threads, 1);
  assert.equal(r.manyInfo.threads, 3);
  assert.deepEqual(r.left, []);
  assert.deepEqual(comparable(r.manyInfo), comparable(r.oneInfo));
  assert.ok(r.one.tableOrder.includes("issues__extra_list__nested__deep"), "nested tables made");
  assert.ok(r.oneInfo.newVariantColumns.issues?.length, "a variant column made");
  assertSamePackage(r.many, r.one);
});

Deno.test("normalizePackage() with workers: a root table named like another's nested table falls back to one pass", async () => {
  const data = {
    issues: records("issues", 40),
    // "issues__labels" is also the nested table of issues' labels
    issues__labels: [{ value: "from another resource", id: 1 }],
  };
  const r = await normalizeBoth(data, { workers: 2, parallelMinBytes: 0 });
  assert.equal(r.manyInfo.threads, 1);
  assert.deepEqual(comparable(r.manyInfo), comparable(r.oneInfo));
  assert.equal(r.many.schema, r.one.schema);
  assert.deepEqual(r.many.jobs, r.one.jobs);
  // the next package: the schema already has every column, so no group changes the shared
  // table, but both write rows to it: still one pass (row counts, file order)
  const again = await normalizeBoth(data, { workers: 2, parallelMinBytes: 0 }, r.one.schema);
  assert.equal(again.manyInfo.threads, 1);
  assert.equal(again.oneInfo.rows.issues__labels, r.oneInfo.rows.issues__labels);
  assert.deepEqual(comparable(again.manyInfo), comparable(again.oneInfo));
  assert.deepEqual(again.many.jobs, again.one.jobs);
});

Deno.test("normalizePackage() with workers: a contract error in a worker is the error of one pass", async () => {
  const errors: unknown[] = [];
  for (const workers of [1, 3]) {
    const root = await Deno.makeTempDir();
    try {
      const storage = await extractedPackage(root, {
        issues: records("issues", 30),
        merge_requests: records("merge_requests", 30),
      });
      errors.push(
        await normalizePackage(storage, LOAD_ID, {
          workers,
          parallelMinBytes: 0,
          schemaContract: { tables: "freeze" },
        }).catch((e) => e),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
  assert.ok(errors[0] instanceof DataValidationError, String(errors[0]));
  assert.ok(errors[1] instanceof DataValidationError, String(errors[1]));
  assert.equal((errors[1] as Error).message, (errors[0] as Error).message);
});
