/**
 * `deno task bench`: full loads (main.ts as a subprocess) from the fake GitLab into Postgres
 * and PGlite, printing rows/s, requests/s, wall time, the rate-limit floor, peak memory and the
 * raw COPY rate of the same rows. Figures are printed, never asserted.
 *
 * Flags: --scale N (data size, default 2), --latency MS (default 50), --jitter MS (default 10),
 * --rpm N (rate limit, default 600), --window-ms MS (rate-limit window, default 10000),
 * --concurrency N (default: the CLI's), --bulk N (records per project and resource in the
 * full-page COPY scenario, default 3000), --repeat N (full-page COPY runs, default 1: wall times
 * on a VM with steal time vary by ±30%, so several runs print their median and range), --only a,b
 * (scenarios: latency, ratelimit, copy, memory, pglite).
 *
 * The CLI runs with the V8 flags of the `start` task (as the compiled binary does).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { type FakeGitlab, startFakeGitlab } from "../fake_gitlab/mod.ts";
import type { FakeSizes } from "../fake_gitlab/data.ts";
import { MAIN } from "../helpers/cli.ts";
import { connectPostgres } from "../../lib/destinations/postgres/client.ts";
import { openCopyJob } from "../../lib/load/job_file.ts";
import {
  makeTemplate,
  readTemplate,
  TEMPLATE_URL,
} from "../../lib/destinations/pglite/template.ts";
import { dropDataset, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string", default: "2" },
    latency: { type: "string", default: "50" },
    jitter: { type: "string", default: "10" },
    rpm: { type: "string", default: "600" },
    "window-ms": { type: "string", default: "10000" },
    concurrency: { type: "string" },
    bulk: { type: "string", default: "3000" },
    repeat: { type: "string", default: "1" },
    only: { type: "string" },
  },
});
const scale = Number(values.scale);
const only = new Set((values.only ?? "latency,ratelimit,copy,memory,pglite").split(","));

/** The V8 flags of deno.json's `start` task, which `compile` bakes into the binary too. */
const V8_FLAGS = (() => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)));
  return (config.tasks.start as string).match(/--v8-flags=\S+/)?.[0];
})();

/** The fake's size at a scale: more projects (each with all its children). */
function sizeAt(n: number): Partial<FakeSizes> {
  return { groups: 2, subgroupsPerGroup: 1, projectsPerGroup: 2 * n, issuesPerProject: 20 };
}

/** 4 projects with `n` issues, merge requests and commits each: full 100-record pages. */
function bulkSize(n: number): Partial<FakeSizes> {
  return {
    groups: 1,
    subgroupsPerGroup: 0,
    projectsPerGroup: 4,
    issuesPerProject: n,
    mergeRequestsPerProject: n,
    commitsPerProject: n,
  };
}

interface RunResult {
  wallMs: number;
  requests: number;
  status429: number;
  rows: number;
  peakKb: number;
  code: number;
  stderr: string;
  dataset: string;
  tables: Record<string, number>;
  /** The pipelines dir of the run (kept with `keep`). */
  pipelinesDir: string;
}

/** `/usr/bin/time -f` prints the child's peak RSS (max resident set, kB) on stderr. */
const TIME = "/usr/bin/time";
const PEAK_MARK = "BENCH_PEAK_RSS_KB=";

