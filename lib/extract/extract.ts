/**
 * The extract stage: runs the catalog's resources against GitLab and writes their records,
 * exactly as received, into a load package (`typed-jsonl` job files, one record per line).
 *
 * Streaming and depth-first: a page of a root resource is fetched and written, then each of its
 * records runs every child resource's request series (recursively), then the next page comes.
 * Memory holds at most one page per level of the resource tree.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { Catalog, Json, PaginatorConfig, ResolvedResource } from "../catalog/types.ts";
import type { GitlabSourceConfig } from "../config/types.ts";
import { HttpError, UserError } from "../common/errors.ts";
import { isMapping } from "../common/json.ts";
import { redact } from "../common/redact.ts";
import { JobWriter } from "../storage/job_writer.ts";
import { PLAIN_JSON_FILE, writeFileAtomic } from "../storage/package_storage.ts";
import {
  HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
} from "./http_client.ts";
import {
  BufferBudget,
  type Emit,
  PoolAborted,
  runOrdered,
  type Spill,
  type WholeSpill,
} from "./pool.ts";
import type { Cursors } from "./incremental.ts";
import { createPaginator } from "./paginators/mod.ts";
import { AheadBudget, openPageRequests, pageRequests, PagesAhead, urlKey } from "./pages_ahead.ts";
import {
  buildRequest,
  configKeysOf,
  describeRecord,
  includeFromParent,
  parentOf,
  type ParentRecord,
} from "./resolve.ts";
import { type RequestSeries, scopeSeries } from "./scope.ts";
import { getField, selectPageData } from "./selector.ts";

/** Reported after every page. */
export interface ExtractProgress {
  resource: string;
  /** Pages of this resource so far. */
  pages: number;
  /** Records of this resource so far. */
  records: number;
  /** HTTP requests of the whole run so far. */
  requests: number;
  /** Retries of the whole run so far. */
  retries: number;
  /**
   * Pages this resource will have in all, when GitLab tells (`x-total-pages` on the first page
   * of every request series of a top-level resource; GitLab omits it above 10,000 rows).
   */
  totalPages?: number;
}

/** The requests and retries of an extract that failed, by the error it failed with. */
const FAILED_EXTRACT_STATS = new WeakMap<object, { requests: number; retries: number }>();

/**
 * The requests and retries an extract made before it failed with `error` (undefined for any
 * other error).
 *
 * @example
 * ```ts
 * try {
 *   await extract(catalog, options);
 * } catch (e) {
 *   failedExtractStats(e)?.requests; // 5: one request, retried 4 times
 * }
 * ```
 */
export function failedExtractStats(
  error: unknown,
): { requests: number; retries: number } | undefined {
  return typeof error === "object" && error !== null ? FAILED_EXTRACT_STATS.get(error) : undefined;
}

/** Counters of one resource. */
export interface ResourceExtractInfo {
  pages: number;
  records: number;
  requests: number;
}

/** What {@linkcode extract} did. */
export interface ExtractInfo {
  /** Every resource that ran (written or only fetched for its children). */
  resources: Record<string, ResourceExtractInfo>;
  /** Rows written per table (every written table, 0 when it got none). */
  tables: Record<string, number>;
  requests: number;
  retries: number;
  /** Response body bytes read. */
  bytes: number;
  /** Skipped child request series (403/404), one message each. */
  warnings: string[];
}

/** HTTP settings passed through to {@linkcode HttpClient}. */
export type ExtractHttpOptions = Pick<
  HttpClientOptions,
  | "random"
  | "now"
  | "maxAttempts"
  | "backoffBaseMs"
  | "backoffMaxMs"
  | "maxRetryAfterMs"
  | "timeoutMs"
  | "maxRedirects"
  | "endpointLimits"
>;

/**
 * What a request series hands downstream, in order: the records of a page (one item per page,
 * so the ordered pools pass pages, not records) or a warning. A page's records are record lines,
 * or bytes written as they are (`raw`): the body as received when it is the page's record array
 * on one line (one JSON array line, as dlt's extracted files hold), or what came back from a
 * spill file (that, or the record lines joined by `\n`), or a whole spill file of the table's
 * lines (`file`, see {@linkcode wholeSpill}), which becomes one of the table's files as it is.
 * `plain`: every line is plain JSON (see {@linkcode PLAIN_JSON_FILE}); `rows`: the records.
 */
type Output =
  | (
    & { table: string; plain: boolean; rows: number }
    & ({ lines: string[] } | { raw: Uint8Array } | { file: string })
  )
  | { warning: string };

