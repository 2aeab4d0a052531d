/**
 * Incremental cursors with dlt's semantics (`dlt/extract/incremental`): the values put into
 * requests (`{incremental.start_value}`, `start_param`, `end_param`), the per-record filter
 * (start/end range, boundary de-duplication with `unique_hashes`, `last_value_func`, `lag`,
 * `row_order`, `on_cursor_value_missing`) and the state they keep, in dlt's layout:
 *
 * ```
 * resources.<resource>.incremental.<cursor_path> = {initial_value, last_value, unique_hashes}
 * ```
 *
 * A child resource (one request series per parent record) keeps one cursor per parent record,
 * under `resources.<resource>.incremental_per_parent.<parent id>.<cursor_path>` (an extra key of
 * gitlab-pg that dlt ignores): each project's issues have their own cursor, so a project added
 * later, or one skipped by an error, is still read from the start.
 *
 * Cursors change only in memory while extracting; {@linkcode Cursors.commit} writes them into
 * the state once the package is complete, so the state never runs ahead of the data.
 *
 * @module
 */

import type { IncrementalConfig, Json, ResolvedResource } from "../catalog/types.ts";
import { UserError } from "../common/errors.ts";
import { shake128Base64 } from "../common/shake128.ts";
import { formatJsonFloat, JsonFloat, JsonInteger } from "../common/lossless_json.ts";
import { findValues } from "../common/jsonpath.ts";
import type { ParentRecord } from "./resolve.ts";

/** One cursor's state, dlt's shape. */
export interface CursorState {
  initial_value: Json;
  last_value: Json;
  unique_hashes: string[];
  [key: string]: Json;
}

/** Resource states of one source: `state.sources.<source>.resources`. */
export type ResourcesState = Record<string, Record<string, unknown>>;

/** Options of {@linkcode Cursors}. */
export interface CursorsOptions {
  /**
   * Bounds the first run: replaces `initial_value` of every cursor whose initial value is
   * unset or a date/time string (`[sources.gitlab] start_date`). @default {undefined}
   */
  startDate?: string;
}

/** The state key of per-parent cursors (gitlab-pg's extra, ignored by dlt). */
export const PER_PARENT_KEY = "incremental_per_parent";

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/**
 * Compares two cursor values: numbers numerically, ISO date/time strings as instants, other
 * values as strings (dlt compares values as they come, adapting time zones).
 */
export function compareCursorValues(a: Json, b: Json): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") {
    // the common case, cheaply (every record of a page is compared): two UTC date-times of one
    // layout (GitLab's `2024-01-15T10:30:00.000Z`) are in the order of their text
    // (equal lengths: the same fraction digits)
    if (a.length === b.length && isUtcText(a) && isUtcText(b)) return a < b ? -1 : a > b ? 1 : 0;
    if (ISO_DATE.test(a) && ISO_DATE.test(b)) {
      const x = Date.parse(a);
      const y = Date.parse(b);
      if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
    }
  }
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

/** `YYYY-MM-DDTHH:MM:SS[.f…]Z`, checked character by character (no regex per record). */
function isUtcText(s: string): boolean {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 || s.charCodeAt(10) !== 84) return false; // Z, T
  for (let i = 0; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (i === 4 || i === 7) {
      if (c !== 45) return false; // -
    } else if (i === 13 || i === 16) {
      if (c !== 58) return false; // :
    } else if (i === 19) {
      if (c !== 46 || n === 21) return false; // . and at least one digit
    } else if (i !== 10 && (c < 48 || c > 57)) return false;
  }
  return true;
}

/**
 * dlt's `json.dumps(value, sort_keys=True)` as its boundary hashes take it: `dlt.common.json`
 * is orjson, so compact (no spaces), UTF-8 as is (no `\u` escapes beyond control characters),
 * floats in orjson's form (`1.0`, `1e16`), keys sorted by code point.
 */
export function dltJsonDumps(value: Json | JsonFloat | JsonInteger): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    return Number.isInteger(value) && !Object.is(value, -0) && Math.abs(value) < 2 ** 53
      ? String(value)
      : formatJsonFloat(value);
  }
  if (typeof value === "bigint") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof JsonFloat) return formatJsonFloat(value.value);
  if (value instanceof JsonInteger) return value.toString();
  if (Array.isArray(value)) return `[${value.map(dltJsonDumps).join(",")}]`;
  const record = value as Record<string, Json>;
  const keys = Object.keys(record).sort(byCodePoint);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${dltJsonDumps(record[k])}`).join(",")}}`;
}