async function runLoad(
  gitlab: FakeGitlab,
  options: {
    concurrency?: number;
    destination: "postgres" | "pglite";
    keep?: boolean;
    resources?: string;
    /** Extra environment of the CLI (e.g. NORMALIZE__WORKERS). */
    env?: Record<string, string>;
  },
): Promise<RunResult> {
  const cwd = await Deno.makeTempDir({ prefix: "gitlab_pg_bench_" });
  const dataset = uniqueDataset("bench");
  const groups = gitlab.data.groups.filter((g) => g.parent_id === null).map((g) => g.full_path);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!/^(SOURCES__|DESTINATION|DATASET_NAME|PIPELINE|NORMALIZE__|LOAD__|PG[A-Z]+$)/.test(k)) {
      env[k] = v;
    }
  }
  Object.assign(env, {
    NO_COLOR: "1",
    SOURCES__GITLAB__BASE_URL: gitlab.url,
    SOURCES__GITLAB__API_KEY: "glpat-test",
    SOURCES__GITLAB__GROUPS: JSON.stringify(groups),
    DATASET_NAME: dataset,
    PIPELINES_DIR: join(cwd, "pipelines"),
  });
  Object.assign(env, options.env);
  if (options.destination === "postgres") env.DESTINATION__POSTGRES__CREDENTIALS = TEST_PG_URL;
  else env.DESTINATION_TYPE = "pglite";
  const args = ["run", "-A", "--quiet", ...(V8_FLAGS ? [V8_FLAGS] : []), MAIN, "run"];
  args.push("--json", "--progress", "none");
  if (options.resources) args.push("--resources", options.resources);
  const c = options.concurrency ?? (values.concurrency ? Number(values.concurrency) : undefined);
  if (c !== undefined) args.push("--concurrency", String(c));
  const before = gitlab.requests.length;
  const started = performance.now();
  const child = new Deno.Command(TIME, {
    args: ["-f", `${PEAK_MARK}%M`, Deno.execPath(), ...args],
    cwd,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await child.output();
  const wallMs = performance.now() - started;
  const reqs = gitlab.requests.slice(before);
  const stdout = new TextDecoder().decode(out.stdout);
  let stderr = new TextDecoder().decode(out.stderr);
  const mark = stderr.lastIndexOf(PEAK_MARK);
  const peakKb = mark < 0 ? 0 : Number(stderr.slice(mark + PEAK_MARK.length).trim());
  if (mark >= 0) stderr = stderr.slice(0, mark);
  let tables: Record<string, number> = {};
  try {
    const info = JSON.parse(stdout);
    for (const p of info.load_packages ?? []) {
      for (const [t, n] of Object.entries(p.rows ?? {})) {
        tables[t] = (tables[t] ?? 0) + (n as number);
      }
    }
  } catch {
    tables = {};
  }
  if (!options.keep) await Deno.remove(cwd, { recursive: true }).catch(() => {});
  if (options.destination === "postgres" && !options.keep) await dropDataset(dataset);
  return {
    wallMs,
    requests: reqs.length,
    status429: reqs.filter((r) => r.status === 429).length,
    rows: Object.values(tables).reduce((a, b) => a + b, 0),
    peakKb,
    code: out.code,
    stderr,
    dataset,
    tables,
    pipelinesDir: join(cwd, "pipelines"),
  };
}

/**
 * Raw COPY of the same rows: the load's own COPY job files (in `load/loaded/<id>/new_jobs/`)
 * streamed with plain `COPY … FROM STDIN` into empty tables shaped like the loaded ones, timed:
 * `temp` into TEMP tables (no WAL), `logged` into regular tables in a scratch schema (columns
 * only), `indexed` into regular tables with the loaded tables' constraints too (`LIKE …
 * INCLUDING ALL`: dlt's UNIQUE `_dlt_id`), the very kind of table the load writes.
 */
async function rawCopyRate(
  dataset: string,
  pipelinesDir: string,
  kind: "temp" | "logged" | "indexed",
): Promise<{ rows: number; ms: number }> {
  const client = await connectPostgres(TEST_PG_URL);
  const files: string[] = [];
  const loaded = join(pipelinesDir, "gitlab_pipeline", "load", "loaded");
  for await (const pkg of Deno.readDir(loaded)) {
    for await (const f of Deno.readDir(join(loaded, pkg.name, "new_jobs"))) {
      if (f.name.endsWith(".copy")) files.push(join(loaded, pkg.name, "new_jobs", f.name));
    }
  }
  const scratch = `${dataset}_rawcopy`;
  try {
    return await client.transaction(async (tx) => {
      let rows = 0;
      let ms = 0;
      const created = new Set<string>();
      if (kind !== "temp") await tx.exec(`CREATE SCHEMA "${scratch}"`);
      const target = (table: string) =>
        kind === "temp" ? `"copy_${table}"` : `"${scratch}"."${table}"`;
      for (const path of files) {
        const job = await openCopyJob(path);
        if (!created.has(job.table)) {
          await tx.exec(
            `CREATE ${kind === "temp" ? "TEMP " : ""}TABLE ${
              target(job.table)
            } (LIKE "${dataset}"."${job.table}"${kind === "indexed" ? " INCLUDING ALL" : ""})`,
          );
          created.add(job.table);
        }
        rows += (await Deno.readTextFile(path)).split("\n").filter(Boolean).length - 1;
        const cols = job.columns.map((c) => `"${c}"`).join(",");
        const started = performance.now();
        await tx.copyFrom(`COPY ${target(job.table)} (${cols}) FROM STDIN`, job.rows());
        ms += performance.now() - started;
      }
      if (kind !== "temp") await tx.exec(`DROP SCHEMA "${scratch}" CASCADE`);
      return { rows, ms };
    });
  } finally {
    await client.close();
  }
}

/** Seconds of each step of the run, from its trace. */
async function stepSeconds(pipelinesDir: string): Promise<string> {
  try {
    const trace = JSON.parse(
      await Deno.readTextFile(join(pipelinesDir, "gitlab_pipeline", "trace.json")),
    );
    return (trace.steps as { step: string; duration_seconds: number }[])
      .map((s) => `${s.step} ${s.duration_seconds.toFixed(2)} s`).join(", ");
  } catch {
    return "no trace";
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** "same rows" when both runs loaded the same rows per table, else the tables that differ. */
function sameRows(a: RunResult, b: RunResult): string {
  const diff = [...new Set([...Object.keys(a.tables), ...Object.keys(b.tables)])]
    .filter((t) => a.tables[t] !== b.tables[t])
    .map((t) => `${t} ${a.tables[t] ?? 0} vs ${b.tables[t] ?? 0}`);
  return diff.length === 0 ? "same rows per table" : `ROWS DIFFER: ${diff.join(", ")}`;
}
const line = (label: string, r: RunResult) =>
  console.log(
    `  ${label.padEnd(28)} wall ${fmt(r.wallMs / 1000, 2)} s, ${r.requests} requests (${
      fmt(r.requests / (r.wallMs / 1000))
    }/s), ${r.rows} rows (${fmt(r.rows / (r.wallMs / 1000), 0)}/s), 429s ${r.status429}, peak RSS ${
      fmt(r.peakKb / 1024)
    } MB${r.code === 0 ? "" : `, EXIT ${r.code}: ${r.stderr.slice(0, 400)}`}`,
  );

/** One project with `n` records of one resource at `latency`: concurrency 1, then the default. */
async function oneProject(resource: "issues" | "commits", n: number, latency: number) {
  await using gitlab = await startFakeGitlab({
    size: {
      ...bulkSize(n),
      projectsPerGroup: 1,
      issuesPerProject: resource === "issues" ? n : 0,
      mergeRequestsPerProject: 0,
      commitsPerProject: resource === "commits" ? n : 0,
    },
    latencyMs: latency,
    jitterMs: Number(values.jitter),
  });
  const seq = await runLoad(gitlab, {
    concurrency: 1,
    destination: "postgres",
    resources: resource,
  });
  line(`1 project x ${n} ${resource}, c. 1`, seq);
  const many = await runLoad(gitlab, { destination: "postgres", resources: resource });
  line(`same, conc. default`, many);
  return { seq, many };
}

console.log(
  `gitlab-pg bench: scale ${scale}, ${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);

if (only.has("latency")) {
  const latency = Number(values.latency);
  await using gitlab = await startFakeGitlab({
    size: sizeAt(scale),
    latencyMs: latency,
    jitterMs: Number(values.jitter),
  });
  console.log(
    `\n1. Latency ${latency} ms (+ up to ${values.jitter} ms jitter) per request, Postgres`,
  );
  const one = await runLoad(gitlab, { concurrency: 1, destination: "postgres" });
  line("concurrency 1", one);
  const many = await runLoad(gitlab, { destination: "postgres" });
  line(`concurrency ${values.concurrency ?? "default (16)"}`, many);
  const speedup = (many.requests / many.wallMs) / (one.requests / one.wallMs);
  console.log(
    `  requests/s ratio: ${fmt(speedup, 2)}x (target >= 8x); ${sameRows(one, many)}`,
  );
  // big projects: long page series per project, where concurrency must not stall behind the
  // first series in line
  const n = Math.round(Number(values.bulk) / 3);
  await using bulk = await startFakeGitlab({
    size: bulkSize(n),
    latencyMs: latency,
    jitterMs: Number(values.jitter),
  });
  const resources = "issues,merge_requests,commits";
  const bulkOne = await runLoad(bulk, { concurrency: 1, destination: "postgres", resources });
  line(`full pages 4 x ${n}, conc. 1`, bulkOne);
  const bulkMany = await runLoad(bulk, { destination: "postgres", resources });
  line(`full pages, conc. default`, bulkMany);
  console.log(
    `  requests/s ratio: ${
      fmt((bulkMany.requests / bulkMany.wallMs) / (bulkOne.requests / bulkOne.wallMs), 2)
    }x; ${sameRows(bulkOne, bulkMany)}`,
  );
  // one big project: a single long series, whose pages 2..last go out ahead of time
  const big = Number(values.bulk);
  const issues = await oneProject("issues", big, latency);
  console.log(
    `  requests/s ratio: ${
      fmt(
        (issues.many.requests / issues.many.wallMs) / (issues.seq.requests / issues.seq.wallMs),
        2,
      )
    }x; ${sameRows(issues.seq, issues.many)}`,
  );
  // one big repository: commits tell no page count, so pages past the next are guesses
  const commits = await oneProject("commits", big, latency);
  console.log(
    `  wall ratio: ${fmt(commits.seq.wallMs / commits.many.wallMs, 2)}x, ${
      commits.many.requests - commits.seq.requests
    } requests for pages past the end; ${sameRows(commits.seq, commits.many)}`,
  );
  // a package over 32 MiB: a worker normalizes it while it is extracted, or (off) after
  await using large = await startFakeGitlab({
    size: bulkSize(big),
    latencyMs: latency,
    jitterMs: Number(values.jitter),
  });
  const following = await runLoad(large, { destination: "postgres", resources });
  line(`full pages 4 x ${big}, conc. default`, following);
  const after = await runLoad(large, {
    destination: "postgres",
    resources,
    env: { GITLAB_PG_TEST_FOLLOW_MIN_BYTES: "999999999999" },
  });
  line(`same, normalized after extract`, after);
  console.log(
    `  wall normalizing while extracting ÷ after: ${fmt(following.wallMs / after.wallMs, 2)}; ${
      sameRows(following, after)
    }`,
  );
}

if (only.has("ratelimit")) {
  const rpm = Number(values.rpm);
  const windowMs = Number(values["window-ms"]);
  const perWindow = Math.round((rpm * windowMs) / 60_000);
  await using gitlab = await startFakeGitlab({
    size: sizeAt(Math.max(1, Math.round(scale / 2))),
    latencyMs: 20,
    rateLimit: { requestsPerMinute: perWindow, windowMs },
  });
  console.log(
    `\n2. Rate limit ${rpm}/min (${perWindow} per ${
      windowMs / 1000
    } s window, RateLimit-* headers), 20 ms latency, Postgres`,
  );
  const r = await runLoad(gitlab, { destination: "postgres" });
  line("default concurrency", r);
  const ok = r.requests - r.status429;
  const floorMs = (ok / rpm) * 60_000;
  console.log(
    `  floor ${fmt(floorMs / 1000, 2)} s (${ok} requests / ${rpm} per min); wall / floor = ${
      fmt(r.wallMs / floorMs, 3)
    } (target <= 1.10); 429 responses: ${r.status429}`,
  );
}

/** A run of {@linkcode copyComparison}: the load, and loaded rows/s ÷ raw COPY rows/s by kind. */
interface Comparison {
  run: RunResult;
  ratios: Partial<Record<"temp" | "logged" | "indexed", number>>;
}

/** A full load kept on disk, then the raw COPY of its own job files, both printed. */
async function copyComparison(
  label: string,
  gitlab: FakeGitlab,
  resources?: string,
  env?: Record<string, string>,
): Promise<Comparison> {
  const r = await runLoad(gitlab, { destination: "postgres", keep: true, resources, env });
  line(label, r);
  const ratios: Comparison["ratios"] = {};
  try {
    console.log(`  steps: ${await stepSeconds(r.pipelinesDir)}`);
    const loadRate = r.rows / (r.wallMs / 1000);
    const what = {
      temp: "TEMP tables",
      logged: "regular tables",
      indexed: "tables with the load's UNIQUE",
    };
    for (const kind of ["temp", "logged", "indexed"] as const) {
      const copy = await rawCopyRate(r.dataset, r.pipelinesDir, kind);
      const copyRate = copy.rows / (copy.ms / 1000);
      ratios[kind] = copyRate / loadRate;
      console.log(
        `  raw COPY into ${what[kind]}: ${copy.rows} rows in ${fmt(copy.ms, 0)} ms = ${
          fmt(copyRate, 0)
        } rows/s; loaded rows/s ÷ that = 1/${fmt(copyRate / loadRate, 1)} (target: within 3x)`,
      );
    }
  } finally {
    await dropDataset(r.dataset);
    await Deno.remove(join(r.pipelinesDir, ".."), { recursive: true }).catch(() => {});
  }
  return { run: r, ratios };
}

/** The median of `xs` (the mean of the middle two for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `median (min–max)` of `xs`, formatted. */
function spread(xs: number[], digits: number): string {
  const range = xs.length > 1
    ? ` (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`
    : "";
  return `${fmt(median(xs), digits)}${range}`;
}

/**
 * A first load, not printed, that fills the fake's reply cache: a real GitLab's CPU is not on
 * this machine, the fake's (~0.8 s per full-page run on these 2 cores) would be.
 */
async function warmUp(gitlab: FakeGitlab, resources?: string): Promise<void> {
  await runLoad(gitlab, { destination: "postgres", resources });
}

if (only.has("copy")) {
  console.log(`\n3. Zero latency, Postgres, vs raw COPY of the same rows`);
  {
    // GitLab's shape: every table, many small child lists (about 5 rows per request)
    await using gitlab = await startFakeGitlab({ size: sizeAt(scale), cacheReplies: true });
    await warmUp(gitlab);
    await copyComparison("all 21 resources", gitlab);
  }
  {
    // full 100-record pages: what the non-network path (parse, normalize, COPY) can do
    const n = Number(values.bulk);
    await using gitlab = await startFakeGitlab({ size: bulkSize(n), cacheReplies: true });
    const resources = "issues,merge_requests,commits";
    await warmUp(gitlab, resources);
    const repeat = Math.max(1, Number(values.repeat));
    const runs: Comparison[] = [];
    for (let i = 0; i < repeat; i++) {
      const label = `full pages (4 x ${n} each)${repeat > 1 ? ` #${i + 1}` : ""}`;
      runs.push(await copyComparison(label, gitlab, resources));
    }
    if (repeat > 1) {
      const of = (kind: "temp" | "logged" | "indexed") =>
        `1/${spread(runs.map((c) => c.ratios[kind] ?? NaN), 1)}`;
      console.log(
        `  ${repeat} runs, median (range): wall ${
          spread(runs.map((c) => c.run.wallMs / 1000), 2)
        } s; loaded rows/s ÷ raw COPY: TEMP ${of("temp")}, regular ${of("logged")}, with UNIQUE ${
          of("indexed")
        }`,
      );
    }
    const b = await copyComparison(`same, normalize.workers = 2`, gitlab, resources, {
      NORMALIZE__WORKERS: "2",
    });
    console.log(`  the two runs: ${sameRows(runs[0].run, b.run)}`);
    const c = await copyComparison(`same, load.workers = 1`, gitlab, resources, {
      LOAD__WORKERS: "1",
    });
    console.log(`  the two runs: ${sameRows(runs[0].run, c.run)}`);
  }
}

if (only.has("pglite")) {
  await using gitlab = await startFakeGitlab({ size: sizeAt(scale), cacheReplies: true });
  await warmUp(gitlab);
  console.log(`\n4. Zero latency, PGlite (embedded)`);
  // the binary embeds the template of a new database (`deno task compile` makes it first)
  if (!await readTemplate()) {
    await makeTemplate();
    console.log(`  made ${TEMPLATE_URL.pathname} (deno task pglite-template)`);
  }
  line("full load, new database", await runLoad(gitlab, { destination: "pglite" }));
  // without it (as from source before `deno task pglite-template`): initdb makes the database
  const aside = new URL(`${TEMPLATE_URL.href}.aside`);
  await Deno.rename(TEMPLATE_URL, aside);
  try {
    line("same, without the template", await runLoad(gitlab, { destination: "pglite" }));
  } finally {
    await Deno.rename(aside, TEMPLATE_URL);
  }
}

if (only.has("memory")) {
  console.log(`\n5. Peak memory, zero latency, Postgres: 1x vs 10x data (scale ${scale})`);
  const peaks: number[] = [];
  for (const n of [scale, scale * 10]) {
    await using gitlab = await startFakeGitlab({ size: sizeAt(n), cacheReplies: true });
    await warmUp(gitlab);
    const r = await runLoad(gitlab, { destination: "postgres" });
    line(`scale ${n}`, r);
    peaks.push(r.peakKb);
  }
  console.log(`  peak 10x / peak 1x = ${fmt(peaks[1] / peaks[0], 2)} (target < 1.5)`);
}