/** Held cursors in a warning: `the incremental cursor of "a" and of "b"`. */
const cursorsOf = (held: string[]): string =>
  `the incremental cursor of ${held.map((h) => `"${h}"`).join(" and of ")}`;

/** A value plain `JSON.parse` gives back unchanged from its `JSON.stringify` (no wrapper). */
const isPlainScalar = (v: Json): boolean => v === null || typeof v !== "object";

/** The table of an output (`undefined` for a warning: warnings keep task order). */
const tableOf = (item: Output): string | undefined => "warning" in item ? undefined : item.table;

/**
 * Records count in the pools' buffers and budget; a warning counts as one, and so does a spill
 * file (its records are on disk).
 */
const outputWeight = (item: Output): number => "warning" in item || "file" in item ? 1 : item.rows;

/**
 * A body that can be written out as it came: one JSON array line (no LF: JSON strings escape
 * it) without BOM, read exactly by plain `JSON.parse` (no number it would change: parsed again
 * from the text, such a number need not match its re-serialized form). An integer-like key,
 * which `JSON.parse` moves first, is no reason to serialize the records again: normalize finds
 * such a dict (its first key) and reads that line again in the text's key order.
 */
const isOneArrayLine = (response: HttpResponse): boolean =>
  response.raw[0] === 0x5b && !response.exact && !response.text.includes("\n");

const utf8 = new TextDecoder();
const toUtf8 = new TextEncoder();
const TAB = 0x09;

/**
 * An output as spill bytes: `<p|x><table>\t<records>\t` then its lines (`p`: plain): a page
 * as received is stored as the bytes that came, record lines joined by `\n`; a warning is
 * `W\t0\t<json>`.
 */
function encodeOutput(item: Output): Uint8Array[] {
  if ("warning" in item) return [toUtf8.encode(`W\t0\t${JSON.stringify(item.warning)}`)];
  const head = toUtf8.encode(`${item.plain ? "p" : "x"}${item.table}\t${item.rows}\t`);
  return [head, linesOf(item)];
}

/** A page's output (not a warning). */
type PageOutput = Exclude<Output, { warning: string }>;

/** The output as a page's: a warning has no table, so it never reaches a table's spill file. */
function pageOf(item: Output): PageOutput {
  if ("warning" in item) throw new Error("Cannot spill a warning into a table's spill file");
  return item;
}

/** The lines of a page output joined by `\n` (a spill file's read, and the file removed). */
function linesOf(item: PageOutput): Uint8Array {
  if ("raw" in item) return item.raw;
  if ("lines" in item) return toUtf8.encode(item.lines.join("\n"));
  // a whole spill file that a pool further up buffers and spills in turn (nested resources):
  // read back once, as the file's bytes without the last newline
  const bytes = Deno.readFileSync(item.file);
  Deno.removeSync(item.file);
  return bytes.subarray(0, bytes.length - 1);
}

const NEWLINE = Uint8Array.of(0x0a);

/**
 * Spill files of one table's lane hold that table's lines as its extracted files do, so a
 * drained one of at least this size becomes one of the table's files as it is (renamed into
 * the package) instead of being read back and written again; a smaller one is read back as one
 * output (fewer, larger files).
 */
export const WHOLE_SPILL_MIN_BYTES = 1 << 20;

/**
 * How an output is written to, and comes back from, a table lane's spill file; a file's
 * summary is an output of its table, records and plainness (its `file` set when it is drained).
 */
const wholeSpill: WholeSpill<Output> = {
  bytes: (item) => [linesOf(pageOf(item)), NEWLINE],
  add: (summary, item) => {
    const page = pageOf(item);
    const before = summary === undefined ? undefined : pageOf(summary);
    return {
      table: page.table,
      rows: (before?.rows ?? 0) + page.rows,
      plain: (before?.plain ?? true) && page.plain,
      file: "",
    };
  },
  file: async (summary, path, size) => {
    const { table, rows, plain } = pageOf(summary);
    if (size >= WHOLE_SPILL_MIN_BYTES) return { table, rows, plain, file: path };
    const bytes = await Deno.readFile(path);
    await Deno.remove(path);
    return { table, rows, plain, raw: bytes.subarray(0, bytes.length - 1) };
  },
};

/**
 * An output back from its spill bytes: the lines stay bytes (`raw`), written out as they are,
 * never decoded.
 */
