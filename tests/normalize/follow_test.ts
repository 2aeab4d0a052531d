import assert from "node:assert/strict";
import { join } from "node:path";
import { type ExtractFollower, PackageFollower } from "../../lib/normalize/follow.ts";
import {
  followExtract,
  type NormalizeInfo,
  normalizePackage,
  tablesToTakeOver,
} from "../../lib/normalize/mod.ts";
import { toStoredJson } from "../../lib/schema/mod.ts";
import type { StoredSchema } from "../../lib/schema/types.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { NEW_JOBS, PackageStorage } from "../../lib/storage/package_storage.ts";
import {
  assertSamePackage,
  copyDir,
  LOAD_ID,
  PIPELINE_STATE,
  records,
  schemaOf,
  snapshot,
  withTempDir,
} from "./_package.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds (the follower works in its own thread), at most 10 s. */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  for (let i = 0; i < timeoutMs / 10; i++) {
    if (await check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Whether a job file under `dir` (a package being normalized) holds bytes. */
async function normalizedSome(dir: string): Promise<boolean> {
  const walk = async (d: string): Promise<boolean> => {
    try {
      for await (const e of Deno.readDir(d)) {
        const p = join(d, e.name);
        if (e.isDirectory ? await walk(p) : (await Deno.stat(p)).size > 0) return true;
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return false;
  };
  return await walk(dir);
}

interface Extracting {
  storage: PackageStorage;
  dir: string;
}

/** A package being extracted, as the pipeline starts one (with its schema written later). */
async function extracting(root: string): Promise<Extracting> {
  const storage = new PackageStorage(root);
  return { storage, dir: await storage.create("extracting", LOAD_ID) };
}

/**
 * The extract's end as the pipeline does it: the state file, the schema, the package moved;
 * then normalized with the follower, and (from a copy made before) in one pass.
 */
async function finishBoth(
  e: Extracting,
  schema: StoredSchema,
  follower: ExtractFollower | undefined,
  options: { chunkRows?: number } = {},
) {
  const state = new JobWriter(e.dir, "_dlt_pipeline_state", "typed-jsonl");
  await state.write(JSON.stringify(PIPELINE_STATE));
  await state.close();
  await Deno.writeTextFile(join(e.dir, "schema.json"), toStoredJson(schema));
  const read = await follower!.hold();
  await e.storage.move(LOAD_ID, "extracting", "extracted");
  const oneRoot = await Deno.makeTempDir();
  const one = new PackageStorage(oneRoot);
  try {
    await copyDir(e.storage.path("extracted", LOAD_ID), await one.create("extracted", LOAD_ID));
    const followedInfo = await normalizePackage(e.storage, LOAD_ID, {
      ...options,
      workers: 2,
      follower,
    });
    const oneInfo = await normalizePackage(one, LOAD_ID, { ...options, workers: 1 });
    return {
      read,
      oneInfo,
      followedInfo,
      one: snapshot(one),
      followed: snapshot(e.storage),
      left: [
        ...await e.storage.list("extracted"),
        ...await e.storage.list("normalizing"),
      ],
    };
  } finally {
    await Deno.remove(oneRoot, { recursive: true });
  }
}

const comparable = (
  { jobs: _j, threads: _t, followed: _f, ...rest }: NormalizeInfo,
) => rest;

Deno.test("followExtract(): a package normalized while it is written is the package of one pass", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    const data = {
      issues: records("issues", 300),
      jobs: records("jobs", 200),
      merge_requests: records("merge_requests", 250),
    };
    const schema = schemaOf({ ...data, _dlt_pipeline_state: [PIPELINE_STATE] });
    const startSchema = structuredClone(schema);
    delete startSchema.tables._dlt_pipeline_state; // a first run adds it after the extract
    const follower = followExtract(e.storage, LOAD_ID, JSON.stringify(startSchema), {
      workers: 2,
      minBytes: 0,
      pollMs: 2,
    });
    assert.ok(follower);
    // small buffers and files: lines land in pieces, each table spans several files
    const writers = Object.fromEntries(
      Object.keys(data).map((t) => [
        t,
        new JobWriter(e.dir, t, "typed-jsonl", { bufferBytes: 3000, maxFileBytes: 200_000 }),
      ]),
    );
    const issuesFile = () =>
      [...Deno.readDirSync(join(e.dir, NEW_JOBS))].find((f) => f.name.startsWith("issues."));
    for (let i = 0; i < 300; i++) {
      for (const [table, items] of Object.entries(data)) {
        if (i < items.length) await writers[table].write(JSON.stringify(items[i]));
      }
      if (i === 250) {
        // the follower reads what is on disk while the extract goes on: once its worker runs
        // (which may take seconds on a busy machine) it writes what it normalized of the first
        // 200 issues (a chunk)
        await writers.issues.flush();
        await until(async () => {
          const f = issuesFile();
          return f !== undefined && (await Deno.stat(join(e.dir, NEW_JOBS, f.name))).size > 0;
        }, "the issues file");
        await until(async () => (await e.storage.list("normalizing")).length > 0, "the worker");
        await until(
          () => normalizedSome(e.storage.path("normalizing", LOAD_ID)),
          "a chunk",
          30_000,
        );
      }
    }
    for (const w of Object.values(writers)) await w.close();
    assert.ok(writers.issues.files.length > 2, "issues in several files");
    const r = await finishBoth(e, schema, follower);
    assert.ok((r.read.issues ?? 0) > 0, `read while extracting: ${JSON.stringify(r.read)}`);
    assert.equal(r.followedInfo.followed, true, follower.why);
    assert.equal(r.oneInfo.followed, false);
    assert.deepEqual(r.left, []);
    assert.deepEqual(comparable(r.followedInfo), comparable(r.oneInfo));
    assert.ok(r.one.tableOrder.includes("issues__extra_list__nested__deep"), "nested tables made");
    assert.ok(r.oneInfo.newVariantColumns.issues?.length, "a variant column made");
    assertSamePackage(r.followed, r.one);
  });
});

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Extracts `data` with a follower, writing each table's file in two halves. */
async function followInHalves(
  e: Extracting,
  data: Record<string, unknown[]>,
  startSchema: StoredSchema,
  between?: () => Promise<void>,
) {
  let read: Record<string, number> = {};
  const follower = followExtract(e.storage, LOAD_ID, JSON.stringify(startSchema), {
    workers: 2,
    minBytes: 0,
    pollMs: 2,
    onRead: (progress) => read = progress,
  });
  const writers = Object.keys(data).map((t) => new JobWriter(e.dir, t, "typed-jsonl"));
  const tables = Object.values(data);
  let written = 0;
  for (const [i, items] of tables.entries()) {
    for (const item of items.slice(0, items.length / 2)) {
      const line = JSON.stringify(item) + "\n";
      written += new TextEncoder().encode(line).length;
      await writers[i].write(JSON.stringify(item));
    }
    await writers[i].flush();
  }
  // the worker has read the first halves (on a busy machine it may take a while to start)
  for (let waited = 0; sum(read) < written && waited < 20_000; waited += 10) await sleep(10);
  assert.equal(sum(read), written, "the worker read the first halves");
  await between?.();
  for (const [i, items] of tables.entries()) {
    for (const item of items.slice(items.length / 2)) await writers[i].write(JSON.stringify(item));
    await writers[i].close();
  }
  return follower;
}

