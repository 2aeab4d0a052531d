/**
 * The trace of the last run (dlt's `trace.pickle`, here `<workdir>/trace.json`): the steps
 * extract, normalize and load with their timings, counts, requests, retries, warnings and the
 * error of a failed run. Every message in it passes through {@linkcode redact}.
 *
 * @module
 */

import { levelEnabled, levelOfLine } from "../common/log_level.ts";
import { join, resolve } from "node:path";
import { redact } from "../common/redact.ts";
import { type ExtractProgress, failedExtractStats } from "../extract/mod.ts";
import { readJsonIfExists, writeFileAtomic } from "../storage/package_storage.ts";
import { preciseDelta } from "./load_info.ts";
import type { Config } from "../config/types.ts";
import { destinationTypeOf } from "./destination.ts";
import { createProgress, type ProgressMode } from "./progress.ts";
import type { RunInfo, RunOptions } from "./run.ts";

/** File name of the trace in the pipeline's working dir. */
export const TRACE_FILE = "trace.json";

/** Version of the trace document's layout. */
export const TRACE_ENGINE_VERSION = 1;

/** One step of a run. */
export interface TraceStep {
  /** `sync`: the destination read before extract (only in a trace of a run that failed there). */
  step: "sync" | "extract" | "normalize" | "load";
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  status: "completed" | "failed";
  /** Extract: requests, retries, resources; normalize: rows; load: load_packages. */
  info: Record<string, unknown>;
}

/** The trace document (`gitlab-pg trace --json` prints it as is). */
export interface Trace {
  engine_version: number;
  transaction_id: string;
  pipeline_name: string;
  dataset_name: string;
  destination_type: string;
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  status: "completed" | "failed";
  steps: TraceStep[];
  requests: number;
  retries: number;
  warnings: string[];
  /** The failure of a failed run, redacted. */
  error: { type: string; message: string } | null;
  execution_context: { ci_run: boolean; os: string; arch: string; deno: string };
}

/** Options of {@linkcode TraceRecorder}. */
export interface TraceRecorderOptions {
  pipelineName: string;
  datasetName: string;
  destinationType: string;
  /** Clock. @default {() => new Date()} */
  now?: () => Date;
  /** Environment, to tell a CI run. @default {{}} */
  env?: Record<string, string>;
}

const STEPS = ["extract", "normalize", "load"] as const;

/**
 * Records a run as it happens, fed by the pipeline's `hook`, `onProgress` and `onLog`
 * callbacks, and builds the {@linkcode Trace} when it ends.
 *
 * @example
 * ```ts
 * const rec = new TraceRecorder({ pipelineName: "p", datasetName: "d", destinationType: "pglite" });
 * const info = await runPipeline(config, { catalog, hook: rec.hook, onProgress: rec.onProgress });
 * await writeTrace(workdir, rec.finish({ info }));
 * ```
 */
export class TraceRecorder {
  #options: TraceRecorderOptions;
  #now: () => Date;
  #started: Date;
  /** Start of each step: extract starts with the run, the others at the previous step's end. */
  #marks: Date[] = [];
  #last?: ExtractProgress;
  #resources: Record<string, { pages: number; records: number }> = {};
  #warnings: string[] = [];
  /** The destination answered and the state was read (dlt's `sync` step). */
  #synced = false;

  constructor(options: TraceRecorderOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#started = this.#now();
    this.#marks = [this.#started];
  }

