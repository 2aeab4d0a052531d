import assert from "node:assert/strict";
import { join } from "node:path";
import { extract, type ExtractOptions } from "../../lib/extract/extract.ts";
import { PLAIN_JSON_FILE } from "../../lib/storage/package_storage.ts";
import {
  BufferBudget,
  PoolAborted,
  runOrdered,
  Semaphore,
  type Spill,
} from "../../lib/extract/pool.ts";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";
import { HttpError } from "../../lib/common/errors.ts";
import {
  catalog,
  extractInto,
  GITLAB,
  issueNotes,
  issues,
  json,
  noSleep,
  packageDir,
  projects,
  resource,
  run as runExtract,
  source,
  startServer,
  TOKEN,
} from "./_helpers.ts";

/** A spill of items written as UTF-8 text. */
function textSpill<T>(
  dir: string,
  toText: (item: T) => string,
  fromText: (text: string) => T,
): Spill<T> {
  return {
    dir,
    encode: (item) => [new TextEncoder().encode(toText(item))],
    decode: (bytes) => fromText(new TextDecoder().decode(bytes)),
  };
}

const users = () =>
  resource("users", { paginator: GITLAB, endpoint: { method: "GET", path: "users" } });

/** A real fetch that counts the requests in flight. */
function countingFetch() {
  const counter = { now: 0, max: 0 };
  const fetcher: typeof fetch = async (input, init) => {
    counter.max = Math.max(counter.max, ++counter.now);
    try {
      return await fetch(input, init);
    } finally {
      counter.now--;
    }
  };
  return { fetch: fetcher, counter };
}

function run(baseUrl: string, over: Partial<ExtractOptions>) {
  return runExtract(catalog([projects(), issues(), issueNotes(), users()]), baseUrl, over);
}

