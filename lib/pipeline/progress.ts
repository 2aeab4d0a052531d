/**
 * Progress of a run on stderr: `live` redraws one line per resource on a terminal (pages, rows,
 * rate, retries, elapsed time), `log` prints dlt's `progress="log"` blocks (reference: dlt's
 * `LogCollector`), `none` prints nothing.
 *
 * @module
 */

import process from "node:process";
import type { ExtractProgress } from "../extract/mod.ts";
import type { LoadJobDone } from "../load/load.ts";
import type { RunInfo } from "./run.ts";

/** How progress is shown. */
export type ProgressMode = "live" | "log" | "none";

/** The `--progress` flag value: `auto` is `live` on a terminal, else `none`. */
export function progressMode(
  flag: string | undefined,
  options: { isTty?: boolean } = {},
): ProgressMode | undefined {
  if (flag === undefined || flag === "auto") return options.isTty ? "live" : "none";
  if (flag === "log" || flag === "none") return flag;
  if (flag === "live") return "live";
  return undefined;
}

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Writes one block of text (the CLI's stderr; a newline is added by it). */
  write: (text: string) => void;
  /** Clock in milliseconds. @default {performance.now} */
  now?: () => number;
  /** ANSI colors in `live` mode. @default {false} */
  color?: boolean;
  /** Source (schema) name in dlt's headers. @default {"gitlab"} */
  sourceName?: string;
  /** Least time between two outputs, in ms (dlt's log_period is 1 s). @default {1000 for log, 100 for live} */
  periodMs?: number;
  /** Memory and CPU line in `log` mode (dlt's dump_system_stats). @default {true} */
  systemStats?: boolean;
}

/** A job file of package `loadId` loaded: `done` of its `total` job files are COPYed. */
export type LoadProgress = Omit<LoadJobDone, "path"> & { loadId: string };

/** Receives a run's events; {@linkcode createProgress} makes one. */
export interface Progress {
  /** Extract progress (after every page). */
  onProgress(event: ExtractProgress): void;
  /** Load progress (after every job file). */
  onLoadJob(event: LoadProgress): void;
  /** Pipeline hook points ("extracted", "normalized", …). */
  hook(point: string): void;
  /** The run ended (info is undefined when it failed). */
  finish(info?: RunInfo): void;
}

interface Counter {
  count: number;
  total?: number;
  start: number;
  message?: string;
}

/** Python's `str.center(width, fill)`. */
export function center(text: string, width: number, fill: string): string {
  const marg = width - text.length;
  if (marg <= 0) return text;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + text + fill.repeat(marg - left);
}

/** One dlt counter line: `name: count[/total] [(pct%)] | Time: s | Rate: r/s [msg]`. */
export function counterLine(name: string, c: Counter, nowMs: number): string {
  const elapsed = Math.max(0, (nowMs - c.start) / 1000);
  const rate = elapsed > 0 ? c.count / elapsed : 0;
  // dlt: "<count>/<total> (<pct>%) | …" with a total, "<count>  | …" (two spaces) without
  const count = c.total !== undefined
    ? `${c.count}/${c.total}${c.total ? ` (${(c.count / c.total * 100).toFixed(1)}%)` : ""} `
    : `${c.count}  `;
  const msg = c.message ? ` [${c.message}]` : "";
  return `${name}: ${count}| Time: ${elapsed.toFixed(2)}s | Rate: ${rate.toFixed(2)}/s${msg}`;
}

/**
 * Creates the progress display of a run.
 *
 * @example
 * ```ts
 * const progress = createProgress("log", { write: (t) => console.error(t) });
 * await runPipeline(config, { catalog, onProgress: progress.onProgress, hook: progress.hook });
 * progress.finish(info);
 * ```
 */
export function createProgress(mode: ProgressMode, options: ProgressOptions): Progress {
  if (mode === "log") return logProgress(options);
  if (mode === "live") return liveProgress(options);
  return { onProgress() {}, onLoadJob() {}, hook() {}, finish() {} };
}

function systemStatsLine(): string | undefined {
  try {
    const rss = Deno.memoryUsage().rss;
    const total = Deno.systemMemoryInfo().total;
    const cpu = process.cpuUsage();
    const cpuPct = (cpu.user + cpu.system) / 1000 / Math.max(1, performance.now()) * 100;
    return `Memory usage: ${(rss / 1024 / 1024).toFixed(2)} MB (${
      (rss / total * 100).toFixed(2)
    }%) | CPU usage: ${cpuPct.toFixed(1)}%`;
  } catch {
    return undefined; // no --allow-sys
  }
}

function logProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const period = options.periodMs ?? 1000;
  const source = options.sourceName ?? "gitlab";
  const stats = options.systemStats ?? true;
  const started = now();
  let lastDump = -Infinity;
  const resources: Counter = { count: 0, start: started };
  const rows = new Map<string, Counter>();
  let extractDone = false;
  let stepStart = started;
  let normalizeSeconds = 0;

  const block = (title: string, counters: [string, Counter][], at: number) => {
    const lines = [center(` ${title} `, 80, "-")];
    for (const [name, c] of counters) lines.push(counterLine(name, c, at));
    const s = stats ? systemStatsLine() : undefined;
    if (s) lines.push(s);
    lines.push("");
    options.write(lines.join("\n"));
  };
  const dumpExtract = (at: number) => {
    lastDump = at;
    block(`Extract ${source}`, [["Resources", resources], ...rows], at);
  };
  // dlt's Load block: at most once per period while the load runs (the period counted from
  // the step's start, as dlt's), and at the end
  const loadBlock = (loadId: string, done: number, total: number, at: number) =>
    block(`Load ${source} in ${loadId}`, [["Jobs", { count: done, total, start: stepStart }]], at);
  return {
    onProgress(ev) {
      if (extractDone) return;
      const t = now();
      let c = rows.get(ev.resource);
      if (!c) {
        c = { count: 0, start: t };
        rows.set(ev.resource, c);
        resources.count = rows.size;
      }
      c.count = ev.records;
      if (t - lastDump >= period) dumpExtract(t);
    },
    onLoadJob(ev) {
      const t = now();
      if (t - lastDump < period || ev.done >= ev.total) return; // (the last one: at the end)
      lastDump = t;
      loadBlock(ev.loadId, ev.done, ev.total, t);
    },
    hook(point) {
      const t = now();
      if (point === "extracted" && !extractDone) {
        extractDone = true;
        dumpExtract(t);
        stepStart = t;
      } else if (point === "normalized") {
        normalizeSeconds = (t - stepStart) / 1000;
        stepStart = t;
        lastDump = t;
      }
    },
    finish(info) {
      const t = now();
      if (!extractDone) {
        extractDone = true;
        dumpExtract(t);
      }
      if (!info) return;
      for (const p of info.packages) {
        if (Object.keys(p.rows).length) {
          const start = t - normalizeSeconds * 1000 - (t - stepStart);
          const counters: [string, Counter][] = [["Files", {
            count: p.jobs,
            total: p.jobs,
            start,
          }]];
          for (const [table, n] of Object.entries(p.rows)) {
            counters.push([table, { count: n, start }]);
          }
          block(`Normalize ${source} in ${p.loadId}`, counters, start + normalizeSeconds * 1000);
        }
        loadBlock(p.loadId, p.jobs, p.jobs, t);
      }
    },
  };
}

function liveProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const period = options.periodMs ?? 100;
  const bold = (s: string) => options.color ? `\x1b[1m${s}\x1b[22m` : s;
  const dim = (s: string) => options.color ? `\x1b[2m${s}\x1b[22m` : s;
  const started = now();
  const rows = new Map<
    string,
    { pages: number; records: number; start: number; last: number; total?: number }
  >();
  let retries = 0;
  let drawn = 0;
  let lastDraw = -Infinity;
  let phase = "extract";
  let jobs = "";

  const draw = (t: number, force = false) => {
    if (!force && t - lastDraw < period) return;
    lastDraw = t;
    const width = Math.max(8, ...[...rows.keys()].map((k) => k.length));
    const lines = [...rows].map(([name, r]) => {
      const secs = Math.max(0.001, (r.last - r.start) / 1000);
      const rate = r.records / secs;
      // time left, when GitLab told the number of pages: the pace so far times the pages to go
      const left = r.total !== undefined && r.total > r.pages && r.pages > 0
        ? `  ~${((r.last - r.start) / 1000 / r.pages * (r.total - r.pages)).toFixed(0)}s left`
        : "";
      return `  ${bold(name.padEnd(width))}  ${String(r.pages).padStart(5)}${
        r.total !== undefined ? `/${r.total}` : ""
      } page(s)  ${String(r.records).padStart(8)} row(s)  ${
        rate.toFixed(1).padStart(8)
      } rows/s${left}`;
    });
    const elapsed = ((t - started) / 1000).toFixed(1);
    lines.push(
      dim(`  ${phase}${phase === "load" ? jobs : ""} · ${elapsed}s · ${retries} retry(ies)`),
    );
    // move up over the previous block and clear each line before rewriting it
    const up = drawn ? `\x1b[${drawn}A` : "";
    options.write(up + lines.map((l) => `\x1b[2K${l}`).join("\n"));
    drawn = lines.length;
  };
  return {
    onProgress(ev) {
      const t = now();
      const r = rows.get(ev.resource) ?? { pages: 0, records: 0, start: t, last: t };
      r.pages = ev.pages;
      r.records = ev.records;
      r.total = ev.totalPages;
      r.last = t;
      rows.set(ev.resource, r);
      retries = ev.retries;
      draw(t);
    },
    onLoadJob(ev) {
      jobs = ` ${ev.done}/${ev.total} job(s)`;
      draw(now(), ev.done >= ev.total);
    },
    hook(point) {
      if (point === "extracted") phase = "normalize";
      else if (point === "normalized") {
        phase = "load";
        jobs = ""; // (a package loaded before, pending from an earlier run, had its own count)
      } else return;
      draw(now(), true);
    },
    finish(info) {
      phase = info ? "done" : "failed";
      draw(now(), true);
    },
  };
}