function decodeOutput(bytes: Uint8Array): Output {
  const end = bytes.indexOf(TAB, bytes.indexOf(TAB) + 1);
  const head = utf8.decode(bytes.subarray(0, end));
  const payload = bytes.subarray(end + 1);
  if (head[0] === "W") return { warning: JSON.parse(utf8.decode(payload)) };
  const tab = head.indexOf("\t");
  return {
    table: head.slice(1, tab),
    raw: payload,
    rows: Number(head.slice(tab + 1)),
    plain: head[0] === "p",
  };
}

/** Options of {@linkcode extract}. */
export interface ExtractOptions {
  /** `[sources.gitlab]`: secrets, projects, groups. */
  source: GitlabSourceConfig;
  /** The API root, already resolved by the caller (config, catalog, CI, default). */
  baseUrl: string;
  /** The load package folder; jobs go to `<packageDir>/new_jobs/`. */
  packageDir: string;
  /**
   * Names of the resources to write. Their ancestors are fetched (to feed them) and written
   * only when their `selected` is true. @default {every resource whose `selected` is true}
   */
  resources?: string[];
  /**
   * At most this many pages per request series: each root resource (each configured project
   * or group of a scoped one), and each child series per parent record. @default {undefined}
   */
  limit?: number;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Waits between retries. @default {a real timer} */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Cancels the run. @default {undefined} */
  signal?: AbortSignal;
  /** Called after every page. @default {undefined} */
  onProgress?: (event: ExtractProgress) => void;
  /** Called with each warning (also collected in `ExtractInfo.warnings`). @default {undefined} */
  onWarning?: (message: string) => void;
  /** Retry, timeout and redirect settings. @default {{}} */
  http?: ExtractHttpOptions;
  /**
   * Values of `{incremental.*}` placeholders and of `start_param`/`end_param` for a resource.
   * @default {the resource's `incremental.initial_value` / `end_value`}
   */
  incremental?: (resource: ResolvedResource) => Record<string, Json> | undefined;
  /**
   * Incremental cursors (lib/extract/incremental.ts): request values per series (per parent
   * record for a child) and the per-record filter. As in dlt, children are fetched only for
   * the parent records that pass the filter. @default {undefined}
   */
  cursors?: Cursors;
  /**
   * Requests in flight at most, and child request series run at once per parent page; the
   * output is the same as with 1. @default {source.concurrency, else 16}
   */
  concurrency?: number;
  /** Request starts per minute at most. @default {source.max_requests_per_minute} */
  maxRequestsPerMinute?: number;
}

/** Paths of GitLab's administrator-only endpoints (403 for other tokens). */
const ADMIN_PATH = /^\/?(admin|application|applications)(\/|\?|$)/;

