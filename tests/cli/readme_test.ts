import assert from "node:assert/strict";
import { catalogCommand } from "../../lib/cli/catalog.ts";
import { infoCommand } from "../../lib/cli/info.ts";
import { initCommand } from "../../lib/cli/init.ts";
import { initOpenapiCommand } from "../../lib/cli/init_openapi.ts";
import { runCommand } from "../../lib/cli/run.ts";
import { showCommand } from "../../lib/cli/show.ts";
import { traceCommand } from "../../lib/cli/trace.ts";

Deno.test("the README documents every command and every flag its --help lists", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const commands = [
    catalogCommand,
    infoCommand,
    initCommand,
    initOpenapiCommand,
    runCommand,
    showCommand,
    traceCommand,
  ];
  const missing: string[] = [];
  for (const command of commands) {
    if (!readme.includes(`gitlab-pg ${command.name}`)) missing.push(command.name);
    const flags = command.help().split("\n")
      .filter((line) => /^\s+(-\w, )?--[a-z]/.test(line))
      .map((line) => line.match(/--[a-z][a-z-]*/)![0])
      .filter((flag) => flag !== "--help");
    for (const flag of flags) {
      if (!readme.includes(`\`${flag}`)) missing.push(`${command.name} ${flag}`);
    }
  }
  assert.deepEqual(missing, []);
});
