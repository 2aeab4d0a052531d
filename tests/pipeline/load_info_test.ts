import assert from "node:assert/strict";
import { formatLoadInfo, preciseDelta } from "../../lib/pipeline/load_info.ts";
import type { RunInfo } from "../../lib/pipeline/run.ts";

const run = (over: Partial<RunInfo>): RunInfo => ({
  pipelineName: "gitlab_pipeline",
  datasetName: "gitlab_data",
  destinationType: "postgres",
  destinationLocation: "postgresql://postgres:***@127.0.0.1:5432/test",
  workdir: "/tmp/p",
  startedAt: new Date("2025-06-01T12:00:00.000Z"),
  finishedAt: new Date("2025-06-01T12:01:05.250Z"),
  packages: [],
  warnings: [],
  schemaVersion: 1,
  schemaVersionHash: "h",
  ...over,
});

Deno.test("the load info times the load step, as dlt's does, not the whole run", () => {
  const loaded = formatLoadInfo(run({ loadSeconds: 2.25 }));
  assert.match(loaded, /^Pipeline gitlab_pipeline load step completed in 2\.25 seconds$/m);
  // nothing loaded (no load step): the run's time
  assert.match(formatLoadInfo(run({})), /completed in 1 minute and 5\.25 seconds$/m);
});

Deno.test("preciseDelta() writes durations as humanize.precisedelta does", () => {
  // expected texts: humanize's precisedelta(timedelta(seconds=v)) with its defaults
  const cases: [number, string][] = [
    [0, "0 seconds"],
    [1, "1 second"],
    [2, "2 seconds"],
    [0.43, "0.43 seconds"],
    [1.5, "1.50 seconds"],
    [1.004, "1.00 seconds"],
    [0.125, "0.12 seconds"], // "%0.2f": an exact tie goes to the even digit
    [0.135, "0.14 seconds"], // 0.135 is a little above the tie as a double
    [59.999, "60.00 seconds"],
    [61.2, "1 minute and 1.20 seconds"],
    [3600, "1 hour"],
    [3600.5, "1 hour and 0.50 seconds"],
    [86405.5, "1 day and 5.50 seconds"],
    [86400 * 40 + 3.25, "1 month, 9 days and 3.25 seconds"], // a month is 30.5 days
    [86400 * 31, "1 month and 0 days"],
    [86400 * 400, "1 year, 1 month and 4 days"],
  ];
  for (const [seconds, text] of cases) assert.equal(preciseDelta(seconds), text, `${seconds} s`);
});