/** Whether a path's last segment holds a placeholder (dlt's single-entity detection). */
export function isSingleEntityPath(path: string): boolean {
  const segments = path.split("?")[0].split("/").filter((s) => s !== "");
  const last = segments[segments.length - 1] ?? "";
  return /\{(?!\{)[^{}]*\}/.test(last.replaceAll("{{", "").replaceAll("}}", ""));
}

function asConfig(p: PaginatorConfig | string | undefined): PaginatorConfig | undefined {
  return typeof p === "string" ? { type: p } : p;
}

/**
 * The paginator of a resource: the endpoint's, else the resolved one; a single-entity path
 * (placeholder in the last segment) gets `single_page` unless its paginator came from the
 * endpoint or resource defaults (dlt's rule; a resolved paginator equal to the client's is
 * taken to come from the client).
 */
export function effectivePaginator(
  resource: ResolvedResource,
  catalog: Pick<Catalog, "client">,
): PaginatorConfig | undefined {
  const own = asConfig(resource.endpoint.paginator);
  if (own) return own;
  if (isSingleEntityPath(resource.endpoint.path)) {
    const client = asConfig(catalog.client.paginator);
    if (
      resource.paginator === undefined ||
      JSON.stringify(resource.paginator) === JSON.stringify(client)
    ) return { type: "single_page" };
  }
  return resource.paginator;
}

function defaultIncremental(resource: ResolvedResource): Record<string, Json> | undefined {
  const inc = resource.endpoint.incremental;
  if (!inc) return undefined;
  const start = inc.initial_value ?? null;
  return {
    initial_value: start,
    start_value: start,
    last_value: start,
    end_value: inc.end_value ?? null,
  };
}

/**
 * Extracts the catalog's resources into the load package at `options.packageDir`.
 *
 * Errors: a 401 stops the run at once; a 403 or 404 on a child request series (feature
 * disabled, empty repository, no permission) becomes a warning naming the parent record and the
 * resource; other failures (after retries) stop the run.
 *
 * @example
 * ```ts
 * const info = await extract(catalog, {
 *   source: config.source,
 *   baseUrl: "https://gitlab.example.com/api/v4",
 *   packageDir: dir,
 * });
 * console.log(info.tables, info.warnings);
 * ```
 */
export async function extract(catalog: Catalog, options: ExtractOptions): Promise<ExtractInfo> {
  const byName = new Map(catalog.resources.map((r) => [r.name, r]));
  const parents = new Map<string, string | undefined>();
  for (const r of catalog.resources) {
    const p = parentOf(r);
    if (p !== undefined && !byName.has(p)) {
      throw new UserError(
        `Cannot extract resource "${r.name}": parent resource "${p}" does not exist`,
      );
    }
    parents.set(r.name, p);
  }
  const ancestors = (name: string): string[] => {
    const out: string[] = [];
    for (let p = parents.get(name); p !== undefined; p = parents.get(p)) {
      if (out.includes(p)) {
        throw new UserError(`Cannot extract resource "${name}": its parents form a cycle`);
      }
      out.push(p);
    }
    return out;
  };

  const write = new Set<string>();
  if (options.resources) {
    const unknown = options.resources.filter((n) => !byName.has(n));
    if (unknown.length > 0) {
      throw new UserError(
        `Cannot extract ${
          unknown.map((n) => `"${n}"`).join(", ")
        }: no such resource in ${catalog.file}`,
      );
    }
    for (const n of options.resources) {
      write.add(n);
      for (const a of ancestors(n)) if (byName.get(a)!.selected) write.add(a);
    }
  } else {
    for (const r of catalog.resources) if (r.selected) write.add(r.name);
  }
  // dlt's `skip`: never loaded (fetched only when a child needs its records)
  for (const r of catalog.resources) if (r.writeDisposition === "skip") write.delete(r.name);
  const run = new Set<string>();
  for (const n of write) for (const x of [n, ...ancestors(n)]) run.add(x);

  // Extra: a resource that needs a user value (`{config.<key>}`) missing in the config is
  // skipped with one warning naming the key, and so are its children.
  const skippedWarnings: string[] = [];
  const unset = new Set<string>();
  for (const r of catalog.resources) {
    if (!run.has(r.name)) continue;
    const missing = configKeysOf(r).filter((k) => !Object.hasOwn(options.source.params ?? {}, k));
    if (missing.length === 0) continue;
    unset.add(r.name);
    skippedWarnings.push(
      `Skipped resource "${r.name}": it needs ${
        missing.map((k) => `[sources.gitlab.params] ${k}`).join(" and ")
      } (env SOURCES__GITLAB__PARAMS='{${
        missing.map((k) => `"${k}": …`).join(", ")
      }}'), which is not set`,
    );
  }
  for (const r of catalog.resources) {
    if (unset.has(r.name) || ancestors(r.name).some((a) => unset.has(a))) {
      run.delete(r.name);
      write.delete(r.name);
    }
  }

  const children = new Map<string, ResolvedResource[]>();
  for (const r of catalog.resources) {
    const p = parents.get(r.name);
    if (p !== undefined && run.has(r.name)) children.set(p, [...(children.get(p) ?? []), r]);
  }

  const concurrency = Math.max(1, options.concurrency ?? options.source.concurrency ?? 16);
  const aheadBudget = new AheadBudget(concurrency);
  /** Resources `--limit` cut short, warned about once each. */
  const limitWarned = new Set<string>();
  /** Resources whose cursors were held for pages read from another origin (warned once). */
  const foreignHeld = new Set<string>();

  // records waiting in the ordered pools of all levels together (memory stays flat)

  const budget = new BufferBudget(2000);
  // aborted by the first series that fails: every pool and series of the run stops
  const failure = new AbortController();
  // what a series that is not first in line fetches waits on disk, not in memory, so every
  // series keeps fetching (removed with the package if the run dies)
  const spillDir = join(options.packageDir, "spill");
  await Deno.mkdir(spillDir, { recursive: true });
  const spill: Spill<Output> = {
    dir: spillDir,
    encode: encodeOutput,
    decode: decodeOutput,
    whole: wholeSpill,
  };
  const client = new HttpClient({
    ...options.http,
    baseUrl: options.baseUrl,
    auth: catalog.client.auth,
    source: options.source,
    headers: catalog.client.headers,
    fetch: options.fetch,
    sleep: options.sleep,
    signal: options.signal,
    maxInFlight: concurrency,
    maxRequestsPerMinute: options.maxRequestsPerMinute ?? options.source.max_requests_per_minute,
    onWarning: (message) => {
      info.warnings.push(message);
      options.onWarning?.(message);
    },
  });
  const urlOf = (req: HttpRequest) => client.url(req);
  const info: ExtractInfo = {
    resources: {},
    tables: {},
    requests: 0,
    retries: 0,
    bytes: 0,
    warnings: [],
  };
  // a catalog that authenticates, run without a token: GitLab answers only public data
  const noToken = catalog.client.auth !== undefined && client.authKind === "none";
  const unscoped = (options.source.projects ?? []).length === 0 &&
    (options.source.groups ?? []).length === 0;
  const wholeInstance = catalog.resources.filter((r) => run.has(r.name) && r.scope);
  if (noToken && unscoped && wholeInstance.length > 0) {
    // the token's own projects and groups, asked for anonymously, are every public one: on
    // gitlab.com millions of projects, each with its issues, merge requests, …
    throw new UserError(
      `Cannot run ${
        wholeInstance.map((r) => `"${r.name}"`).join(", ")
      } without a GitLab token and without projects or groups: anonymously, GitLab answers with every public ${
        wholeInstance.some((r) => r.scope === "projects") ? "project" : "group"
      } of ${
        new URL(options.baseUrl).origin
      }. Set the token (sources.gitlab.api_key in .dlt/secrets.toml, env SOURCES__GITLAB__API_KEY), or name what to read (sources.gitlab.projects or groups, env SOURCES__GITLAB__PROJECTS or SOURCES__GITLAB__GROUPS)`,
    );
  }
  const anonymous = noToken
    ? [
      "No GitLab token is set (sources.gitlab.api_key in .dlt/secrets.toml, env " +
      "SOURCES__GITLAB__API_KEY): the requests are anonymous, so only public projects and " +
      "their public data are read",
    ]
    : [];
  for (const message of [...anonymous, ...skippedWarnings]) {
    info.warnings.push(message);
    options.onWarning?.(message);
  }
  const writers = new Map<string, JobWriter>();
  /** Job files holding a line that is not plain JSON. */
  const notPlain = new Set<string>();
  for (const r of catalog.resources) {
    if (!run.has(r.name)) continue;
    info.resources[r.name] = { pages: 0, records: 0, requests: 0 };
    if (write.has(r.name)) info.tables[r.tableName] = 0;
  }
  const incrementalOf = options.incremental ?? defaultIncremental;
  /** Whether the run saves where a resource's cursor moved (see firstSeries). */
  const keepsCursor = (r: ResolvedResource) =>
    write.has(r.name) || (r.selectedInCatalog ?? r.selected) === false;

  // The pools order pages by table: a page waits (spilled to disk) only behind the series
  // before it that may write its table, so each table's file is as in a sequential run.
  const tablesUnderMemo = new Map<string, Set<string>>();
  /** The tables a resource and its descendants write. */
  const tablesUnder = (name: string): ReadonlySet<string> => {
    let tables = tablesUnderMemo.get(name);
    if (!tables) {
      tables = new Set();
      for (const r of catalog.resources) {
        if (write.has(r.name) && (r.name === name || ancestors(r.name).includes(name))) {
          tables.add(r.tableName);
        }
      }
      tablesUnderMemo.set(name, tables);
    }
    return tables;
  };

  const firstSeries = (r: ResolvedResource, parent?: ParentRecord): RequestSeries => {
    // a resource fetched only for its children keeps its cursor where it was, unless the
    // catalog never loads it (`selected: false`): its cursor is its children's, saved as dlt
    // saves the incremental state of a parent pipe it does not load
    const keep = keepsCursor(r);
    const incremental = options.cursors?.open(r, parent, { keep })?.values() ?? incrementalOf(r);
    const request = buildRequest(r, { parent, incremental, config: options.source.params });
    const inc = r.endpoint.incremental;
    if (inc && incremental) {
      const params = { ...request.params };
      if (inc.start_param && incremental.start_value != null) {
        params[inc.start_param] = incremental.start_value;
      }
      if (inc.end_param && incremental.end_value != null) {
        params[inc.end_param] = incremental.end_value;
      }
      request.params = params;
    }
    const single = isSingleEntityPath(r.endpoint.path);
    return {
      request,
      paginator: effectivePaginator(r, catalog),
      dataSelector: r.endpoint.data_selector ?? (single ? "$" : undefined),
    };
  };

  // x-total-pages of the top-level series (NaN once one series does not tell)
  const totalPages = new Map<string, number>();
  const countTotalPages = (resource: string, headers: Headers): void => {
    const raw = headers.get("x-total-pages");
    let n = raw === null || raw === "" ? NaN : Number(raw);
    if (options.limit !== undefined) n = Math.min(n, options.limit);
    totalPages.set(resource, (totalPages.get(resource) ?? 0) + n);
  };

  const runSeries = async (
    r: ResolvedResource,
    series: RequestSeries,
    parent: ParentRecord | undefined,
    seen: Set<Json> | undefined,
    emit: Emit<Output>,
    /** The series' pages read so far (the caller's, to tell a failure after some). */
    read: { pages: number } = { pages: 0 },
  ): Promise<void> => {
    const stats = info.resources[r.name];
    const paginator = createPaginator(series.paginator);
    const kids = children.get(r.name) ?? [];
    const writes = write.has(r.name);
    const keep = keepsCursor(r);
    let request: HttpRequest | undefined = paginator.init(series.request);
    const context = { resource: r.name, responseActions: r.endpoint.response_actions, stats };
    /**
     * Pages 2 to the last, requested ahead (see {@linkcode pageRequests}), or pages 2 onwards of
     * a series without a page count (see {@linkcode openPageRequests}: `guessing`).
     */
    let ahead: PagesAhead | undefined;
    /** The pages this series asked for: a next page among them is a loop. */
    const visited = new Set<string>();
    // a page is its method, URL (query parameters in any order) and body (body paginators
    // move the page in the body alone)
    const pageKey = (req: HttpRequest) =>
      `${req.method ?? "GET"} ${urlKey(req, urlOf)} ${
        req.json === undefined ? "" : JSON.stringify(req.json)
      }`;
    try {
      while (request !== undefined) {
        options.signal?.throwIfAborted();
        // another series failed: the run fails, so stop here rather than fetch to the end
        if (failure.signal.aborted) throw new PoolAborted();
        const response = ahead ? await ahead.next() : await client.request(request, context);
        if (response === undefined) break;
        visited.add(pageKey(response.request));
        if (read.pages === 0 && !parent) countTotalPages(r.name, response.headers);
        if (series.dataSelector === undefined && isErrorDocument(response.body)) {
          // GitLab's error shape with a success status (a proxy, an expired SSO session) where
          // a list was expected: loaded as a record it would break the load or a cursor
          const where = redact(urlOf(response.request));
          throw new HttpError(
            redact(
              `Cannot fetch resource "${r.name}": GitLab answered HTTP ${response.status} for ${where} ` +
                `with an error instead of data: ${
                  redact(JSON.stringify(response.body)).slice(0, 200)
                }` +
                ` (if that is the resource's data, set its data_selector: "$")`,
            ),
            response.status,
            where,
          );
        }
        const data = selectPageData(response.body, series.dataSelector);
        let records = data;
        if (seen) {
          records = records.filter((rec) => {
            const id = typeof rec === "object" && rec !== null && !Array.isArray(rec)
              ? rec.id
              : undefined;
            if (id === undefined || id === null) return true;
            if (seen.has(id)) return false;
            seen.add(id);
            return true;
          });
        }
        // plain JSON.parse gave the page, and fields taken from the parent are plain values
        let plain = !response.exact;
        if (parent && r.includeFromParent.length > 0) {
          records = records.map((rec) => includeFromParent(rec, parent, r.includeFromParent));
          plain &&= r.includeFromParent.every((f) =>
            isPlainScalar(getField(parent.record, f).value)
          );
        }
        read.pages++;
        stats.pages++;
        stats.records += records.length;
        const cursor = options.cursors?.open(r, parent, { keep });
        if (client.readWithoutToken(response.url)) {
          // read without the token (another origin): only the public records came, so no
          // cursor may move past the others (the run's warning says where the page came from)
          const held = options.cursors?.holdChain(r, parent) ?? [];
          if (held.length > 0 && !foreignHeld.has(r.name)) {
            foreignHeld.add(r.name);
            await emit({
              warning: `Resource "${r.name}" was read in part from another origin without the ` +
                `token: ${cursorsOf(held)} stays where it was, so the next run reads it again ` +
                `(set sources.gitlab.base_url to the address GitLab links to)`,
            });
          }
        }
        const kept = cursor ? cursor.filter(records) : { records, stop: false };
        if (writes && kept.records.length > 0) {
          const rows = kept.records.length;
          // the body is this page's records, none left out or changed: written as it came (not
          // when a record is a list: on a line of its own it is read as that many records)
          if (
            data === response.body && rows === data.length &&
            !(parent && r.includeFromParent.length > 0) && !data.some(Array.isArray) &&
            isOneArrayLine(response)
          ) {
            await emit({ table: r.tableName, raw: response.raw, rows, plain });
          } else {
            const lines = kept.records.map((rec) => JSON.stringify(rec));
            await emit({ table: r.tableName, lines, rows, plain });
          }
        }
        const total = totalPages.get(r.name);
        options.onProgress?.({
          resource: r.name,
          pages: stats.pages,
          records: stats.records,
          requests: client.stats.requests,
          retries: client.stats.retries,
          ...(total !== undefined && !Number.isNaN(total) ? { totalPages: total } : {}),
        });
        // Child series of this page run concurrently; their output keeps the sequential order.
        const n = kids.length;
        await runOrdered<Output>(
          kept.records.length * n,
          (i, out) =>
            runChild(
              kids[i % n],
              { name: r.name, record: kept.records[(i / n) | 0], up: parent },
              out,
            ),
          emit,
          {
            concurrency,
            budget,
            spill,
            weight: outputWeight,
            abort: failure,
            keys: { keyOf: tableOf, keysOf: (i) => tablesUnder(kids[i % n].name) },
          },
        );
        if (options.limit !== undefined && read.pages >= options.limit) {
          // more pages: the last one links to a next (pages asked ahead on a page count that
          // said more than there is do not count)
          const more = paginator.update(response, data) !== undefined;
          // pages were left unread: no cursor may move past them, neither the series' own nor
          // (for a child) that of the series its parent records came from, which would not
          // read those parents again
          const held = more ? options.cursors?.holdChain(r, parent) ?? [] : [];
          if (held.length > 0 && !limitWarned.has(r.name)) {
            limitWarned.add(r.name);
            await emit({
              warning: `--limit stopped resource "${r.name}" before its last page: ` +
                `${cursorsOf(held)} stays where it was, so the next run reads it again from ` +
                `there (the records left unread now are not skipped)`,
            });
          }
          break;
        }
        if (kept.stop) break;
        if (ahead?.done) ahead = undefined; // then the last page's links say whether more came
        request = paginator.update(response, data);
        if (request !== undefined && visited.has(pageKey(request))) {
          // a server whose links lead back (a proxy rewriting them, a broken page count) would
          // be read over and over: stopped, with where
          throw new HttpError(
            redact(
              `Cannot fetch resource "${r.name}": its pagination loops: the page ${
                urlOf(response.request)
              } links to ${urlOf(request)}, read before in this series`,
            ),
            0,
            redact(urlOf(request)),
          );
        }
        if (ahead && !ahead.guessing) {
          // counted pages are taken in order while each links to a next one: a page that links
          // nowhere ends the series (a page count that said more: the rest are dropped)
          if (request !== undefined) continue;
          await ahead.settle();
          ahead = undefined;
          break;
        }
        if (ahead) {
          // a series of unknown length goes on with its pages asked ahead only while each page
          // links to the next of them; at its end (or a link elsewhere) the rest are dropped
          if (request !== undefined && ahead.follows(request, urlOf)) {
            ahead.confirm();
            continue;
          }
          await ahead.settle();
          ahead = undefined;
        } else if (
          read.pages === 1 && request !== undefined && !r.endpoint.incremental?.row_order
        ) {
          const fetchPage = (req: HttpRequest, signal: AbortSignal) =>
            client.request(req, { ...context, signal });
          const pageOptions = { limit: options.limit, urlOf };
          const known = pageRequests(series.paginator, response, request, pageOptions);
          const open = known ? undefined : openPageRequests(
            series.paginator,
            response,
            request,
            pageOptions,
          );
          const next = request;
          if (known || open) {
            ahead = new PagesAhead(fetchPage, (known ?? open)!, {
              window: concurrency,
              budget: aheadBudget,
              guess: open && (() => client.hasSpare(next)),
            });
          }
        }
      }
    } finally {
      // a series that stops early (a failure, --limit) leaves no request behind it
      await ahead?.settle();
    }
  };

  const runChild = async (
    r: ResolvedResource,
    parent: ParentRecord,
    emit: Emit<Output>,
  ): Promise<void> => {
    const read = { pages: 0 };
    try {
      await runSeries(r, firstSeries(r, parent), parent, undefined, emit, read);
    } catch (e) {
      if (!(e instanceof HttpError) || (e.status !== 403 && e.status !== 404)) throw e;
      const detail = e.message.replace(/^Cannot fetch resource "[^"]*": /, "");
      // what was not read must be read by the next run: the incremental cursors of this series
      // and of the series its parent records came from stay where they were
      const held = options.cursors?.holdChain(r, parent) ?? [];
      // a series that failed after some pages: those are loaded, the rest is not
      const what = read.pages === 0
        ? "Skipped"
        : `Read only the first ${read.pages} page${read.pages === 1 ? "" : "s"} of`;
      const message = `${what} resource "${r.name}" for ${parent.name} record ${
        describeRecord(parent.record)
      }: ${detail}${
        held.length > 0
          ? ` (so that the next run reads it again, ${cursorsOf(held)} over it stays where it was)`
          : ""
      }`;
      await emit({ warning: message });
    }
  };

  const output: Emit<Output> = async (item) => {
    if ("warning" in item) {
      info.warnings.push(item.warning);
      options.onWarning?.(item.warning);
      return;
    }
    const writer = writerOf(item.table);
    if ("file" in item) {
      const path = await writer.adopt(item.file);
      if (!item.plain) notPlain.add(path);
    } else {
      // the file being written and any the lines rotate into are not all plain
      const from = Math.max(0, writer.files.length - 1);
      if ("raw" in item) await writer.writeRaw(item.raw);
      else await writer.writeLines(item.lines);
      if (!item.plain) { for (const f of writer.files.slice(from)) notPlain.add(f); }
    }
    info.tables[item.table] += item.rows;
  };

  function writerOf(table: string): JobWriter {
    let w = writers.get(table);
    if (!w) {
      w = new JobWriter(options.packageDir, table, "typed-jsonl");
      writers.set(table, w);
    }
    return w;
  }

  // Root resources run concurrently too; their output keeps the catalog order.
  const roots = catalog.resources.filter((r) =>
    parents.get(r.name) === undefined && run.has(r.name)
  );
  const runRoot = async (r: ResolvedResource, emit: Emit<Output>): Promise<void> => {
    {
      const base = firstSeries(r);
      const series = r.scope ? scopeSeries(r.scope, options.source, base) : [base];
      const seen = r.scope ? new Set<Json>() : undefined;
      for (const s of series) {
        try {
          await runSeries(r, s, undefined, seen, emit);
        } catch (e) {
          if (
            e instanceof HttpError && e.status === 403 && s.label === undefined &&
            ADMIN_PATH.test(s.request.url)
          ) {
            // An administrator-only endpoint on a non-admin token: the rest still loads.
            const message = `Skipped resource "${r.name}": GitLab answered 403 Forbidden on "${
              s.request.url.replace(/^\/+/, "")
            }", an endpoint for administrators; use an administrator's token to load it`;
            await emit({ warning: message });
            break;
          }
          if (!(e instanceof HttpError) || s.label === undefined || e.status === 401) throw e;
          const key = r.scope === "groups" || s.label.includes("group") ? "groups" : "projects";
          throw new HttpError(
            `Cannot read ${s.label} (sources.gitlab.${key}): ${e.message}`,
            e.status,
            e.url,
            { cause: e, retryable: e.retryable },
          );
        }
      }
    }
  };

  try {
    await runOrdered<Output>(roots.length, (i, emit) => runRoot(roots[i], emit), output, {
      concurrency,
      budget,
      spill,
      weight: outputWeight,
      abort: failure,
      keys: { keyOf: tableOf, keysOf: (i) => tablesUnder(roots[i].name) },
    });
    const plainFiles = [...writers.values()].flatMap((w) => w.files)
      .filter((f) => !notPlain.has(f)).map((f) => basename(f)).sort();
    await writeFileAtomic(join(options.packageDir, PLAIN_JSON_FILE), JSON.stringify(plainFiles));
  } catch (e) {
    // the requests made before the failure, for the trace of the failed run
    if (typeof e === "object" && e !== null) {
      FAILED_EXTRACT_STATS.set(e, {
        requests: client.stats.requests,
        retries: client.stats.retries,
      });
    }
    throw e;
  } finally {
    for (const w of writers.values()) await w.close();
    await Deno.remove(spillDir, { recursive: true }).catch(() => {});
    info.requests = client.stats.requests;
    info.retries = client.stats.retries;
    info.bytes = client.stats.bytes;
  }
  return info;
}

/** GitLab's error shape: an object of `message`, `error` and `error_description` alone. */
function isErrorDocument(body: Json): boolean {
  if (!isMapping(body)) return false;
  const keys = Object.keys(body);
  return keys.length > 0 &&
    keys.every((k) => k === "message" || k === "error" || k === "error_description");
}