Deno.test("followExtract(): a table taken over at the end is normalized anew here, the worker's files of it removed", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    const data = { issues: records("issues", 800), jobs: records("jobs", 800) };
    const schema = schemaOf({ ...data, _dlt_pipeline_state: [PIPELINE_STATE] });
    const seen: string[][] = [];
    const follower = followExtract(e.storage, LOAD_ID, JSON.stringify(schema), {
      workers: 2,
      minBytes: 0,
      pollMs: 2,
      takeOver: (tables) => {
        seen.push(tables.map((t) => `${t.table}:${t.read > 0 && t.read <= t.bytes}`));
        return ["issues"];
      },
    });
    const writers = Object.keys(data).map((t) => new JobWriter(e.dir, t, "typed-jsonl"));
    for (const [i, items] of Object.values(data).entries()) {
      for (const item of items.slice(0, 400)) await writers[i].write(JSON.stringify(item));
      await writers[i].flush();
    }
    // the worker has written rows of both tables to disk
    const written = (table: string) => {
      try {
        const jobs = join(e.storage.path("normalizing", LOAD_ID), NEW_JOBS);
        return [...Deno.readDirSync(jobs)].some((f) => f.name.startsWith(`${table}.`));
      } catch {
        return false;
      }
    };
    await until(() => written("issues") && written("jobs"), "the worker's first rows");
    for (const [i, items] of Object.values(data).entries()) {
      for (const item of items.slice(400)) await writers[i].write(JSON.stringify(item));
      await writers[i].close();
    }
    const r = await finishBoth(e, schema, follower);
    assert.deepEqual(seen, [["_dlt_pipeline_state:false", "issues:true", "jobs:true"]]);
    assert.equal(r.followedInfo.followed, true, follower!.why);
    assert.deepEqual(comparable(r.followedInfo), comparable(r.oneInfo));
    assertSamePackage(r.followed, r.one);
  });
});

