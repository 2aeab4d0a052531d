/**
 * gitlab-pg: load GitLab REST API data into PostgreSQL, leaving the destination as dlt would.
 * The only module that reads `Deno.args`, prints and exits.
 *
 * @module
 */

import { runCli } from "./lib/cli/mod.ts";
import { exitCodeOf, GitlabPgError, UserError } from "./lib/common/errors.ts";
import { redact } from "./lib/common/redact.ts";

/** Runs the CLI with the process's args, env and stdio; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await runCli(args, {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
      env: Deno.env.toObject(),
      cwd: Deno.cwd(),
      isTty: Deno.stderr.isTerminal(),
    });
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`error: ${redact(error.message)}`);
    } else if (error instanceof GitlabPgError) {
      console.error(`error: ${redact(error.message)}`);
      if (error.cause instanceof Error && Deno.env.get("GITLAB_PG_DEBUG")) {
        console.error(redact(String(error.cause.stack ?? error.cause)));
      }
    } else {
      const msg = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`error: unexpected failure (a bug in gitlab-pg): ${redact(msg)}`);
    }
    return exitCodeOf(error);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