/** Python's `str` order (code points), not UTF-16 units (they differ beyond U+FFFF). */
function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * dlt's boundary hash of a record: `digest128(json.dumps(key, sort_keys=True))` with dlt's
 * orjson ({@linkcode dltJsonDumps}; shake_128, 15 bytes, base64 without padding), where key is
 * the primary-key value (one column), the list of values (several), or the whole record (no key).
 */
export function uniqueHash(record: Json, primaryKey: string[]): string {
  return shake128Base64(dltJsonDumps(hashKey(record, primaryKey)), 15);
}

/** What {@linkcode uniqueHash} hashes: the primary-key value(s), or the whole record. */
function hashKey(record: Json, primaryKey: string[]): Json {
  if (primaryKey.length === 0 || typeof record !== "object" || record === null) return record;
  const r = record as Record<string, Json>;
  return primaryKey.length === 1 ? r[primaryKey[0]] ?? null : primaryKey.map((k) => r[k] ?? null);
}

/** Boundary keys kept unhashed at most; beyond, they are hashed (memory stays bounded). */
const MAX_PENDING_KEYS = 1000;

/**
 * dlt's `apply_lag`: shifts `value` back by `lag` (seconds for date/time strings) in the
 * direction of the func, never past `initial` (and not at all while the cursor is still at
 * it); a date/time string keeps its own form (precision, separator, offset).
 */
export function applyLag(
  value: Json,
  lag: number,
  func: "max" | "min",
  initial: Json = null,
): Json {
  if (initial !== null && value === initial) return value;
  const sign = func === "max" ? -1 : 1;
  let shifted: Json = value;
  if (typeof value === "number") shifted = value + sign * lag;
  else if (typeof value === "string") shifted = shiftIsoText(value, sign * lag * 1000) ?? value;
  if (initial !== null && typeof initial === typeof shifted) {
    const beyond = compareCursorValues(shifted, initial);
    if (func === "max" ? beyond <= 0 : beyond >= 0) return initial;
  }
  return shifted;
}

const ISO_PARTS =
  /^(\d{4})-(\d{2})-(\d{2})(?:([T ])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** An ISO date or date-time text moved by `deltaMs`, written in the same form; else undefined. */
function shiftIsoText(text: string, deltaMs: number): string | undefined {
  const m = ISO_PARTS.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, sep, h, mi, sec, frac, zone] = m;
  const offsetMin = !zone || zone === "Z"
    ? 0
    : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, "0")) : 0;
  const utc = Date.UTC(+y, +mo - 1, +d, +(h ?? 0), +(mi ?? 0), +(sec ?? 0), ms) -
    offsetMin * 60_000;
  if (Number.isNaN(utc)) return undefined;
  const at = new Date(utc + deltaMs + offsetMin * 60_000); // the fields at the text's offset
  const p2 = (n: number) => String(n).padStart(2, "0");
  let out = `${String(at.getUTCFullYear()).padStart(4, "0")}-${p2(at.getUTCMonth() + 1)}-${
    p2(at.getUTCDate())
  }`;
  if (sep === undefined) return out + (zone ?? "");
  out += `${sep}${p2(at.getUTCHours())}:${p2(at.getUTCMinutes())}`;
  if (sec !== undefined) out += `:${p2(at.getUTCSeconds())}`;
  if (frac !== undefined) {
    const millis = String(at.getUTCMilliseconds()).padStart(3, "0");
    out += "." + (frac.length <= 3 ? millis.slice(0, frac.length) : millis + frac.slice(3));
  }
  return out + (zone ?? "");
}

function cursorValue(record: Json, path: string): Json | undefined {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return undefined;
  if (Object.hasOwn(record, path)) return record[path];
  const found = findValues(path, record);
  return found.length ? found[0] : undefined;
}

/**
 * One cursor of one request series: computes its request values at construction, filters
 * records, and tracks the new last value and boundary hashes.
 */
export class Cursor {
  readonly config: IncrementalConfig;
  readonly resource: string;
  readonly startValue: Json;
  readonly endValue: Json;
  readonly initialValue: Json;
  #func: "max" | "min";
  #dedup: boolean;
  #startHashes: Set<string>;
  #lastValue: Json;
  /** Boundary hashes (records at the last value), in the order first seen. */
  #hashes: string[];
  /**
   * Keys of boundary records not hashed yet, after those of `#hashes`: a record is hashed only
   * if it is still at the boundary when the state is taken (with ascending pages, only the
   * last few are), not for every record that moves the cursor.
   */
  #pending: Json[] = [];
  #primaryKey: string[];
  #seen = false;