Deno.test("runOrdered() forwards items in task order whatever the finishing order", async () => {
  const out: string[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const done = runOrdered<string>(
    5,
    async (i, emit) => {
      await emit(`${i}a`);
      await gates[i].promise;
      await emit(`${i}b`);
    },
    (item) => Promise.resolve(void out.push(item)),
    { concurrency: 3, maxBuffered: 1 },
  );
  for (const i of [4, 2, 3, 1, 0]) {
    gates[i].resolve();
    await new Promise((r) => setTimeout(r, 1));
  }
  await done;
  assert.deepEqual(out, ["0a", "0b", "1a", "1b", "2a", "2b", "3a", "3b", "4a", "4b"]);
});

Deno.test("runOrdered() throws the first failure and starts no task after it", async () => {
  const started: number[] = [];
  const err = await runOrdered<number>(
    50,
    async (i, emit) => {
      started.push(i);
      await new Promise((r) => setTimeout(r, 1));
      if (i === 2) throw new Error("task 2 failed");
      await emit(i);
    },
    () => Promise.resolve(),
    { concurrency: 4 },
  ).catch((e) => e);
  assert.equal(err?.message, "task 2 failed");
  assert.ok(started.length < 50, `${started.length} tasks started`);
});

Deno.test("runOrdered() reports a later task's failure, not the abort of the task first in line", async () => {
  // the open task stops at its next emit because a later one failed: the later one's error
  // (an HTTP 401, say) is what the caller must see
  const failedLater = Promise.withResolvers<void>();
  const err = await runOrdered<number>(
    2,
    async (i, emit) => {
      if (i === 1) {
        queueMicrotask(failedLater.resolve);
        throw new Error("boom (HTTP 401)");
      }
      await emit(0);
      await failedLater.promise;
      await emit(1);
    },
    () => Promise.resolve(),
    { concurrency: 2 },
  ).catch((e) => e);
  assert.equal(err?.message, "boom (HTTP 401)");
});

Deno.test("runOrdered() starts a new task whenever one finishes, while the first in line runs long", async () => {
  // concurrency 4, tasks up to 2 x 4 ahead of the open one: tasks 1..8 all start while
  // task 0 (a big project's long page series, say) is still running
  const started: number[] = [];
  const enough = Promise.withResolvers<void>();
  const timeout = setTimeout(() => enough.reject(new Error(`started only ${started}`)), 5000);
  await runOrdered<number>(
    12,
    async (i, emit) => {
      started.push(i);
      if (started.length === 9) enough.resolve();
      if (i === 0) await enough.promise;
      await emit(i);
    },
    () => Promise.resolve(),
    { concurrency: 4 },
  ).finally(() => clearTimeout(timeout));
  assert.deepEqual(started.slice(0, 9).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("Semaphore lets at most its permits through", async () => {
  const slots = new Semaphore(2);
  let inside = 0;
  let max = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    await slots.acquire();
    max = Math.max(max, ++inside);
    await new Promise((r) => setTimeout(r, 1));
    inside--;
    slots.release();
  }));
  assert.equal(max, 2);
});

Deno.test("extract() with concurrency: bounded requests in flight, output identical to a sequential run", async () => {
  await using gitlab = await startFakeGitlab({ latencyMs: 2, jitterMs: 8 });
  const sequential = await run(gitlab.url, { concurrency: 1 });
  const counting = countingFetch();
  const concurrent = await run(gitlab.url, { concurrency: 6, fetch: counting.fetch });
  assert.ok(counting.counter.max > 1, "requests ran concurrently");
  assert.ok(counting.counter.max <= 6, `${counting.counter.max} requests in flight`);
  assert.deepEqual(concurrent.jobs, sequential.jobs);
  assert.deepEqual(concurrent.info.tables, sequential.info.tables);
  assert.deepEqual(concurrent.info.resources, sequential.info.resources);
});

Deno.test("extract() with concurrency and injected 429, 5xx, resets and truncated bodies: same data", async () => {
  await using gitlab = await startFakeGitlab({ latencyMs: 1, jitterMs: 5 });
  const clean = await run(gitlab.url, { concurrency: 1 });
  gitlab.faults.push(
    { kind: "status", status: 429, match: /\/notes$/, times: 3 },
    { kind: "status", status: 503, match: /\/issues$/, times: 2 },
    { kind: "status", status: 500, match: /^\/users$/ },
    { kind: "reset", match: /\/notes$/, times: 2 },
    { kind: "truncate", match: /\/issues$/, mode: "short" },
    { kind: "truncate", match: /\/notes$/, mode: "abort" },
  );
  const faulty = await run(gitlab.url, { concurrency: 8 });
  assert.equal(gitlab.faults.size, 0);
  assert.ok(faulty.info.retries >= 8, String(faulty.info.retries));
  assert.deepEqual(faulty.jobs, clean.jobs);
  assert.deepEqual(faulty.info.tables, clean.info.tables);
});

Deno.test("runOrdered() with spill: tasks behind a slow first one run to the end, output in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const out: string[] = [];
    const finished: number[] = [];
    const others = Promise.withResolvers<void>();
    const done = runOrdered<string>(
      3,
      async (i, emit) => {
        await emit(`${i}:first`);
        // task 0 goes on only when tasks 1 and 2 are done: they must not wait for it
        if (i === 0) await others.promise;
        for (let k = 0; k < 50; k++) await emit(`${i}:${k}\twith a tab`);
        finished.push(i);
        if (finished.length === 2 && i !== 0) others.resolve();
      },
      (item) => Promise.resolve(void out.push(item)),
      {
        concurrency: 3,
        maxBuffered: 4,
        spill: textSpill<string>(dir, (s) => JSON.stringify(s), (t) => JSON.parse(t)),
      },
    );
    const timeout = setTimeout(() => others.reject(new Error("tasks 1 and 2 waited")), 5000);
    await done.finally(() => clearTimeout(timeout));
    // tasks 1 and 2 (in either order: their spill writes race) before task 0
    assert.deepEqual([...finished.slice(0, 2)].sort(), [1, 2]);
    assert.equal(finished[2], 0);
    const expected = [0, 1, 2].flatMap((i) => [
      `${i}:first`,
      ...Array.from({ length: 50 }, (_, k) => `${i}:${k}\twith a tab`),
    ]);
    assert.deepEqual(out, expected);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "spill files are removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() loses no item a task emits while its buffer is being drained", async () => {
  // A task still running when its turn comes emits while the pool drains its buffer; an item
  // emitted between the drain's last look and the task becoming "open" was once left behind
  // (seen as one row missing from a load, now and then). The rounds vary how many microtask
  // ticks the tasks take between items, so that one of them lands in that gap.
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    for (const spill of [undefined, textSpill(dir, String, Number)]) {
      const short: string[] = [];
      for (let round = 0; round < 100; round++) {
        const out: number[] = [];
        await runOrdered<number>(
          3,
          async (i, emit) => {
            for (let k = 0; k < 40; k++) {
              await emit(i * 1000 + k);
              for (let tick = 0; tick < (round % 7) + i; tick++) await null;
            }
          },
          (item) => Promise.resolve(void out.push(item)),
          { concurrency: 3, maxBuffered: 1000, spill },
        );
        const expected = [0, 1, 2].flatMap((i) =>
          Array.from({ length: 40 }, (_, k) => i * 1000 + k)
        );
        if (JSON.stringify(out) !== JSON.stringify(expected)) {
          short.push(`round ${round}: ${out.length}`);
        }
      }
      assert.deepEqual(short, [], `spill: ${spill !== undefined}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() with weights: pages buffered by their records, spilled as lines", async () => {
  // extract emits a page of record lines as one item: buffers and the budget count records,
  // a spilled page comes back line by line, and the records arrive in sequential order
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const budget = new BufferBudget(25);
    const out: number[] = [];
    const spilledFiles = new Set<string>();
    await runOrdered<number[]>(
      4,
      async (i, emit) => {
        for (let page = 0; page < 6; page++) {
          await emit(Array.from({ length: 7 }, (_, k) => i * 100 + page * 7 + k));
          for (const e of Deno.readDirSync(dir)) spilledFiles.add(e.name);
        }
      },
      (page) => Promise.resolve(void out.push(...page)),
      {
        concurrency: 4,
        maxBuffered: 10,
        budget,
        weight: (page) => page.length,
        spill: textSpill<number[]>(
          dir,
          (page) => page.join("\n"),
          (t) => t.split("\n").map(Number),
        ),
      },
    );
    const expected = [0, 1, 2, 3].flatMap((i) => Array.from({ length: 42 }, (_, k) => i * 100 + k));
    assert.deepEqual(out, expected);
    assert.ok(spilledFiles.size > 0, "pages behind the first were spilled");
    assert.equal(budget.used, 0, "every weight given back");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() with spill removes its files when a task fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const gate = Promise.withResolvers<void>();
    const err = await runOrdered<number>(
      3,
      async (i, emit) => {
        if (i === 0) {
          await gate.promise;
          throw new Error("task 0 failed");
        }
        for (let k = 0; k < 20; k++) await emit(k);
        if (i === 2) gate.resolve();
      },
      () => Promise.resolve(),
      {
        concurrency: 3,
        maxBuffered: 2,
        spill: textSpill(dir, String, Number),
      },
    ).catch((e) => e);
    assert.equal(err?.message, "task 0 failed");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Items `<task>:<key>:<n>`: keyed by their middle part ("-": keyless). */
const keyedItem = {
  keyOf: (item: string) => {
    const key = item.split(":")[1];
    return key === "-" ? undefined : key;
  },
};

/** The items of one key (or the keyless ones) in the order they came. */
const ofKey = (items: string[], key: string) => items.filter((x) => x.split(":")[1] === key);

/**
 * 12 tasks, 3 keys, each task may emit two of them and keyless items, with random pauses
 * between items (a seeded generator): the tasks, the keys each may emit, and the items in
 * sequential order.
 */
function randomKeyedTasks(seed: number) {
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const keysOf = (i: number) => new Set(["x", "y", "z"].filter((_, k) => k !== i % 3));
  const itemsOf = (i: number) =>
    Array.from({ length: 12 }, (_, n) => `${i}:${n % 4 === 3 ? "-" : [...keysOf(i)][n % 2]}:${n}`);
  const task = async (i: number, emit: (item: string) => Promise<void>) => {
    for (const item of itemsOf(i)) {
      const pause = Math.floor(random() * 8);
      if (pause === 7) await new Promise((r) => setTimeout(r, 1));
      else for (let t = 0; t < pause; t++) await null;
      await emit(item);
    }
  };
  return { task, keysOf, sequential: Array.from({ length: 12 }, (_, i) => itemsOf(i)).flat() };
}

Deno.test("runOrdered() with keys: an item waits only behind earlier tasks that may emit its key", async () => {
  // tasks 0 and 2 write "a", task 1 and 3 write "b", every task a keyless item: while task 0
  // hangs, task 1's "b" items go through (no task before it writes "b") and task 3's wait for
  // task 1; "a" and keyless items keep task order
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    for (const spill of [undefined, textSpill(dir, String, String)]) {
      const out: string[] = [];
      const gate = Promise.withResolvers<void>();
      const keysOf = (i: number) => new Set([i % 2 === 0 ? "a" : "b"]);
      const done = runOrdered<string>(
        4,
        async (i, emit) => {
          const key = i % 2 === 0 ? "a" : "b";
          if (i === 0) await gate.promise;
          for (let n = 0; n < 5; n++) await emit(`${i}:${key}:${n}`);
          await emit(`${i}:-:0`);
        },
        (item) => Promise.resolve(void out.push(item)),
        { concurrency: 4, maxBuffered: 2, spill, keys: { ...keyedItem, keysOf } },
      );
      for (let t = 0; t < 50 && ofKey(out, "b").length < 10; t++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const label = `spill: ${spill !== undefined}`;
      assert.deepEqual(
        ofKey(out, "b"),
        [1, 3].flatMap((i) => Array.from({ length: 5 }, (_, n) => `${i}:b:${n}`)),
        `${label}: "b" went through in order while task 0 hung`,
      );
      assert.deepEqual(ofKey(out, "a"), [], label);
      gate.resolve();
      await done;
      const sequential = [0, 1, 2, 3].flatMap((i) => [
        ...Array.from({ length: 5 }, (_, n) => `${i}:${i % 2 === 0 ? "a" : "b"}:${n}`),
        `${i}:-:0`,
      ]);
      for (const key of ["a", "b", "-"]) {
        assert.deepEqual(ofKey(out, key), ofKey(sequential, key), `${label}: key ${key}`);
      }
      assert.equal(out.length, sequential.length, label);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "spill files are removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() with keys: every key in task order under random timing, buffers given back", async () => {
  // 12 tasks, 3 keys, each task may emit two of them; random pauses between items: the
  // items of each key arrive exactly in sequential order, with and without spill
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const { task, keysOf, sequential } = randomKeyedTasks(7);
    for (const spill of [undefined, textSpill(dir, String, String)]) {
      for (let round = 0; round < 20; round++) {
        const out: string[] = [];
        const budget = new BufferBudget(6);
        await runOrdered<string>(
          12,
          task,
          (item) => Promise.resolve(void out.push(item)),
          { concurrency: 5, maxBuffered: 3, budget, spill, keys: { ...keyedItem, keysOf } },
        );
        const label = `spill: ${spill !== undefined}, round ${round}`;
        for (const key of ["x", "y", "z", "-"]) {
          assert.deepEqual(ofKey(out, key), ofKey(sequential, key), `${label}: key ${key}`);
        }
        assert.equal(budget.used, 0, label);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() with keys: a failing emit of a keyed item fails the pool and removes its spill files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const err = await runOrdered<string>(
      4,
      async (i, emit) => {
        for (let n = 0; n < 10; n++) await emit(`${i}:${i % 2 ? "b" : "a"}:${n}`);
      },
      (item) => item === "3:b:5" ? Promise.reject(new Error("disk full")) : Promise.resolve(),
      {
        concurrency: 4,
        maxBuffered: 2,
        spill: textSpill(dir, String, String),
        keys: { ...keyedItem, keysOf: (i) => new Set([i % 2 ? "b" : "a"]) },
      },
    ).catch((e) => e);
    assert.equal(err?.message, "disk full");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() with keys: an abort from another pool after every task started fails it, nothing left behind", async () => {
  // the lanes stop at the abort: the pool must not resolve as if every item had been passed on
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    for (const spill of [undefined, textSpill(dir, String, String)]) {
      const abort = new AbortController();
      const budget = new BufferBudget(100);
      const out: string[] = [];
      const timer = setTimeout(() => abort.abort(), 20);
      const result = await runOrdered<string>(
        2,
        async (i, emit) => {
          await emit(`${i}:a:0`);
          if (i === 0) await new Promise((r) => setTimeout(r, 50));
        },
        (item) => Promise.resolve(void out.push(item)),
        {
          concurrency: 2,
          abort,
          budget,
          spill,
          maxBuffered: spill ? 1 : 10,
          keys: { ...keyedItem, keysOf: () => new Set(["a"]) },
        },
      ).then(() => "resolved", (e) => e);
      clearTimeout(timer);
      const label = `spill: ${spill !== undefined}`;
      assert.ok(result instanceof PoolAborted, `${label}: ${result} (out: ${out})`);
      assert.equal(budget.used, 0, label);
      assert.deepEqual([...Deno.readDirSync(dir)], [], label);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() nested: a task's failure is reported, not the stop it caused upstream", async () => {
  // the inner pool's drain meets the outer pool's PoolAborted while its own task 2 has failed:
  // the failure is what the caller sees
  const abort = new AbortController();
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const err = await runOrdered<string>(
    1,
    (_o, outerEmit) =>
      runOrdered<string>(
        3,
        async (i, emit) => {
          if (i === 0) await sleep(2);
          else if (i === 1) {
            await emit("a");
            await emit("b");
          } else {
            await sleep(5);
            throw new Error("boom");
          }
        },
        outerEmit,
        { concurrency: 3, abort },
      ),
    () => sleep(20),
    { concurrency: 2, abort },
  ).catch((e) => e);
  assert.equal(err?.message, "boom");
});

/**
 * A package's job files' text per table (files in name order, as normalize reads them), and
 * which files it lists as plain JSON (by table and position).
 */
async function jobFiles(dir: string) {
  const names = [...Deno.readDirSync(join(dir, "new_jobs"))].map((e) => e.name).sort();
  const text: Record<string, string> = {};
  for (const f of names) {
    const table = f.split(".")[0];
    text[table] = (text[table] ?? "") + await Deno.readTextFile(join(dir, "new_jobs", f));
  }
  const listed = new Set<string>(
    JSON.parse(await Deno.readTextFile(join(dir, PLAIN_JSON_FILE)).catch(() => "[]")),
  );
  return { text, plain: names.map((f, i) => `${f.split(".")[0]}#${i}:${listed.has(f)}`) };
}

/** Every issue of each project, `perPage` a page. */
const projectIssues = (perPage: number) => ({
  method: "GET" as const,
  path: "projects/{resources.projects.id}/issues",
  params: { per_page: perPage, scope: "all" },
});

Deno.test("extract(): a slow page of the first project does not hold the other projects' pages", async () => {
  await using gitlab = await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 3, issuesPerProject: 400 },
  });
  const endpoint = projectIssues(50);
  // issues take the project id (record lines); issue_pages are the pages as received
  const cat = catalog([
    projects(),
    issues({ endpoint }),
    resource("issue_pages", { paginator: GITLAB, parent: "projects", endpoint }),
  ]);
  const sequential = await extractInto(cat, gitlab.url, { concurrency: 1 }, jobFiles);
  const firstProject =
    (JSON.parse(sequential.read.text.projects.split("\n")[0]) as { id: number }[])
      .flat()[0].id;
  // page 2 of the first project's issues answers only when every other issue page has been
  // answered (or after 10 s): with the old in-memory backpressure the others stopped after
  // 200 buffered records and waited for it; now they go through the spill files
  const slowPage = new RegExp(`/projects/${firstProject}/issues\\?.*\\bpage=2\\b`);
  const otherPages = (url: string) => /\/issues\?/.test(url) && !url.includes(`/${firstProject}/`);
  const others = Promise.withResolvers<"released">();
  let otherAnswered = 0;
  const gated: typeof fetch = async (input, init) => {
    const url = String(input);
    if (slowPage.test(url)) {
      await Promise.race([others.promise, new Promise((r) => setTimeout(r, 10_000))]);
      const released = await Promise.race([others.promise, Promise.resolve("timeout")]);
      if (released !== "released") throw new Error("the other projects' pages waited");
    }
    const response = await fetch(input, init);
    // 2 resources x 2 projects x 400 issues / 50 per page
    if (otherPages(url) && ++otherAnswered === 32) others.resolve("released");
    return response;
  };
  const concurrent = await extractInto(cat, gitlab.url, { concurrency: 4, fetch: gated }, jobFiles);
  assert.equal(otherAnswered, 32);
  // the same bytes in the same files, whether a page went through a spill file or not
  assert.deepEqual(concurrent.read, sequential.read);
  assert.deepEqual(concurrent.info.tables, sequential.info.tables);
  assert.ok(sequential.read.text.issue_pages.startsWith("["), "issue_pages: pages as received");
  assert.ok(sequential.read.text.issues.startsWith("{"), "issues: record lines");
});

Deno.test("extract(): a project's pages spilled behind another become the table's next file as they are", async () => {
  // 3 projects x 1,000 issues (~2 MB of pages each); the first project's page 2 answers only
  // once the others are spilled, so their pages wait in spill files of the table's lines, which
  // (1 MiB or more) are renamed into the package instead of read back and written again
  await using gitlab = await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 3, issuesPerProject: 1000 },
  });
  const big = "1152921504606847000";
  const endpoint = projectIssues(100);
  const cat = catalog([
    projects(),
    resource("issue_pages", { paginator: GITLAB, parent: "projects", endpoint }),
  ]);
  const files = async (dir: string) => {
    const { text } = await jobFiles(dir);
    const names = [...Deno.readDirSync(join(dir, "new_jobs"))].map((e) => e.name).sort()
      .filter((f) => f.startsWith("issue_pages."));
    const plain = new Set<string>(
      JSON.parse(await Deno.readTextFile(join(dir, PLAIN_JSON_FILE))),
    );
    const holds = (f: string) => Deno.readTextFileSync(join(dir, "new_jobs", f)).includes(big);
    return { text, files: names.map((f) => ({ plain: plain.has(f), big: holds(f) })) };
  };
  // the projects in the order the catalog reads them
  const order = (await extractInto(cat, gitlab.url, { concurrency: 1 }, jobFiles)).read.text
    .projects.split("\n").filter(Boolean).flatMap((l) => JSON.parse(l) as { id: number }[])
    .map((p) => p.id);
  assert.equal(order.length, 3);
  const [first, second] = order;
  // a number plain JSON.parse would change (2^60), in a page of the second project: the file
  // holding it is not listed as plain JSON
  gitlab.setData((d) => void (d.issues.get(second)![150].weight = Number(big)));
  const sequential = await extractInto(cat, gitlab.url, { concurrency: 1 }, files);
  assert.deepEqual(sequential.read.files, [{ plain: false, big: true }], "one file");

  const dir = await packageDir();
  try {
    /** Bytes in the spill files now. */
    const spilled = () => {
      let n = 0;
      for (const e of Deno.readDirSync(join(dir, "spill"))) {
        n += Deno.statSync(join(dir, "spill", e.name)).size;
      }
      return n;
    };
    const gated: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.includes(`/projects/${first}/issues?`) && /\bpage=2\b/.test(url)) {
        // both other projects' pages (2 x ~1.97 MB) in spill files, or 10 s
        for (let t = 0; t < 1000 && spilled() < 3_800_000; t++) {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      return await fetch(input, init);
    };
    const info = await extract(cat, {
      source: source({ api_key: TOKEN }),
      baseUrl: gitlab.url,
      packageDir: dir,
      sleep: noSleep,
      concurrency: 8,
      fetch: gated,
    });
    const concurrent = await files(dir);
    // the same lines in the same order: the two others' pages are files of their own
    assert.deepEqual(concurrent.text, sequential.read.text);
    assert.deepEqual(info.tables, sequential.info.tables);
    assert.equal(concurrent.files.length, 3, JSON.stringify(concurrent.files));
    // exactly the file holding the big number is not plain
    assert.deepEqual(concurrent.files, [
      { plain: true, big: false },
      { plain: false, big: true },
      { plain: true, big: false },
    ]);
    assert.equal(await Deno.stat(join(dir, "spill")).catch(() => null), null, "spill removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extract(): the first failing series stops the others at their next page", async () => {
  // parent 1's kids fail; parent 2's kids run 30 pages whose grandchildren are empty, so that
  // series never emits (the pools' other stop): it must stop soon, not fetch to the end
  const kidPages: number[] = [];
  const server = startServer(async (_req, url) => {
    await new Promise((r) => setTimeout(r, 3));
    const page = Number(url.searchParams.get("page") ?? 1);
    if (url.pathname === "/parents") return json([{ id: 1 }, { id: 2 }]);
    if (url.pathname === "/parents/1/kids") return new Response("boom", { status: 500 });
    if (url.pathname === "/parents/2/kids") {
      kidPages.push(page);
      const link = page < 30
        ? `<${server.origin}/parents/2/kids?page=${page + 1}>; rel="next"`
        : "";
      return json([{ id: 100 + page }], { headers: link ? { link } : {} });
    }
    return json([]); // grandchildren
  });
  try {
    const cat = catalog([
      resource("parents", { selected: false }),
      resource("kids", {
        parent: "parents",
        selected: false,
        paginator: { type: "header_link" },
        endpoint: { method: "GET", path: "parents/{resources.parents.id}/kids" },
      }),
      resource("grand", {
        parent: "kids",
        endpoint: { method: "GET", path: "kids/{resources.kids.id}/grand" },
      }),
    ]);
    const err = await runExtract(cat, server.origin, {
      concurrency: 4,
      http: { maxAttempts: 1 },
    }).catch((e) => e);
    assert.ok(err instanceof HttpError, String(err));
    assert.match(err.message, /parents\/1\/kids/);
    assert.ok(kidPages.length < 10, `parent 2's kids went on for ${kidPages.length} pages`);
  } finally {
    await server.close();
  }
});

Deno.test("runOrdered() spills bytes as they are: items larger than a read, empty, split anywhere", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    // sizes around the 256 KiB read and the 4-byte length (a length split across two reads)
    const sizes = [0, 1, 3, 262_139, 262_140, 262_144, 300_000, 5, 1_000_000, 2];
    const item = (task: number, k: number) => {
      const bytes = new Uint8Array(sizes[k]);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (j * 31 + task * 7 + k) & 0xff;
      return bytes;
    };
    const out: Uint8Array[] = [];
    const gate = Promise.withResolvers<void>();
    const spilled = new Set<string>();
    await runOrdered<Uint8Array>(
      3,
      async (i, emit) => {
        if (i === 0) await gate.promise;
        for (let k = 0; k < sizes.length; k++) await emit(item(i, k));
        for (const e of Deno.readDirSync(dir)) spilled.add(e.name);
        if (i === 2) gate.resolve();
      },
      (bytes) => Promise.resolve(void out.push(bytes)),
      {
        concurrency: 3,
        maxBuffered: 1,
        spill: { dir, encode: (b) => [b.subarray(0, 2), b.subarray(2)], decode: (b) => b },
      },
    );
    assert.ok(spilled.size > 0, "tasks 1 and 2 spilled while task 0 waited");
    const expected = [0, 1, 2].flatMap((i) => sizes.map((_, k) => item(i, k)));
    assert.equal(out.length, expected.length);
    for (const [n, bytes] of out.entries()) assert.deepEqual(bytes, expected[n], `item ${n}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Items `<task>:<key>:<n>`, or a whole spill file of such lines; a whole spill writes a keyed
 * lane's items as lines and hands a drained file on as `{ file, count }`.
 */
type Piece = string | { file: string; count: number };
const wholeSpill = (dir: string, handed: string[], respilled = { n: 0 }): Spill<Piece> => ({
  ...textSpill<Piece>(dir, (p) => typeof p === "string" ? p : "?", (t) => t),
  whole: {
    bytes: (p) => {
      if (typeof p === "string") return [new TextEncoder().encode(`${p}\n`)];
      // a file handed on by a pool below, spilled again here: its lines, and it is gone
      respilled.n++;
      const bytes = Deno.readFileSync(p.file);
      Deno.removeSync(p.file);
      return [bytes];
    },
    add: (summary, p) => ({
      file: "",
      count: (typeof summary === "object" ? summary.count : 0) +
        (typeof p === "string" ? 1 : p.count),
    }),
    file: (summary, path, size) => {
      handed.push(`${(summary as { count: number }).count}@${size}`);
      return { file: path, count: (summary as { count: number }).count };
    },
  },
});

/** The items of pieces, whole files read (and removed) in place. */
function unpack(pieces: Piece[]): string[] {
  return pieces.flatMap((p) => {
    if (typeof p === "string") return [p];
    const lines = Deno.readTextFileSync(p.file).split("\n").slice(0, -1);
    Deno.removeSync(p.file);
    assert.equal(lines.length, p.count, "a whole file holds the items it says");
    return lines;
  });
}

Deno.test("runOrdered() with a whole spill: a keyed lane's spill file is handed on as one item, in order", async () => {
  // 12 tasks, 3 keys and keyless items, random pauses: keyed items behind a running task go
  // to a file of their lines that comes out as one piece; keyless ones come back one by one
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const { task, keysOf, sequential } = randomKeyedTasks(11);
    let files = 0;
    for (let round = 0; round < 20; round++) {
      const pieces: Piece[] = [];
      const handed: string[] = [];
      const budget = new BufferBudget(6);
      await runOrdered<Piece>(
        12,
        task,
        (p) => Promise.resolve(void pieces.push(p)),
        {
          concurrency: 5,
          maxBuffered: 3,
          budget,
          spill: wholeSpill(dir, handed),
          keys: {
            keyOf: (p) => typeof p === "string" ? keyedItem.keyOf(p) : undefined,
            keysOf,
          },
        },
      );
      files += pieces.filter((p) => typeof p === "object").length;
      assert.equal(handed.length, pieces.filter((p) => typeof p === "object").length);
      const out = unpack(pieces);
      for (const key of ["x", "y", "z", "-"]) {
        assert.deepEqual(ofKey(out, key), ofKey(sequential, key), `round ${round}: key ${key}`);
      }
      assert.equal(out.length, sequential.length);
      assert.equal(budget.used, 0);
      assert.deepEqual([...Deno.readDirSync(dir)], [], "keyless spill files removed");
    }
    assert.ok(files > 20, `keyed items went through whole files (${files})`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runOrdered() with a whole spill, nested: a file handed on to a pool that spills it again", async () => {
  // the outer pool's task 1 runs an inner pool whose task 1 spills whole files behind its task
  // 0; the outer task 1 is itself behind the outer task 0, held until the inner pool is done, so
  // the inner pool's file lands in the outer pool's buffer and its own whole spill file
  const dir = await Deno.makeTempDir({ prefix: "gitlab-pg-spill-" });
  try {
    const handed: string[] = [];
    const respilled = { n: 0 };
    const spill = wholeSpill(dir, handed, respilled);
    const options = {
      concurrency: 2,
      maxBuffered: 2,
      spill,
      keys: { keyOf: (_: Piece) => "k", keysOf: () => new Set(["k"]) },
    };
    const innerSpilled = Promise.withResolvers<void>();
    const innerDone = Promise.withResolvers<void>();
    const pieces: Piece[] = [];
    await runOrdered<Piece>(
      2,
      async (i, emit) => {
        if (i === 0) {
          await innerDone.promise;
          for (let n = 0; n < 3; n++) await emit(`0:k:${n}`);
          return;
        }
        try {
          await runOrdered<Piece>(
            2,
            async (j, inner) => {
              if (j === 0) await innerSpilled.promise;
              try {
                for (let n = 0; n < 7; n++) await inner(`1.${j}:k:${n}`);
              } finally {
                if (j === 1) innerSpilled.resolve();
              }
            },
            emit,
            options,
          );
        } finally {
          innerDone.resolve(); // also on a failure: task 0 must not wait forever
        }
      },
      (p) => Promise.resolve(void pieces.push(p)),
      options,
    );
    const expected = [
      ...Array.from({ length: 3 }, (_, n) => `0:k:${n}`),
      ...Array.from({ length: 7 }, (_, n) => `1.0:k:${n}`),
      ...Array.from({ length: 7 }, (_, n) => `1.1:k:${n}`),
    ];
    assert.deepEqual(unpack(pieces), expected);
    assert.ok(handed.length >= 2, `files handed on by both pools: ${handed}`);
    assert.ok(respilled.n >= 1, "an inner pool's file was spilled again by the outer pool");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
