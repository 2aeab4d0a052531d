import assert from "node:assert/strict";
import { errorText } from "../../main.ts";
import { DestinationError, UsageError } from "../../lib/common/errors.ts";

/** The error Deno gives for a write that fails, from a real write (not a made-up one). */
async function writeError(path: string): Promise<unknown> {
  return await Deno.writeTextFile(path, "x").then(() => undefined, (e) => e);
}

Deno.test({
  name: "errorText(): a full disk says so and what to do, not 'a bug in gitlab-pg'",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // /dev/full answers every write with ENOSPC, as a full file system does (a device: only a
    // process with every permission may write it, so in one of its own)
    const main = new URL("../../main.ts", import.meta.url).href;
    const code = `import { errorText } from ${JSON.stringify(main)};
try { await Deno.writeTextFile("/dev/full", "x"); } catch (e) { console.log(errorText(e)); }`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.match(
      text,
      /^error: No space left on device \(os error 28\): writefile '\/dev\/full': the disk is full\. Free space where gitlab-pg writes \(pipelines_dir: .*\) and run again: it resumes from the last complete step$/,
      new TextDecoder().decode(out.stderr),
    );
    assert.doesNotMatch(text, /a bug|\n\s+at /);
  },
});

Deno.test("errorText(): gitlab-pg's errors as they are, file system errors with the folders to check, the rest as bugs", async () => {
  assert.equal(errorText(new UsageError('Unknown flag "--x"')), 'error: Unknown flag "--x"');
  assert.equal(errorText(new DestinationError("Postgres failed")), "error: Postgres failed");
  const missing = await writeError("/no/such/dir/file");
  assert.match(
    errorText(missing),
    /^error: No such file .* \(check the folders in the configuration/,
  );
  const bug = errorText(new TypeError("x is undefined"));
  assert.match(
    bug,
    /^error: unexpected failure \(a bug in gitlab-pg\): TypeError: x is undefined\n\s+at /,
  );
});