  constructor(
    resource: ResolvedResource,
    stored: CursorState | undefined,
    options: { initialValue: Json },
  ) {
    const config = resource.endpoint.incremental!;
    this.config = config;
    this.resource = resource.name;
    this.#func = config.last_value_func ?? "max";
    this.initialValue = options.initialValue;
    this.endValue = config.end_value ?? null;
    const pk = config.primary_key ?? resource.primaryKey;
    this.#primaryKey = typeof pk === "string" ? [pk] : pk ?? [];
    const hasEnd = config.end_value !== undefined && config.end_value !== null;
    // With end_value dlt uses a throw-away state (a backfill): the stored one is not read.
    const state = hasEnd ? undefined : stored;
    const last = state?.last_value ?? this.initialValue;
    this.#dedup = (config.range_start ?? "closed") === "closed" && !hasEnd && !config.lag &&
      !(Array.isArray(config.primary_key) && config.primary_key.length === 0);
    this.startValue = last !== null && config.lag
      ? applyLag(last, config.lag, this.#func, this.initialValue)
      : last;
    this.#startHashes = new Set(this.#dedup ? state?.unique_hashes ?? [] : []);
    this.#lastValue = last;
    this.#hashes = [...this.#startHashes];
  }

  /** Values of `{incremental.*}` placeholders. */
  values(): Record<string, Json> {
    return {
      initial_value: this.initialValue,
      start_value: this.startValue,
      last_value: this.startValue,
      end_value: this.endValue,
    };
  }

  #before(cmp: number): boolean {
    return this.#func === "max" ? cmp < 0 : cmp > 0;
  }