  /** The pipeline hook: "extracted" ends extract, "normalized" ends normalize. */
  hook = (point: string): void => {
    if (point === "synced") this.#synced = true;
    if (point === "extracted" && this.#marks.length === 1) this.#marks.push(this.#now());
    if (point === "normalized" && this.#marks.length === 2) this.#marks.push(this.#now());
    // a pending package finished before extract: extract really starts after it
    if (point === "completed" && this.#marks.length === 1) this.#marks[0] = this.#now();
  };

  /** Extract progress events (pages, records, requests, retries). */
  onProgress = (event: ExtractProgress): void => {
    this.#last = event;
    this.#resources[event.resource] = { pages: event.pages, records: event.records };
  };

  /** Log lines of the pipeline; `WARNING: …` lines are kept as warnings. */
  onLog = (line: string): void => {
    const m = /^WARNING: (.*)$/s.exec(line);
    if (m) this.#warnings.push(redact(m[1]));
  };

  /** The trace of the run, from its {@linkcode RunInfo} or the error it failed with. */
  finish(result: { info?: RunInfo; error?: unknown }): Trace {
    const { info, error } = result;
    const finished = info?.finishedAt ?? this.#now();
    const ends = [...this.#marks.slice(1), finished];
    const reached = error ? this.#marks.length : STEPS.length;
    const rows: Record<string, number> = {};
    for (const p of info?.packages ?? []) {
      for (const [t, n] of Object.entries(p.rows)) rows[t] = (rows[t] ?? 0) + n;
    }
    const failed = failedExtractStats(error);
    const requests = info?.extract?.requests ?? failed?.requests ?? this.#last?.requests ?? 0;
    const retries = info?.extract?.retries ?? failed?.retries ?? this.#last?.retries ?? 0;
    const stepInfo = (step: string): Record<string, unknown> => {
      if (step === "extract") {
        const resources = info?.extract?.resources ?? this.#resources;
        return {
          requests,
          retries,
          resources: Object.fromEntries(
            Object.entries(resources).map(([k, v]) => [k, { pages: v.pages, records: v.records }]),
          ),
        };
      }
      if (step === "normalize") return { rows };
      return {
        load_packages: (info?.packages ?? []).map((p) => ({
          load_id: p.loadId,
          state: p.state,
          jobs: p.jobs,
        })),
      };
    };
    const steps: TraceStep[] = [];
    if (error !== undefined && !this.#synced && this.#marks.length === 1) {
      // the destination failed (or could not be reached) before anything was extracted: dlt's
      // `sync` step, not an extract of nothing
      const start = this.#marks[0];
      steps.push({
        step: "sync",
        started_at: start.toISOString(),
        finished_at: finished.toISOString(),
        duration_seconds: seconds(start, finished),
        status: "failed",
        info: {},
      });
    }
    const shown = steps.length > 0 ? 0 : reached;
    for (let i = 0; i < shown; i++) {
      const start = this.#marks[i];
      const end = i < ends.length ? ends[i] : finished;
      steps.push({
        step: STEPS[i],
        started_at: start.toISOString(),
        finished_at: end.toISOString(),
        duration_seconds: seconds(start, end),
        status: error && i === reached - 1 ? "failed" : "completed",
        info: stepInfo(STEPS[i]),
      });
    }
    const env = this.#options.env ?? {};
    return {
      engine_version: TRACE_ENGINE_VERSION,
      transaction_id: crypto.randomUUID().replaceAll("-", ""),
      pipeline_name: this.#options.pipelineName,
      dataset_name: this.#options.datasetName,
      destination_type: this.#options.destinationType,
      started_at: this.#started.toISOString(),
      finished_at: finished.toISOString(),
      duration_seconds: seconds(this.#started, finished),
      status: error ? "failed" : "completed",
      steps,
      requests,
      retries,
      warnings: info ? info.warnings.map(redact) : this.#warnings,
      error: error === undefined ? null : {
        type: error instanceof Error ? error.name : "Error",
        message: redact(error instanceof Error ? error.message : String(error)),
      },
      execution_context: {
        ci_run: Boolean(env.CI || env.GITLAB_CI),
        os: Deno.build.os,
        arch: Deno.build.arch,
        deno: Deno.version.deno,
      },
    };
  }
}

function seconds(a: Date, b: Date): number {
  return Math.round(b.getTime() - a.getTime()) / 1000;
}

/** Writes `<workdir>/trace.json` atomically. */
export async function writeTrace(workdir: string, trace: Trace): Promise<string> {
  const path = join(workdir, TRACE_FILE);
  try {
    await Deno.mkdir(workdir, { recursive: true });
    await writeFileAtomic(path, JSON.stringify(trace, null, 2));
  } catch (e) {
    // the last run's trace must not stand for this one (a monitoring check would see an old
    // success after a failure): it goes, which needs no space on a full disk
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  return path;
}

/** Reads `<workdir>/trace.json`, or undefined when the pipeline has no trace. */
export async function readTrace(workdir: string): Promise<Trace | undefined> {
  return await readJsonIfExists<Trace>(join(workdir, TRACE_FILE), {
    check: (t) =>
      typeof t.status !== "string" || typeof t.started_at !== "string" ||
        !Array.isArray(t.steps) ||
        t.steps.some((s) => typeof s?.step !== "string" || typeof s?.status !== "string")
        ? "it holds no run trace (status, started_at and steps)"
        : undefined,
    advice: "delete it: the next run writes a new one",
  });
}

/** A time like Python's `str(datetime)` in UTC: `2025-06-01 12:00:00.123000+00:00`. */
export function pythonTime(iso: string): string {
  return `${iso.replace("T", " ").replace(/\.(\d{3})Z$/, ".$1000")}+00:00`;
}

/**
 * dlt's `dlt pipeline <name> trace` text.
 *
 * @example
 * ```ts
 * formatTrace(trace);
 * // Run started at 2025-06-01 12:00:00.000000+00:00 and COMPLETED in 1.20 seconds with 3 steps.
 * // Step extract COMPLETED in 0.80 seconds.
 * // ...
 * ```
 */
export function formatTrace(trace: Trace): string {
  const status = trace.status.toUpperCase();
  const lines = [
    `Run started at ${pythonTime(trace.started_at)} and ${status} in ${
      preciseDelta(trace.duration_seconds)
    } with ${trace.steps.length} steps.`,
  ];
  for (const s of trace.steps) {
    lines.push(`Step ${s.step} ${s.status.toUpperCase()} in ${preciseDelta(s.duration_seconds)}.`);
    if (s.step === "extract") {
      const resources = s.info.resources as Record<string, { pages: number; records: number }>;
      lines.push(`${s.info.requests} request(s), ${s.info.retries} retry(ies)`);
      for (const [name, r] of Object.entries(resources)) {
        lines.push(`- ${name}: ${r.pages} page(s), ${r.records} record(s)`);
      }
    } else if (s.step === "normalize") {
      const rows = s.info.rows as Record<string, number>;
      const names = Object.keys(rows).sort();
      if (names.length) {
        lines.push("Normalized data for the following tables:");
        for (const t of names) lines.push(`- ${t}: ${rows[t]} row(s)`);
      }
    } else if (s.step === "load") {
      const pkgs = s.info.load_packages as { load_id: string; state: string; jobs: number }[];
      for (const p of pkgs) {
        lines.push(`Load package ${p.load_id} is LOADED and contains no failed jobs`);
      }
    }
  }
  if (trace.warnings.length) {
    lines.push(`${trace.warnings.length} warning(s):`);
    for (const w of trace.warnings) lines.push(`- ${w}`);
  }
  if (trace.error) lines.push(`Error: ${trace.error.message}`);
  return lines.join("\n");
}

/** What a run hands to the pipeline, and calls when it ends ({@linkcode observeRun}). */
export interface RunObservers {
  /** Spread into {@linkcode RunOptions}. */
  options: Required<Pick<RunOptions, "hook" | "onProgress" | "onLoadJob" | "onLog">>;
  /** Shows the end of the progress and writes the trace of a completed run. */
  done(info: RunInfo): Promise<void>;
  /** Shows the end of the progress and writes the trace of a failed run (error redacted). */
  failed(error: unknown): Promise<void>;
}

/** Tests only: the least time between two `--progress log` blocks, in ms (dlt's: 1 s). */
export const LOG_PERIOD_ENV = "GITLAB_PG_TEST_LOG_PERIOD_MS";

/** Options of {@linkcode observeRun}. */
export interface ObserveRunOptions {
  /** Base of a relative pipelines_dir. */
  cwd: string;
  /** Progress and log lines (stderr). */
  write: (text: string) => void;
  /** Environment: `NO_COLOR`, `CI`. @default {{}} */
  env?: Record<string, string>;
  /** Progress display. @default {"none"} */
  progress?: ProgressMode;
  /** Schema name for dlt's progress headers. @default {"gitlab"} */
  sourceName?: string;
}

/**
 * Progress display plus trace recording for one run; the trace goes to
 * `<pipelines_dir>/<pipeline_name>/trace.json`.
 *
 * @example
 * ```ts
 * const obs = observeRun(config, { cwd: Deno.cwd(), write: console.error, progress: "log" });
 * const info = await runPipeline(config, { catalog, ...obs.options });
 * await obs.done(info);
 * ```
 */
export function observeRun(config: Config, options: ObserveRunOptions): RunObservers {
  const env = options.env ?? {};
  const workdir = resolve(options.cwd, config.pipelines_dir, config.pipeline_name);
  const recorder = new TraceRecorder({
    pipelineName: config.pipeline_name,
    datasetName: config.dataset_name,
    destinationType: destinationTypeOf(config),
    env,
  });
  const period = env[LOG_PERIOD_ENV];
  const progress = createProgress(options.progress ?? "none", {
    write: options.write,
    color: !env.NO_COLOR,
    sourceName: options.sourceName,
    // (log mode only: the live line keeps its redraw period)
    periodMs: options.progress === "log" && period && /^\d+$/.test(period)
      ? Number(period)
      : undefined,
  });
  return {
    options: {
      hook: (point) => {
        recorder.hook(point);
        progress.hook(point);
      },
      onProgress: (event) => {
        recorder.onProgress(event as ExtractProgress);
        progress.onProgress(event as ExtractProgress);
      },
      onLoadJob: (event) => progress.onLoadJob(event),
      onLog: (line) => {
        recorder.onLog(line);
        // [runtime] log_level: information lines only at INFO or DEBUG, warnings by default
        if (levelEnabled(config.runtime.log_level, levelOfLine(line))) options.write(line);
      },
    },
    async done(info) {
      progress.finish(info);
      await writeTrace(workdir, recorder.finish({ info }));
    },
    async failed(error) {
      progress.finish();
      // the run's own error matters more than a trace that cannot be written
      await writeTrace(workdir, recorder.finish({ error })).catch(() => {});
    },
  };
}
