/**
 * `gitlab-pg show`: serves a local web page to browse the dataset. Opens nothing by itself;
 * prints the URL and serves until interrupted (Ctrl+C / SIGTERM), then closes the destination.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UsageError } from "../common/errors.ts";
import { loadCliConfig } from "./config.ts";
import { destinationTypeOf, openDestination, pgliteDir } from "../pipeline/destination.ts";
import { startShowServer } from "../show/mod.ts";
import { flagsHelp, type FlagSpec, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";
import { PIPELINE_FLAGS, pipelineOverrides } from "./run.ts";

const FLAGS: Record<string, FlagSpec> = {
  ...PIPELINE_FLAGS,
  port: {
    type: "string",
    value: "N",
    description: "Port on 127.0.0.1 (default 8765; 0 picks a free one)",
  },
};

/** Stops the server on SIGINT and SIGTERM (where the platform has them). */
function interruptSignal(): AbortSignal {
  const ctl = new AbortController();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const stop = () => {
    for (const s of signals) Deno.removeSignalListener(s, stop);
    ctl.abort();
  };
  for (const s of signals) Deno.addSignalListener(s, stop);
  return ctl.signal;
}

/** The `show` command. */
export const showCommand: Command = {
  name: "show",
  summary: "Serve a local web page to browse the loaded dataset",
  help: () =>
    `Usage: gitlab-pg show [flags]

Serves a web page on http://127.0.0.1:<port>/ to browse the dataset: tables with row counts,
columns and types, the parent→child tree, sample rows page by page with a filter, the load
history (_dlt_loads), the schema and its versions, and the pipeline state. Works with the
Postgres server and the embedded PGlite. Opens no browser; stop it with Ctrl+C.
The destination stays open (read-only queries) while the page is served.
Open the printed address: it carries an access token, new at every start; without
it the page and its API answer 401 (other users of the machine see nothing).

Flags:
${flagsHelp(FLAGS)}

Examples:
  gitlab-pg show
  gitlab-pg show --port 9000 --dataset-name gitlab_data`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags("show", args, FLAGS);
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    if (positionals.length) {
      throw new UsageError(`"gitlab-pg show" takes no arguments, got "${positionals[0]}"`);
    }
    let port = 8765;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!/^\d+$/.test(String(values.port)) || port > 65535) {
        throw new UsageError(
          `Flag "--port" takes a port number from 0 to 65535, got "${values.port}"`,
        );
      }
    }
    const config = await loadCliConfig({
      cwd: io.cwd,
      env: io.env,
      overrides: pipelineOverrides(values),
    });
    const workdir = resolve(io.cwd, config.pipelines_dir, config.pipeline_name);
    if (destinationTypeOf(config) === "pglite") {
      try {
        await Deno.stat(join(pgliteDir(workdir), "PG_VERSION"));
      } catch {
        throw new UsageError(
          `Pipeline "${config.pipeline_name}" has no embedded database in "${
            pgliteDir(workdir)
          }": ` +
            `run "gitlab-pg run" first, or give Postgres credentials`,
        );
      }
    }
    const client = await openDestination(config, { workdir });
    const [{ n }] = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1",
      [config.dataset_name],
    );
    if (n === 0) {
      io.err(
        `WARNING: dataset ${config.dataset_name} has no tables in ${client.location}: ` +
          `run "gitlab-pg run" first, or check --dataset-name / DATASET_NAME`,
      );
    }
    const server = await startShowServer(client, {
      dataset: config.dataset_name,
      pipelineName: config.pipeline_name,
      port,
      signal: interruptSignal(),
    });
    io.out(
      `Serving dataset ${config.dataset_name} (${client.kind}) at ${server.url} — press Ctrl+C to stop`,
    );
    await server.finished;
    io.err("Stopped; the destination is closed");
    return 0;
  },
};
