import assert from "node:assert/strict";
import { formatLoadInfo } from "../../lib/pipeline/load_info.ts";
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
