/**
 * Progress display: dlt's log format, the live terminal lines, NO_COLOR, and the
 * `--progress` flag values.
 */

import assert from "node:assert/strict";
import { center, counterLine, createProgress, progressMode } from "../../lib/pipeline/progress.ts";

Deno.test("center() pads like Python's str.center", () => {
  assert.equal(center(" Extract gitlab ", 80, "-").length, 80);
  assert.equal(center(" ab ", 9, "-"), "--- ab --"); // odd margin: Python puts the extra right
  assert.equal(center(" abc ", 10, "-"), "-- abc ---");
  assert.equal(center("x".repeat(90), 80, "-"), "x".repeat(90));
});

Deno.test("counterLine() prints dlt's counter with and without a total", () => {
  assert.equal(
    counterLine("Resources", { count: 2, total: 5, start: 0 }, 2000),
    "Resources: 2/5 (40.0%) | Time: 2.00s | Rate: 1.00/s",
  );
  assert.equal(
    counterLine("issues", { count: 250, start: 0 }, 1000),
    "issues: 250  | Time: 1.00s | Rate: 250.00/s",
  );
  assert.equal(
    counterLine("Jobs (Failed)", { count: 1, total: 3, start: 0, message: "x" }, 0),
    "Jobs (Failed): 1/3 (33.3%) | Time: 0.00s | Rate: 0.00/s [x]",
  );
});

/** `log` progress on a clock the test sets (`clock.now`), its blocks in `out`. */
function logProgress() {
  const out: string[] = [];
  const clock = { now: 0 };
  const p = createProgress("log", {
    write: (t) => out.push(t),
    now: () => clock.now,
    systemStats: false,
  });
  return { out, clock, p };
}

Deno.test("log progress prints at most once per period and at the end of extract", () => {
  const { out, clock, p } = logProgress();
  p.onProgress({ resource: "issues", pages: 1, records: 100, requests: 1, retries: 0 });
  clock.now = 500;
  p.onProgress({ resource: "issues", pages: 2, records: 200, requests: 2, retries: 0 });
  assert.equal(out.length, 1, "second page within the period prints nothing");
  clock.now = 1500;
  p.onProgress({ resource: "issues", pages: 3, records: 300, requests: 3, retries: 0 });
  assert.equal(out.length, 2);
  p.hook("extracted");
  assert.equal(out.length, 3);
  assert.equal(
    out[2],
    `${"-".repeat(32)} Extract gitlab ${"-".repeat(32)}\n` +
      "Resources: 1  | Time: 1.50s | Rate: 0.67/s\n" +
      "issues: 300  | Time: 1.50s | Rate: 200.00/s\n",
  );
});

Deno.test("live progress redraws its lines in place; colors only without NO_COLOR", () => {
  for (const color of [true, false]) {
    const out: string[] = [];
    let now = 0;
    const p = createProgress("live", { write: (t) => out.push(t), now: () => now, color });
    p.onProgress({ resource: "issues", pages: 1, records: 100, requests: 1, retries: 0 });
    now = 1000;
    p.onProgress({ resource: "issues", pages: 2, records: 200, requests: 3, retries: 1 });
    assert.equal(out.length, 2);
    assert.ok(!out[0].includes("\x1b[2A"));
    assert.ok(out[1].startsWith("\x1b[2A"), "moves up over the previous two lines");
    assert.match(out[1], /issues.*2 page\(s\)\s+200 row\(s\)\s+200\.0 rows\/s/);
    assert.match(out[1], /1 retry\(ies\)/);
    assert.equal(out[1].includes("\x1b[1m"), color);
  }
});

Deno.test("progressMode() maps the flag: auto is live only on a terminal", () => {
  assert.equal(progressMode(undefined, { isTty: true }), "live");
  assert.equal(progressMode("auto", { isTty: false }), "none");
  assert.equal(progressMode("log", { isTty: false }), "log");
  assert.equal(progressMode("none", { isTty: true }), "none");
  assert.equal(progressMode("fancy"), undefined);
});

Deno.test("live progress shows the time left when GitLab tells the number of pages", () => {
  const out: string[] = [];
  let now = 0;
  const p = createProgress("live", { write: (t) => out.push(t), now: () => now, color: false });
  p.onProgress({ resource: "projects", pages: 1, records: 100, requests: 1, retries: 0 });
  now = 2000;
  const ev = { resource: "projects", requests: 2, retries: 0, totalPages: 10 };
  p.onProgress({ ...ev, pages: 2, records: 200 });
  // 2 pages in 2 s: 8 pages to go take ~8 s
  assert.match(out.at(-1)!, /projects\s+2\/10 page\(s\).*~8s left/);
  now = 3000;
  p.onProgress({ ...ev, pages: 10, records: 1000 });
  assert.doesNotMatch(out.at(-1)!, /left/);
});

Deno.test("log progress prints dlt's Load block while the load runs, once per period", () => {
  const { out, clock, p } = logProgress();
  p.hook("extracted");
  clock.now = 2000;
  p.hook("normalized"); // the load starts: the period counts from here
  const job = (done: number) => p.onLoadJob({ loadId: "17.5", table: "issues", done, total: 4 });
  clock.now = 2500;
  job(1);
  assert.equal(out.length, 1, "within the period of the load's start: nothing");
  clock.now = 3000;
  job(2);
  assert.equal(
    out[1],
    `${center(" Load gitlab in 17.5 ", 80, "-")}\n` +
      "Jobs: 2/4 (50.0%) | Time: 1.00s | Rate: 2.00/s\n",
  );
  clock.now = 3500;
  job(3);
  clock.now = 4500;
  job(4); // the last one: told by the end's block
  assert.equal(out.length, 2);
});

Deno.test("live progress counts the load's job files", () => {
  const out: string[] = [];
  let now = 0;
  const p = createProgress("live", { write: (t) => out.push(t), now: () => now });
  p.onProgress({ resource: "issues", pages: 1, records: 100, requests: 1, retries: 0 });
  p.hook("extracted");
  p.hook("normalized");
  now = 1000;
  p.onLoadJob({ loadId: "17.5", table: "issues", done: 1, total: 3 });
  assert.match(out.at(-1)!, /load 1\/3 job\(s\) · 1\.0s/);
  p.onLoadJob({ loadId: "17.5", table: "issues__labels", done: 2, total: 3 });
  assert.equal(out.length, 4, "within the redraw period: not drawn");
  p.onLoadJob({ loadId: "17.5", table: "_dlt_pipeline_state", done: 3, total: 3 });
  assert.match(out.at(-1)!, /load 3\/3 job\(s\)/);
});