Deno.test("followExtract(): lines (and characters) split across writes are read whole", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    const items = records("issues", 6).map((r, i) => ({ ...r, title: `Über straße ${i} 🎉` }));
    const schema = schemaOf({ issues: items, _dlt_pipeline_state: [PIPELINE_STATE] });
    const follower = followExtract(e.storage, LOAD_ID, JSON.stringify(schema), {
      workers: 2,
      minBytes: 0,
      pollMs: 2,
    });
    await until(async () => (await e.storage.list("normalizing")).length > 0, "the worker");
    await sleep(200);
    const bytes = new TextEncoder().encode(items.map((r) => JSON.stringify(r)).join("\n") + "\n");
    // cut in the middle of lines and of the two bytes of "Ü" and the four of "🎉"
    const cuts = [1, bytes.indexOf(0xc3) + 1, bytes.indexOf(0xf0) + 2, bytes.length - 3];
    using file = await Deno.open(join(e.dir, NEW_JOBS, "issues.0a0b0c0000.0.typed-jsonl"), {
      write: true,
      create: true,
    });
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      await file.write(bytes.subarray(at, cut));
      at = cut;
      await sleep(60);
    }
    const r = await finishBoth(e, schema, follower);
    assert.equal(r.followedInfo.followed, true, follower!.why);
    assert.equal(r.followedInfo.rows.issues, 6);
    assert.deepEqual(r.followed.jobs, r.one.jobs);
    assert.match(JSON.stringify(r.followed.jobs.issues), /Über straße 5 🎉/);
  });
});

Deno.test("PackageFollower: a hold stops within a chunk, after the line it is on; the finish reads the rest again", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    // ~0.6 MiB of issues, one per line: the follower reads them in one chunk
    const items = records("issues", 300);
    const schema = schemaOf({ issues: items, _dlt_pipeline_state: [PIPELINE_STATE] });
    const w = new JobWriter(e.dir, "issues", "typed-jsonl");
    for (const item of items) await w.write(JSON.stringify(item));
    await w.close();
    const [name] = w.files.map((f) => f.split(/[\\/]/).pop()!);
    const bytes = (await Deno.stat(join(e.dir, NEW_JOBS, name))).size;
    assert.ok(bytes < 1 << 20, "one read");
    const target = await e.storage.create("normalizing", LOAD_ID);
    const settings = { loadId: LOAD_ID, target, chunkRows: 20 };
    // held while the 100th line is normalized (as the extract's end comes at any time)
    let lines = 0;
    const follower = new PackageFollower(JSON.stringify(schema), settings, () => {
      if (++lines === 100) follower.hold();
    });
    await follower.step(e.dir);
    assert.equal(lines, 100);
    const read = follower.progress().issues;
    assert.ok(read > 0 && read < bytes, `stopped inside the chunk: ${read} of ${bytes} bytes`);
    // what it read is the first 100 lines (the rest is read again at the finish)
    const text = await Deno.readFile(join(e.dir, NEW_JOBS, name));
    assert.equal(text.subarray(0, read).filter((b) => b === 0x0a).length, 100);
    assert.equal(text[read - 1], 0x0a);

    const r = await finishBoth(e, schema, {
      why: undefined,
      hold: () => Promise.resolve(follower.progress()),
      finish: async (schemaText, paths, s) => {
        const names = paths.map((p) => p.split(/[\\/]/).pop()!);
        const dir = e.storage.path("extracted", LOAD_ID);
        const done = await follower.finish(dir, schemaText, names, [], s.plainFiles);
        return done.results?.map(([, g]) => g);
      },
      cancel: () => {},
    }, { chunkRows: settings.chunkRows });
    assert.equal(r.followedInfo.followed, true);
    assert.equal(r.followedInfo.rows.issues, 300);
    assert.deepEqual(comparable(r.followedInfo), comparable(r.oneInfo));
    assertSamePackage(r.followed, r.one);
  });
});

