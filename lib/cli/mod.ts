/**
 * The command line: `gitlab-pg <command> [flags]`. Commands throw; `main.ts` prints errors and
 * exits (0 ok, 1 failure, 2 usage/config/catalog error).
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { UsageError } from "../common/errors.ts";
import { closest } from "../common/did_you_mean.ts";
import { catalogCommand } from "./catalog.ts";
import { infoCommand } from "./info.ts";
import { initCommand } from "./init.ts";
import { initOpenapiCommand } from "./init_openapi.ts";
import { showCommand } from "./show.ts";
import { traceCommand } from "./trace.ts";
import type { CliIo, Command } from "./io.ts";
import { runCommand } from "./run.ts";

export type { CliIo, Command } from "./io.ts";

/** The program version (from deno.json). */
export const VERSION: string = denoJson.version;

/** Every command, in help order. */
export const COMMANDS: Command[] = [
  runCommand,
  infoCommand,
  traceCommand,
  showCommand,
  catalogCommand,
  initCommand,
  initOpenapiCommand,
];

/** The top-level help text. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `gitlab-pg ${VERSION} — load GitLab REST API data into PostgreSQL, dlt-compatible

Usage: gitlab-pg <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Global flags:
  -h, --help     Show help (also "gitlab-pg <command> --help")
  -V, --version  Show the version

Configuration comes from .dlt/config.toml, .dlt/secrets.toml and environment variables
(dlt's layout and names, env first). See README.md.

Exit codes: 0 ok, 1 failure, 2 usage, config or catalog error, 130/143 interrupted (SIGINT/SIGTERM).`;
}

/**
 * Runs the command line `args` and returns the exit code. Throws typed errors for `main.ts`.
 *
 * @example
 * ```ts
 * const code = await runCli(["--version"], io);
 * ```
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    if (first === "help" && rest[0]) {
      const cmd = COMMANDS.find((c) => c.name === rest[0]);
      if (cmd) {
        io.out(cmd.help());
        return 0;
      }
    }
    io.out(mainHelp());
    return first === undefined ? 2 : 0;
  }
  if (first === "-V" || first === "--version") {
    io.out(`gitlab-pg ${VERSION}`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    // a flag before the command (`gitlab-pg --json run`): flags go after it
    const after = first.startsWith("-") && rest.find((a) => COMMANDS.some((c) => c.name === a));
    if (after) {
      throw new UsageError(
        `Flag "${first}" comes before the command: give it after, as in ` +
          `"gitlab-pg ${after} ${first}"; see "gitlab-pg ${after} --help"`,
      );
    }
    const near = closest(first, COMMANDS.map((c) => c.name));
    throw new UsageError(
      `Unknown command "${first}"${
        near ? ` (did you mean "${near}"?)` : ""
      }; see "gitlab-pg --help"`,
    );
  }
  return await cmd.run(rest, io);
}
