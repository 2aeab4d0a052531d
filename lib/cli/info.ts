/**
 * `gitlab-pg info`: dlt's `pipeline info` — synchronized state, resources and their state
 * slots, tables and which received data, pending and completed load packages.
 *
 * @module
 */

import { UsageError } from "../common/errors.ts";
import { loadCliConfig } from "./config.ts";
import { formatPipelineInfo, pipelineInfo, pipelineInfoJson } from "../pipeline/info.ts";
import { flagsHelp, type FlagSpec, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";
import { PIPELINE_FLAGS, pipelineOverrides } from "./run.ts";

const FLAGS: Record<string, FlagSpec> = {
  ...PIPELINE_FLAGS,
  verbose: {
    type: "boolean",
    short: "v",
    description: "Also the sources state and one line per table",
  },
  json: { type: "boolean", description: "Print the info as JSON on stdout" },
};

/** The `info` command. */
export const infoCommand: Command = {
  name: "info",
  summary: "Show the pipeline's state, resources, tables and load packages",
  help: () =>
    `Usage: gitlab-pg info [flags]

Shows what dlt's "pipeline info" shows: the synchronized state, the local state, the
resources of each schema with their tables and resource state slots, the pending and
completed load packages of the working dir, and whether a last run trace exists.
Read from the pipeline's working dir; when that has no state (a fresh CI container) the
state and schema are read from the destination, which is closed again at once.

Flags:
${flagsHelp(FLAGS)}

Examples:
  gitlab-pg info
  gitlab-pg info -v
  gitlab-pg info --json | jq .completed_packages`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags("info", args, FLAGS);
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    if (positionals.length) {
      throw new UsageError(`"gitlab-pg info" takes no arguments, got "${positionals[0]}"`);
    }
    const config = await loadCliConfig({
      cwd: io.cwd,
      env: io.env,
      overrides: pipelineOverrides(values),
    });
    const info = await pipelineInfo(config, { cwd: io.cwd });
    io.out(
      values.json
        ? JSON.stringify(pipelineInfoJson(info), null, 2)
        : formatPipelineInfo(info, { verbose: Boolean(values.verbose) }),
    );
    return 0;
  },
};
