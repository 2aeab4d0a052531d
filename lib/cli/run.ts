/**
 * `gitlab-pg run`: extract, normalize and load the catalog's resources.
 *
 * @module
 */

import { normalizeTablesPath } from "../schema/naming.ts";
import { loadCatalog, resolveCatalogArg, selectResources } from "../catalog/mod.ts";
import { loadCliConfig } from "./config.ts";
import { MAX_CONCURRENCY } from "../config/mod.ts";
import { ConfigError, exitCodeOf, InterruptedError, UsageError } from "../common/errors.ts";
import { redact } from "../common/redact.ts";
import {
  formatLoadInfo,
  formatNormalizeInfo,
  formatSchemaChanges,
  runInfoJson,
} from "../pipeline/load_info.ts";
import { runPipeline, unselectedChildWarnings } from "../pipeline/run.ts";
import { sendFailureAlert, sendSchemaChangeAlert } from "../pipeline/alerts.ts";
import { parseContractFlag } from "../schema/contract.ts";
import { parseRefreshMode } from "../pipeline/refresh.ts";
import { progressMode } from "../pipeline/progress.ts";
import { observeRun } from "../pipeline/trace.ts";
import { flagsHelp, type FlagSpec, intFlag, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";

/** Flags shared by commands that open a pipeline. */
export const PIPELINE_FLAGS: Record<string, FlagSpec> = {
  "pipeline-name": {
    type: "string",
    value: "NAME",
    description: "Pipeline name (default gitlab_pipeline; env PIPELINE_NAME)",
  },
  "dataset-name": {
    type: "string",
    value: "NAME",
    description: "Dataset = Postgres schema to load into (default gitlab_data)",
  },
  destination: {
    type: "string",
    value: "TYPE",
    description: "postgres or pglite (default: postgres when credentials are set, else pglite)",
  },
  "pipelines-dir": {
    type: "string",
    value: "DIR",
    description: "Folder of pipeline working dirs (default ~/.gitlab-pg/pipelines)",
  },
};

const FLAGS: Record<string, FlagSpec> = {
  ...PIPELINE_FLAGS,
  resources: {
    type: "string",
    value: "A,B",
    description: "Load only these resources (their parents are fetched as needed)",
  },
  limit: {
    type: "string",
    value: "N",
    description: "At most N pages per request series (dlt's add_limit / --global-limit)",
  },
  concurrency: {
    type: "string",
    value: "N",
    description: "Requests in flight at most (default 16; sources.gitlab.concurrency)",
  },
  catalog: {
    type: "string",
    value: "FILE",
    description:
      'Catalog YAML file, or "seed" for the embedded seed catalog (default: embedded gitlab)',
  },
  "export-schema-path": {
    type: "string",
    value: "DIR",
    description: "Where gitlab.schema.yaml is exported (default schemas/export)",
  },
  json: { type: "boolean", description: "Print the run info as JSON on stdout" },
  progress: {
    type: "string",
    value: "MODE",
    description: "auto (live on a terminal, else none), log (dlt's log blocks) or none",
  },
  refresh: {
    type: "string",
    value: "MODE",
    description:
      "drop_sources, drop_resources or drop_data: drop (or empty) tables and reset their state",
  },
  "schema-contract": {
    type: "string",
    value: "MODE",
    description:
      "evolve, freeze, discard_row or discard_value for all of tables, columns and data_type, or e.g. columns=freeze,data_type=discard_value",
  },
};

/** Config overrides from the pipeline flags. */
export function pipelineOverrides(
  values: Record<string, string | boolean | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const map: Record<string, string> = {
    "pipeline-name": "pipeline_name",
    "dataset-name": "dataset_name",
    destination: "destination_type",
    "pipelines-dir": "pipelines_dir",
    "export-schema-path": "export_schema_path",
  };
  for (const [flag, key] of Object.entries(map)) {
    const v = values[flag];
    if (typeof v === "string") out[key] = v;
  }
  if (out.destination_type && !["postgres", "pglite"].includes(out.destination_type)) {
    throw new UsageError(
      `Flag "--destination" takes "postgres" or "pglite", got "${out.destination_type}"`,
    );
  }
  return out;
}

/**
 * Rejects `signalled` with an {@linkcode InterruptedError} at the first SIGINT or SIGTERM
 * (where the platform has them) while the run goes on; disposing removes the listeners.
 */
function onInterrupt(): Disposable & { signalled: Promise<never> } {
  const { promise, reject } = Promise.withResolvers<never>();
  promise.catch(() => {});
  const signals: ("SIGINT" | "SIGTERM")[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((s) => [s, () => reject(new InterruptedError(s))] as const);
  for (const [s, f] of listeners) Deno.addSignalListener(s, f);
  return {
    signalled: promise,
    [Symbol.dispose]: () => {
      for (const [s, f] of listeners.splice(0)) Deno.removeSignalListener(s, f);
    },
  };
}

/** The `run` command. */
export const runCommand: Command = {
  name: "run",
  summary: "Load GitLab data into the destination (finishing pending packages first)",
  help: () =>
    `Usage: gitlab-pg run [flags]

Extracts every selected resource of the catalog from the GitLab API, normalizes the records
into relational tables as dlt does, and loads them into Postgres (or the embedded PGlite) in
one transaction per load package. Packages left by an interrupted run are finished first.
Prints dlt's load info.

Flags:
${flagsHelp(FLAGS)}

Examples:
  gitlab-pg run
  gitlab-pg run --resources issues,merge_requests --limit 2
  DESTINATION__POSTGRES__CREDENTIALS=postgresql://loader:pw@host:5432/db gitlab-pg run`,
  async run(args: string[], io: CliIo): Promise<number> {
    let parsed;
    try {
      parsed = parseFlags("run", args, FLAGS);
    } catch (error) {
      // a bad command line with --json among its flags still prints one JSON document
      const flags = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
      if (flags.some((a) => a === "--json" || a.startsWith("--json="))) {
        io.out(failedRunJson({}, error));
      }
      throw error;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    /** The names of the run, once the configuration is read. */
    const names: { pipeline_name?: string; dataset_name?: string } = {};
    // from the start: a signal while the configuration and catalog are read is one too
    const interrupt = onInterrupt();
    try {
      return await runRun(values, positionals, io, names, interrupt);
    } catch (error) {
      if (!(error instanceof InterruptedError)) interrupt[Symbol.dispose]();
      if (error instanceof ConfigError && error.names) Object.assign(names, error.names);
      // stdout stays one JSON document, failed runs included (the error also goes to stderr)
      if (values.json) io.out(failedRunJson(names, error));
      throw error;
    }
  },
};

/** The `--json` document of a run that failed with `error`. */
function failedRunJson(
  names: { pipeline_name?: string; dataset_name?: string },
  error: unknown,
): string {
  return JSON.stringify(
    {
      pipeline_name: names.pipeline_name ?? null,
      dataset_name: names.dataset_name ?? null,
      status: "failed",
      error: redact(error instanceof Error ? error.message : String(error)),
      exit_code: exitCodeOf(error),
    },
    null,
    2,
  );
}

/** `gitlab-pg run` after its flags are read. */
async function runRun(
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
  io: CliIo,
  names: { pipeline_name?: string; dataset_name?: string },
  interrupt: ReturnType<typeof onInterrupt>,
): Promise<number> {
  if (positionals.length) {
    // `gitlab-pg run issues`: resources are chosen with a flag
    throw new UsageError(
      `"gitlab-pg run" takes no arguments, got "${positionals[0]}" ` +
        `(to run only some resources: --resources ${positionals.join(",")})`,
    );
  }
  const limit = intFlag("limit", values.limit);
  const config = await loadCliConfig({
    cwd: io.cwd,
    env: io.env,
    overrides: {
      ...pipelineOverrides(values),
      concurrency: intFlag("concurrency", values.concurrency, MAX_CONCURRENCY),
    },
  });
  names.pipeline_name = config.pipeline_name;
  names.dataset_name = config.dataset_name;
  const where = await resolveCatalogArg(
    typeof values.catalog === "string" ? values.catalog : undefined,
    { cwd: io.cwd },
  );
  const fullCatalog = await loadCatalog(where.path, {
    file: where.file,
    tableName: normalizeTablesPath,
  });
  let catalog = fullCatalog;
  let resources: string[] | undefined;
  // mistyped environment variables first: they may be why the run reads what it reads
  const startWarnings: string[] = [...(config.warnings ?? [])];
  if (typeof values.resources === "string") {
    resources = values.resources.split(",").map((s) => s.trim()).filter(Boolean);
    catalog = selectResources(catalog, resources);
    // the children --resources leaves out are known only to the whole catalog
    startWarnings.push(...unselectedChildWarnings(fullCatalog, resources));
  }
  const progress = progressMode(values.progress as string | undefined, { isTty: io.isTty });
  if (!progress) {
    throw new UsageError(
      `Flag "--progress" takes "auto", "log" or "none", got "${values.progress}"`,
    );
  }
  const observers = observeRun(config, {
    cwd: io.cwd,
    env: io.env,
    write: (text) => io.err(text),
    progress,
    sourceName: catalog.sourceName,
  });
  let info;
  try {
    const running = runPipeline(config, {
      catalog,
      resources,
      startWarnings,
      limit,
      fetch: io.fetch,
      cwd: io.cwd,
      ...observers.options,
      refresh: typeof values.refresh === "string" ? parseRefreshMode(values.refresh) : undefined,
      schemaContract: typeof values["schema-contract"] === "string"
        ? parseContractFlag(values["schema-contract"])
        : undefined,
    });
    // a signal ends the run where it is (every step is safe to cut: the next run resumes),
    // after the trace says so
    running.catch(() => {});
    info = await Promise.race([running, interrupt.signalled]);
    // from here a signal ends the process as usual (an alert that hangs, say); after a signal
    // the listeners stay until the process exits, so a second one cannot cut the trace short
    interrupt[Symbol.dispose]();
  } catch (error) {
    if (!(error instanceof InterruptedError)) interrupt[Symbol.dispose]();
    await observers.failed(error);
    if (config.runtime.slack_incoming_hook) {
      await sendFailureAlert(config.pipeline_name, error, config.runtime.slack_incoming_hook, {
        fetch: io.fetch,
      }).catch((e) => io.err(`WARNING: ${e instanceof Error ? e.message : String(e)}`));
    }
    throw error;
  }
  if (config.runtime.slack_incoming_hook) {
    try {
      await sendSchemaChangeAlert(info, config.runtime.slack_incoming_hook, { fetch: io.fetch });
    } catch (e) {
      // a warning of the run like the others: in its summary, --json and the trace
      const warning = e instanceof Error ? e.message : String(e);
      info.warnings.push(warning);
      observers.options.onLog(`WARNING: ${warning}`);
    }
  }
  await observers.done(info);
  if (values.json) {
    io.out(JSON.stringify(runInfoJson(info), null, 2));
  } else {
    io.out(formatLoadInfo(info));
    const norm = formatNormalizeInfo(info);
    if (norm) io.out(norm);
    const changes = formatSchemaChanges(info);
    if (changes) io.out(changes);
    if (info.warnings.length) {
      io.out(
        `${info.warnings.length} warning(s):\n${info.warnings.map((w) => `- ${w}`).join("\n")}`,
      );
    }
  }
  return 0;
}