  /**
   * Keeps the records inside the cursor's range and not seen at the boundary; `stop` is true
   * when `row_order` says that no later page can hold records in range.
   */
  filter(records: Json[]): { records: Json[]; stop: boolean } {
    const c = this.config;
    const out: Json[] = [];
    let stop = false;
    for (const record of records) {
      const value = cursorValue(record, c.cursor_path);
      if (value === undefined || value === null) {
        const mode = c.on_cursor_value_missing ?? "raise";
        if (mode === "include") out.push(record);
        else if (mode === "raise") {
          throw new UserError(
            `Cannot read the cursor of resource "${this.resource}": a record has no value at "${c.cursor_path}" (set "on_cursor_value_missing" to "include" or "exclude")`,
          );
        }
        continue;
      }
      if (this.endValue !== null) {
        const cmp = compareCursorValues(value, this.endValue);
        const beyond = (c.range_end ?? "open") === "open"
          ? !this.#before(cmp)
          : this.#before(-cmp) && cmp !== 0;
        if (beyond) {
          if (c.row_order && (c.row_order === "asc") === (this.#func === "max")) stop = true;
          continue;
        }
      }
      if (this.startValue !== null) {
        const cmp = compareCursorValues(value, this.startValue);
        const open = c.range_start === "open";
        if (this.#before(cmp) || (open && cmp === 0)) {
          if (c.row_order && (c.row_order === "desc") === (this.#func === "max")) stop = true;
          continue;
        }
        if (
          cmp === 0 && this.#dedup && this.#startHashes.has(uniqueHash(record, this.#primaryKey))
        ) {
          continue;
        }
      }
      out.push(record);
      this.#track(value, record);
    }
    return { records: out, stop };
  }

  #track(value: Json, record: Json): void {
    this.#seen = true;
    const cmp = this.#lastValue === null ? 1 : compareCursorValues(value, this.#lastValue);
    if (this.#lastValue === null || (this.#func === "max" ? cmp > 0 : cmp < 0)) {
      this.#lastValue = value;
      this.#hashes = [];
      this.#pending = this.#dedup ? [hashKey(record, this.#primaryKey)] : [];
    } else if (cmp === 0 && this.#dedup) {
      this.#pending.push(hashKey(record, this.#primaryKey));
      if (this.#pending.length >= MAX_PENDING_KEYS) this.#hashPending();
    }
  }

  /** Moves the pending boundary keys into `#hashes` as hashes, each hash once. */
  #hashPending(): void {
    if (this.#pending.length === 0) return;
    const known = new Set(this.#hashes);
    for (const key of this.#pending) {
      const hash = shake128Base64(dltJsonDumps(key), 15);
      if (!known.has(hash)) {
        known.add(hash);
        this.#hashes.push(hash);
      }
    }
    this.#pending = [];
  }

  /** The state to persist, or undefined for a backfill (`end_value` set). */
  state(previous: CursorState | undefined): CursorState | undefined {
    if (this.endValue !== null) return undefined;
    if (!this.#seen && previous) return previous;
    this.#hashPending();
    return {
      ...(previous ?? {}),
      initial_value: previous?.initial_value ?? this.initialValue,
      last_value: this.#lastValue,
      unique_hashes: this.#hashes,
    };
  }
}

/** The identity of a parent record: its `id`, else its JSON. */
export function parentKey(parent: ParentRecord): string {
  const r = parent.record;
  if (typeof r === "object" && r !== null && !Array.isArray(r)) {
    const id = r.id;
    if (typeof id === "number" || typeof id === "string") return String(id);
  }
  return JSON.stringify(r);
}

/** The key of one request series' cursor: its resource, and its parent's key if any. */
function seriesId(resource: string, key: string | undefined): string {
  return `${resource}\u0000${key ?? ""}`;
}

/**
 * All cursors of one extract run over one source's resource states.
 *
 * @example
 * ```ts
 * const cursors = new Cursors(state.sources.gitlab.resources, { startDate: "2024-01-01" });
 * await extract(catalog, { ...options, cursors });
 * cursors.commit(); // after the package is complete
 * ```
 */
export class Cursors {
  #resources: ResourcesState;
  #options: CursorsOptions;
  #open = new Map<
    string,
    { resource: ResolvedResource; parent?: string; cursor: Cursor; keep: boolean }
  >();

  constructor(resources: ResourcesState, options: CursorsOptions = {}) {
    this.#resources = resources;
    this.#options = options;
  }

  #slot(resource: ResolvedResource, parent: string | undefined): CursorState | undefined {
    const path = resource.endpoint.incremental!.cursor_path;
    const rs = this.#resources[resource.name];
    if (!rs) return undefined;
    if (parent === undefined) {
      return (rs.incremental as Record<string, CursorState> | undefined)?.[path];
    }
    const per = rs[PER_PARENT_KEY] as Record<string, Record<string, CursorState>> | undefined;
    return per?.[parent]?.[path];
  }

  #initialValue(resource: ResolvedResource): Json {
    const initial = resource.endpoint.incremental!.initial_value ?? null;
    const start = this.#options.startDate;
    if (start !== undefined && (initial === null || (typeof initial === "string"))) return start;
    return initial;
  }

  /**
   * The cursor of `resource` for one request series (one per parent record for a child);
   * undefined when the resource is not incremental. With `keep: false` (a parent fetched only
   * for its children, its own records not loaded) the cursor filters as usual but its state is
   * not committed: moved on, it would skip those records for good in the run that loads them.
   */
  open(
    resource: ResolvedResource,
    parent?: ParentRecord,
    options: { keep?: boolean } = {},
  ): Cursor | undefined {
    if (!resource.endpoint.incremental) return undefined;
    const key = parent ? parentKey(parent) : undefined;
    const id = seriesId(resource.name, key);
    const existing = this.#open.get(id);
    if (existing) return existing.cursor;
    const cursor = new Cursor(resource, this.#slot(resource, key), {
      initialValue: this.#initialValue(resource),
    });
    this.#open.set(id, { resource, parent: key, cursor, keep: options.keep ?? true });
    return cursor;
  }

  /**
   * Keeps the cursor of `resource`'s series for `parent` where it was, and that of every series
   * above it (the parent's own series, for its parent, …): its series left records unread
   * (`--limit`, a 403/404, a page read without the token), which moving a cursor past them
   * would skip for good, and a child's are reached again only through its ancestors. Returns
   * the names of the incremental resources held.
   */
  holdChain(resource: { name: string }, parent?: ParentRecord): string[] {
    const held: string[] = [];
    let name = resource.name;
    for (let at = parent;; at = at.up) {
      const open = this.#open.get(seriesId(name, at ? parentKey(at) : undefined));
      if (open) {
        open.keep = false;
        held.push(name);
      }
      if (!at) return held;
      name = at.name;
    }
  }

  /** Writes every cursor's new state into the resource states (call once extract succeeded). */
  commit(): void {
    for (const { resource, parent, cursor, keep } of this.#open.values()) {
      if (!keep) continue;
      const path = resource.endpoint.incremental!.cursor_path;
      const next = cursor.state(this.#slot(resource, parent));
      if (!next) continue;
      const rs = (this.#resources[resource.name] ??= {});
      if (parent === undefined) {
        const inc = (rs.incremental ??= {}) as Record<string, CursorState>;
        inc[path] = next;
      } else {
        const per = (rs[PER_PARENT_KEY] ??= {}) as Record<string, Record<string, CursorState>>;
        (per[parent] ??= {})[path] = next;
      }
    }
    this.#open.clear();
  }
}
