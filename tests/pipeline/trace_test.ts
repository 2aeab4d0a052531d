import assert from "node:assert/strict";
import { join } from "node:path";
import { readTrace, TraceRecorder, writeTrace } from "../../lib/pipeline/trace.ts";

const TRACE_TS = new URL("../../lib/pipeline/trace.ts", import.meta.url).href;

Deno.test("a trace that cannot be written removes the one before it: an old success never stands for a failed run", async () => {
  const workdir = await Deno.makeTempDir();
  try {
    const recorder = new TraceRecorder({
      pipelineName: "p",
      datasetName: "d",
      destinationType: "postgres",
    });
    // the last run's trace, a success
    const last = recorder.finish({ error: new Error("x") });
    await writeTrace(workdir, { ...last, status: "completed", error: null });
    assert.equal((await readTrace(workdir))?.status, "completed");
    // a process that may remove trace.json but not write anything else beside it: the new
    // trace's temp file cannot be written, as on a full disk
    const script = `import { TraceRecorder, writeTrace } from ${JSON.stringify(TRACE_TS)};
const r = new TraceRecorder({ pipelineName: "p", datasetName: "d", destinationType: "postgres" });
try {
  await writeTrace(${JSON.stringify(workdir)}, r.finish({ error: new Error("boom") }));
  console.log("written");
} catch (e) {
  console.log("failed:", e.name);
}`;
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        "--allow-read",
        "--allow-env",
        `--allow-write=${join(workdir, "trace.json")}`,
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.match(stdout, /^failed: NotCapable/, new TextDecoder().decode(out.stderr));
    assert.equal(await readTrace(workdir), undefined, "the completed trace is gone");
    assert.deepEqual([...Deno.readDirSync(workdir)], []);
    await Deno.remove(file);
  } finally {
    await Deno.remove(workdir, { recursive: true });
  }
});
