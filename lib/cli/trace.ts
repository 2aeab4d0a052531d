/**
 * `gitlab-pg trace`: the last run's steps with timings, counts, requests, retries, warnings and
 * errors, from `<workdir>/trace.json` (written by `gitlab-pg run`, secrets redacted).
 *
 * @module
 */

import { resolve } from "node:path";
import { UsageError } from "../common/errors.ts";
import { formatTrace, readTrace } from "../pipeline/trace.ts";
import { flagsHelp, type FlagSpec, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";
import { loadCliConfig } from "./config.ts";
import { PIPELINE_FLAGS, pipelineOverrides } from "./run.ts";

const FLAGS: Record<string, FlagSpec> = {
  "pipeline-name": PIPELINE_FLAGS["pipeline-name"],
  "pipelines-dir": PIPELINE_FLAGS["pipelines-dir"],
  json: { type: "boolean", description: "Print the trace document as JSON" },
};

/** The `trace` command. */
export const traceCommand: Command = {
  name: "trace",
  summary: "Show the last run's steps, timings, counts, warnings and errors",
  help: () =>
    `Usage: gitlab-pg trace [flags]

Shows the trace of the pipeline's last run (dlt's "pipeline trace"): each step (extract,
normalize, load) with its status and duration, the requests and retries, rows per table,
load packages, warnings, and the error of a failed run. Secrets never appear in it.
Read from <pipelines_dir>/<pipeline_name>/trace.json, which every "gitlab-pg run" writes.

Flags:
${flagsHelp(FLAGS)}

Examples:
  gitlab-pg trace
  gitlab-pg trace --json | jq '.steps[] | {step, duration_seconds}'`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags("trace", args, FLAGS);
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    if (positionals.length) {
      throw new UsageError(`"gitlab-pg trace" takes no arguments, got "${positionals[0]}"`);
    }
    const config = await loadCliConfig({
      cwd: io.cwd,
      env: io.env,
      overrides: pipelineOverrides(values),
    });
    const workdir = resolve(io.cwd, config.pipelines_dir, config.pipeline_name);
    const trace = await readTrace(workdir);
    if (!trace) {
      throw new UsageError(
        `Pipeline "${config.pipeline_name}" has no trace in "${workdir}": run "gitlab-pg run" ` +
          "first (a run that could not write its trace, e.g. on a full disk, removes the one " +
          "before it)",
      );
    }
    io.out(values.json ? JSON.stringify(trace, null, 2) : formatTrace(trace));
    return 0;
  },
};