Deno.test("followExtract(): a schema changed during the extract: normalized again, as one pass", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    const data = { issues: records("issues", 60), jobs: records("jobs", 40) };
    const schema = schemaOf({ ...data, _dlt_pipeline_state: [PIPELINE_STATE] });
    const follower = await followInHalves(e, data, schema);
    // e.g. a hint the extract learnt late: the rows follow another schema
    schema.tables.issues.columns.title = { name: "title", data_type: "text", nullable: false };
    const r = await finishBoth(e, schema, follower);
    assert.equal(r.followedInfo.followed, false);
    assert.match(follower!.why ?? "", /schema changed/);
    assert.deepEqual(r.left, []);
    assertSamePackage(r.followed, r.one);
  });
});

Deno.test("followExtract(): a file that sorts before one already read: normalized again, as one pass", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    const data = { issues: records("issues", 60) };
    const schema = schemaOf({ ...data, _dlt_pipeline_state: [PIPELINE_STATE] });
    const late = records("issues", 70).slice(60);
    const follower = await followInHalves(e, data, schema, async () => {
      // another writer of the same table whose file name sorts first (its rows come first)
      const name = `issues.0000000000.0.typed-jsonl`;
      await Deno.writeTextFile(
        join(e.dir, NEW_JOBS, name),
        late.map((r) => JSON.stringify(r)).join("\n") + "\n",
      );
    });
    const r = await finishBoth(e, schema, follower);
    assert.equal(r.followedInfo.followed, false);
    assert.match(follower!.why ?? "", /appeared before one already read/);
    assertSamePackage(r.followed, r.one);
    assert.equal(r.oneInfo.rows.issues, 70);
  });
});

Deno.test("followExtract(): bad JSON in a followed file fails as one pass does", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    const data = { issues: records("issues", 40), jobs: records("jobs", 40) };
    const schema = schemaOf({ ...data, _dlt_pipeline_state: [PIPELINE_STATE] });
    const follower = await followInHalves(e, data, schema, async () => {
      const w = new JobWriter(e.dir, "jobs", "typed-jsonl");
      await w.write('{"id": 1, "broken": ');
      await w.close();
    });
    const error = await finishBoth(e, schema, follower).catch((x) => x);
    assert.ok(error instanceof Error);
    assert.match(error.message, /bad JSON in "jobs\.[0-9a-f]{10}\.0\.typed-jsonl" line 1/);
    follower!.cancel();
  });
});

Deno.test("followExtract(): nothing followed below its size, with one thread, or once cancelled", async () => {
  await withTempDir(async (root) => {
    const e = await extracting(root);
    assert.equal(followExtract(e.storage, LOAD_ID, "{}", { workers: 1 }), undefined);
    const data = { issues: records("issues", 20) };
    const schema = schemaOf({ ...data, _dlt_pipeline_state: [PIPELINE_STATE] });
    const follower = followExtract(e.storage, LOAD_ID, JSON.stringify(schema), {
      workers: 2,
      minBytes: 1 << 30,
      pollMs: 2,
    });
    const w = new JobWriter(e.dir, "issues", "typed-jsonl");
    for (const item of data.issues) await w.write(JSON.stringify(item));
    await w.close();
    await sleep(50);
    // no worker started: no normalizing folder, nothing read
    assert.deepEqual(await e.storage.list("normalizing"), []);
    const r = await finishBoth(e, schema, follower);
    assert.deepEqual(r.read, {});
    assert.equal(r.followedInfo.followed, false);
    assert.deepEqual(r.followed.jobs, r.one.jobs);
    follower!.cancel();
    follower!.cancel();
  });
});

Deno.test("tablesToTakeOver(): the tables whose new pass ends with the worker's rest", () => {
  const t = (table: string, bytes: number, read: number) => ({ table, bytes, read });
  // the worker is far in merge requests, not in issues: issues are done here from the start
  assert.deepEqual(
    tablesToTakeOver([t("commits", 10, 2), t("issues", 22, 3), t("merge_requests", 35, 14)]),
    ["issues"],
  );
  // the worker is (nearly) through: it finishes alone
  assert.deepEqual(tablesToTakeOver([t("a", 10, 10), t("b", 10, 9)]), []);
  // one table: taken over only when the worker read none of it
  assert.deepEqual(tablesToTakeOver([t("a", 10, 0)]), []);
  assert.deepEqual(tablesToTakeOver([t("a", 10, 0), t("b", 10, 0)]), ["a"]);
  assert.deepEqual(
    tablesToTakeOver(Array.from({ length: 13 }, (_, i) => t(`t${i}`, 10, 0))),
    [],
  );
});
