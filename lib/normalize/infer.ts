/**
 * Type inference and coercion of values, as dlt does them (`data_types/type_helpers.py`,
 * `schema/detections.py`): the dlt type of a value, ISO 8601 timestamp detection, and the
 * coercion of a value into an existing column type, which throws {@linkcode CoercionError}
 * when dlt would create a variant column instead.
 *
 * Timestamps are carried as text in one canonical form, Python's `isoformat()` of the UTC
 * datetime (`2016-01-04T15:31:51.081000+00:00`), so they load identically whatever the
 * session time zone.
 *
 * @module
 */

import type { DataType } from "../schema/types.ts";
import { isDict, JsonFloat, parseJson, pyFloatRepr, stringifyJson } from "./json_value.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Integers beyond this magnitude are loaded as text: dlt's `large_integer` detection threshold
 * (`detections.py`); up to it they fit the `wei` type (`numeric(156,78)` in Postgres).
 */
export const LARGE_INTEGER_TEXT_THRESHOLD = 578960446186580977117854925043439539266n;

/**
 * Whether an integer fits a Postgres `bigint` (signed 64 bits).
 *
 * @example
 * ```ts
 * isInt64(2n ** 63n); // false
 * ```
 */
export function isInt64(value: bigint | number): boolean {
  if (typeof value === "number") return Number.isSafeInteger(value);
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** A value that cannot be coerced into a column type (dlt makes a variant column). */
export class CoercionError extends Error {
  constructor(to: DataType, from: DataType) {
    super(`Cannot coerce a ${from} value into ${to}`);
    this.name = "CoercionError";
  }
}

/**
 * The dlt type of a value as it is (Python type → dlt type): string → text, integer → bigint
 * (`wei` beyond signed 64 bits, as dlt's `large_integer` detection would type it),
 * non-integer number or {@linkcode JsonFloat} → double, boolean → bool, dict or list → json,
 * `Date` → timestamp, `Uint8Array` → binary.
 *
 * @example
 * ```ts
 * pyTypeOf(1); // "bigint"
 * pyTypeOf(1.5); // "double"
 * ```
 */
export function pyTypeOf(value: unknown): DataType {
  switch (typeof value) {
    case "string":
      return "text";
    case "boolean":
      return "bool";
    case "bigint":
      return isInt64(value) ? "bigint" : "wei";
    case "number":
      return Number.isInteger(value) ? "bigint" : "double";
  }
  if (value instanceof JsonFloat) return "double";
  if (Array.isArray(value) || isDict(value)) return "json";
  if (value instanceof Date) return "timestamp";
  if (value instanceof Uint8Array) return "binary";
  return "text";
}

/** Parts of an ISO 8601 value. */
export interface IsoParts {
  year: number;
  month: number;
  day: number;
  /** Present when the value has a time part (it is a datetime). */
  time?: { hour: number; minute: number; second: number; micro: number };
  /** Offset from UTC in minutes; undefined for naive values. */
  offset?: number;
}

const ISO_TIME = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

function fromDayOfYear(year: number, doy: number): [number, number] | undefined {
  const d = new Date(Date.UTC(year, 0, doy));
  if (d.getUTCFullYear() !== year) return undefined;
  return [d.getUTCMonth() + 1, d.getUTCDate()];
}

function fromIsoWeek(year: number, week: number, weekday: number): [number, number, number] {
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const jan4Weekday = jan4.getUTCDay() || 7;
  const monday = Date.UTC(year, 0, 4 - jan4Weekday + 1);
  const d = new Date(monday + ((week - 1) * 7 + weekday - 1) * 86_400_000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/**
 * Parses a date or datetime as dlt's `parse_iso_like_datetime` does: ISO 8601 like pendulum's
 * parser — calendar (`2016-01-04`, `20160104`), ordinal (`2016-004`) and week (`2016-W01-1`)
 * dates, an optional time after `T` or a space (`15:31`, `15:31:51.081`, `153151`), and an
 * optional `Z` or `±HH[:MM]` offset — then, when that fails, pendulum's "common" formats
 * (`2024/01/15 10:30:00`, `2024:01:15 10:30`, `2024 10:30`; see {@linkcode parseCommon}).
 * Returns undefined when `text` is neither.
 *
 * @example
 * ```ts
 * parseIso("2016-01-04T15:31:51.081Z")?.time?.micro; // 81000
 * parseIso("2024/01/15 10:30")?.time?.hour; // 10
 * parseIso("not a date"); // undefined
 * ```
 */
export function parseIso(text: string): IsoParts | undefined {
  return parseIso8601(text) ?? parseCommon(text);
}

/**
 * pendulum's `COMMON` pattern (`pendulum/parsing/__init__.py`, which dlt's
 * `parse_iso_like_datetime` falls back on with pendulum's default options: year first, month
 * before day): an optional date (`YYYY`, or `YYYY[/:]MM[/:]DD`, each separator optional), then
 * an optional time (`[ ]H:M[:S][.|,fraction]`, 1 or 2 digits each); Python's `$` also matches
 * before a last `\n`. No offset: the value is naive.
 */
const COMMON =
  /^(?:(\p{Nd}{4})(?:[/:]?(\p{Nd}{2})[/:]?(\p{Nd}{2}))?)?(?: ?(\p{Nd}{1,2}):(\p{Nd}{1,2})?(?::(\p{Nd}{1,2}))?(?:[.|,](\p{Nd}{1,9}))?)?\n?$/u;

const ND = /^\p{Nd}$/u;

/**
 * Decimal digits of any script as ASCII (Python's `\d` and `int()` take them all): Unicode puts
 * each script's digits 0–9 in a run of its own, so a digit's value is its distance from the
 * start of its runs, modulo 10.
 */
function asciiDigits(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch >= "0" && ch <= "9") {
      out += ch;
      continue;
    }
    const c = ch.codePointAt(0)!;
    let zero = c;
    while (ND.test(String.fromCodePoint(zero - 1))) zero--;
    out += String((c - zero) % 10);
  }
  return out;
}

/**
 * A date or datetime in pendulum's common formats, or undefined (also for a time without a
 * date, which is no date to dlt, and for a time without minutes, which pendulum fails on).
 */
function parseCommon(text: string): IsoParts | undefined {
  const found = COMMON.exec(text);
  const m = found && /\P{ASCII}/u.test(text) ? found.map((g) => g && asciiDigits(g)) : found;
  if (!m || m[1] === undefined) return undefined;
  const year = Number(m[1]);
  const month = m[2] !== undefined ? Number(m[2]) : 1;
  const day = m[3] !== undefined ? Number(m[3]) : 1;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  if (m[4] === undefined) return { year, month, day };
  if (m[5] === undefined) return undefined;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] !== undefined ? Number(m[6]) : 0;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const micro = m[7] !== undefined ? Number(m[7].slice(0, 6).padEnd(6, "0")) : 0;
  return { year, month, day, time: { hour, minute, second, micro } };
}

/** ISO 8601 only (pendulum's `parse_iso8601`). */
function parseIso8601(text: string): IsoParts | undefined {
  let m: RegExpExecArray | null;
  let year: number;
  let month = 1;
  let day = 1;
  let length: number;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text)) || (m = /^(\d{4})(\d{2})(\d{2})/.exec(text))) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    length = m[0].length;
  } else if ((m = /^(\d{4})-?(\d{3})(?!\d)/.exec(text))) {
    year = Number(m[1]);
    const md = Number(m[2]) >= 1 ? fromDayOfYear(year, Number(m[2])) : undefined;
    if (!md) return undefined;
    [month, day] = md;
    length = m[0].length;
  } else if ((m = /^(\d{4})-?W(\d{2})(?:-?([1-7]))?/.exec(text))) {
    const week = Number(m[2]);
    if (week < 1 || week > 53) return undefined;
    [year, month, day] = fromIsoWeek(Number(m[1]), week, m[3] !== undefined ? Number(m[3]) : 1);
    length = m[0].length;
  } else if ((m = /^(\d{4})-(\d{2})(?![\d-])/.exec(text)) || (m = /^(\d{4})(?![\d-])/.exec(text))) {
    year = Number(m[1]);
    month = m[2] !== undefined ? Number(m[2]) : 1;
    length = m[0].length;
  } else {
    return undefined;
  }
  // Python's dates start at year 1: "0000-01-01" is no date to dlt
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  const rest = restOf(text.slice(length));
  if (rest === null) return undefined;
  return { year, month, day, ...rest };
}

function restOf(rest: string): Pick<IsoParts, "time" | "offset"> | null {
  if (rest === "") return {};
  if (rest[0] !== "T" && rest[0] !== " ") return null;
  const t = ISO_TIME.exec(rest.slice(1));
  if (!t) return null;
  const hour = Number(t[1]);
  const minute = t[2] !== undefined ? Number(t[2]) : 0;
  const second = t[3] !== undefined ? Number(t[3]) : 0;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const micro = t[4] !== undefined ? Number(t[4].slice(0, 6).padEnd(6, "0")) : 0;
  let offset: number | undefined;
  if (t[5] === "Z") offset = 0;
  else if (t[5] !== undefined) {
    const digits = t[5].slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offset = (t[5][0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return { time: { hour, minute, second, micro }, offset };
}

/**
 * dlt's default `iso_timestamp` detection: a string that parses as a full datetime, ISO 8601 or
 * one of pendulum's common formats (date-only strings are not timestamps).
 *
 * @example
 * ```ts
 * isIsoTimestamp("2016-01-04T15:31:51.081Z"); // true
 * isIsoTimestamp("2024/01/15 10:30:00"); // true
 * isIsoTimestamp("2016-07-22"); // false
 * ```
 */
export function isIsoTimestamp(text: string): boolean {
  // pendulum's ISO datetimes have 10 characters at least (`2016-01T10`, `2016W01T10`)
  return (text.length >= 10 && parseIso8601(text)?.time !== undefined) ||
    parseCommon(text)?.time !== undefined;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** A UTC datetime in the common form: fields compared as text, days past 28 left to parseIso. */
const UTC_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Formats UTC milliseconds plus extra microseconds as Python's `isoformat()`. */
function formatUtc(ms: number, micro: number, timezone: boolean): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const frac = micro ? `.${pad(micro, 6)}` : "";
  return `${y < 0 ? "-" + pad(-y, 6) : pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${
    pad(d.getUTCDate())
  }T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}${
    timezone ? "+00:00" : ""
  }`;
}

/** The value of the two ASCII digits at `i` of `s`, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * {@linkcode isoToUtc} of exactly GitLab's forms, `2016-01-04T15:31:51.081Z` and
 * `2016-01-04T15:31:51Z`, by character checks (no regex match, no slices); undefined for
 * anything else (and for days past 28, left to the full path), which takes the general path.
 */
function gitlabUtc(text: string, timezone: boolean): string | undefined {
  const withMillis = text.length === 24;
  if (
    text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 ||
    text.charCodeAt(withMillis ? 23 : 19) !== 90 || (withMillis && text.charCodeAt(19) !== 46)
  ) return undefined;
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (
    twoDigits(text, 0) < 10 || twoDigits(text, 2) < 0 || month < 1 || month > 12 || day < 1 ||
    day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59
  ) return undefined;
  const zone = timezone ? "+00:00" : "";
  if (!withMillis) return text.slice(0, 19) + zone;
  const ms = text.charCodeAt(20) - 48;
  const ms2 = twoDigits(text, 21);
  if (ms < 0 || ms > 9 || ms2 < 0) return undefined;
  if (ms === 0 && ms2 === 0) return text.slice(0, 19) + zone;
  return text.slice(0, 23) + "000" + zone;
}

/**
 * The canonical UTC timestamp text of an ISO value (naive values are taken as UTC, a date
 * as its midnight), or undefined when `text` is not ISO 8601.
 *
 * @example
 * ```ts
 * isoToUtc("2016-01-04T16:31:51.081+01:00"); // "2016-01-04T15:31:51.081000+00:00"
 * ```
 */
export function isoToUtc(text: string, timezone = true): string | undefined {
  if (text.length === 24 || text.length === 20) {
    const fast = gitlabUtc(text, timezone);
    if (fast !== undefined) return fast;
  }
  // GitLab's own form (`2016-01-04T15:31:51.081Z`) needs no date arithmetic
  const f = UTC_ISO.exec(text);
  if (
    f && f[1] >= "1000" && f[2] >= "01" && f[2] <= "12" && f[3] >= "01" && f[3] <= "28" &&
    f[4] <= "23" && f[5] <= "59" && f[6] <= "59"
  ) {
    const micro = f[7] === undefined ? 0 : Number(f[7].slice(0, 6).padEnd(6, "0"));
    return `${f[1]}-${f[2]}-${f[3]}T${f[4]}:${f[5]}:${f[6]}${micro ? `.${pad(micro, 6)}` : ""}${
      timezone ? "+00:00" : ""
    }`;
  }
  const p = parseIso(text);
  if (!p) return undefined;
  const t = p.time ?? { hour: 0, minute: 0, second: 0, micro: 0 };
  const base = Date.UTC(p.year, p.month - 1, p.day, t.hour, t.minute, t.second);
  const fixedYear = new Date(base);
  fixedYear.setUTCFullYear(p.year);
  return formatUtc(fixedYear.getTime() - (p.offset ?? 0) * 60_000, t.micro, timezone);
}

function fromUnixSeconds(seconds: number, timezone: boolean): string {
  const totalMicro = Math.round(seconds * 1e6);
  const secs = Math.floor(totalMicro / 1e6);
  const year = new Date(secs * 1000).getUTCFullYear();
  if (!Number.isFinite(seconds) || Number.isNaN(year) || year < 1 || year > 9999) {
    throw new RangeError("timestamp out of range");
  }
  return formatUtc(secs * 1000, totalMicro - secs * 1e6, timezone);
}

/** Options of {@linkcode inferDataType}. */
export interface InferOptions {
  /** Enabled detections (`settings.detections`). @default {["iso_timestamp"]} */
  detections?: string[];
}

/**
 * Infers the dlt type of the first non-null value of a column: detections first (ISO
 * timestamps in strings by default; `iso_date` when enabled), then the value's own type.
 *
 * @example
 * ```ts
 * inferDataType("2016-01-04T15:31:51.081Z"); // "timestamp"
 * inferDataType("2016-07-22"); // "text"
 * ```
 */
export function inferDataType(value: unknown, options: InferOptions = {}): DataType {
  const detections = options.detections ?? ["iso_timestamp"];
  if (typeof value === "string" && value) {
    for (const d of detections) {
      if (d === "iso_timestamp" && isIsoTimestamp(value)) return "timestamp";
      if (d === "iso_date") {
        // pendulum's shortest ISO date is `2016-01`; `2016` is a common-format date
        const p = (value.length >= 7 ? parseIso8601(value) : undefined) ?? parseCommon(value);
        if (p && !p.time) return "date";
      }
    }
  }
  return pyTypeOf(value);
}

const PY_INT = /^[+-]?[0-9]+(?:_[0-9]+)*$/;
const PY_FLOAT =
  /^[+-]?(?:(?:[0-9]+(?:_[0-9]+)*)?\.?[0-9]+(?:_[0-9]+)*(?:[eE][+-]?[0-9]+)?|[0-9]+(?:_[0-9]+)*\.(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)$/i;

function toSafe(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n;
}

function numberOf(value: unknown): number {
  if (value instanceof JsonFloat) return value.value;
  return Number(value);
}

/** Python `int(text)`, with dlt's `0x` hex support. */
function textToInt(text: string): number | bigint | undefined {
  const s = text.trim();
  if (/^0x[0-9a-fA-F]+$/.test(s)) return toSafe(BigInt(s));
  if (!PY_INT.test(s)) return undefined;
  return toSafe(BigInt(s.replaceAll("_", "")));
}

/** Python `float(text)`, with dlt's `0x` hex support. */
function textToFloat(text: string): number | undefined {
  const s = text.trim();
  if (/^0x[0-9a-fA-F]+$/.test(s)) return Number(BigInt(s));
  if (!PY_FLOAT.test(s)) return undefined;
  const lower = s.toLowerCase().replace(/^\+/, "");
  if (lower.endsWith("nan")) return NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity")) {
    return lower.startsWith("-") ? -Infinity : Infinity;
  }
  return Number(s.replaceAll("_", ""));
}

/** dlt's `str2bool`. */
function str2bool(text: string): boolean | undefined {
  const v = text.toLowerCase();
  if (["yes", "true", "t", "y", "1"].includes(v)) return true;
  if (["no", "false", "f", "n", "0"].includes(v)) return false;
  return undefined;
}

function base64ToBytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Options of {@linkcode coerceValue}. */
export interface CoerceOptions {
  /** The dlt type of the value. @default {pyTypeOf(value)} */
  from?: DataType;
  /** The column's `timezone` hint; false writes timestamps without offset. @default {true} */
  timezone?: boolean;
}

/**
 * Coerces `value` (of dlt type `from`) into a column of type `to`, as dlt's `coerce_value`:
 * e.g. int → text, `"123"` → bigint, int → double, `3.0` → bigint, text or numbers → bool,
 * ISO text or unix seconds → timestamp, dict/list → text as JSON, JSON text → json. Throws
 * {@linkcode CoercionError} when dlt would create a variant column (`3.7` → bigint, `"abc"` →
 * bigint, a non-ISO string → timestamp, bool → bigint, …).
 *
 * @example
 * ```ts
 * coerceValue("123", "bigint"); // 123
 * coerceValue(new Map([["a", 1]]), "text"); // '{"a":1}'
 * ```
 */
export function coerceValue(value: unknown, to: DataType, options: CoerceOptions = {}): unknown {
  const from = options.from ?? pyTypeOf(value);
  const timezone = options.timezone ?? true;
  const fail = (): never => {
    throw new CoercionError(to, from);
  };
  if (to === from) {
    if (to === "timestamp") {
      if (value instanceof Date) {
        const ms = value.getTime();
        if (Number.isNaN(ms)) fail();
        return formatUtc(ms, ((ms % 1000) + 1000) % 1000 * 1000, timezone);
      }
      return typeof value === "string" ? (isoToUtc(value, timezone) ?? value) : value;
    }
    return value;
  }
  switch (to) {
    case "text":
      if (from === "json") return stringifyJson(value);
      if (from === "bool") return value ? "True" : "False";
      if (from === "double") return pyFloatRepr(numberOf(value));
      if (from === "binary") return fail();
      if (value instanceof Date) {
        const ms = value.getTime();
        return formatUtc(ms, (((ms % 1000) + 1000) % 1000) * 1000, true);
      }
      return String(value);
    case "bigint":
      if (from === "wei" && typeof value === "bigint") return isInt64(value) ? value : fail();
      if (from === "double" || from === "decimal" || from === "wei") {
        const n = numberOf(value);
        if (!Number.isInteger(n)) fail();
        if (Number.isSafeInteger(n)) return n;
        return isInt64(BigInt(n)) ? BigInt(n) : fail();
      }
      if (from === "text") {
        const n = textToInt(value as string);
        return n !== undefined && isInt64(n) ? n : fail();
      }
      return fail();
    case "double":
      if (from === "bigint" || from === "decimal" || from === "wei") return numberOf(value);
      if (from === "text") return textToFloat(value as string) ?? fail();
      return fail();
    case "bool":
      if (from === "text") return str2bool(value as string) ?? fail();
      if (from === "bigint" || from === "double" || from === "decimal" || from === "wei") {
        return numberOf(value) !== 0;
      }
      return fail();
    case "timestamp":
      try {
        if (from === "bigint" || from === "double") {
          return fromUnixSeconds(numberOf(value), timezone);
        }
        if (from === "text") {
          const iso = isoToUtc(value as string, timezone);
          if (iso !== undefined) return iso;
          const n = textToFloat(value as string);
          if (n === undefined) fail();
          return fromUnixSeconds(n!, timezone);
        }
      } catch (e) {
        if (e instanceof CoercionError) throw e;
        fail();
      }
      return fail();
    case "date":
      if (from === "text") {
        const iso = isoToUtc(value as string);
        return iso ? iso.slice(0, 10) : fail();
      }
      if (from === "timestamp") return String(value).slice(0, 10);
      if (from === "bigint" || from === "double") {
        try {
          return fromUnixSeconds(numberOf(value), true).slice(0, 10);
        } catch {
          return fail();
        }
      }
      return fail();
    case "time": {
      if (from !== "text") return fail();
      const t = /^(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?$/.exec((value as string).trim());
      if (!t || Number(t[1]) > 23 || Number(t[2]) > 59 || Number(t[3] ?? 0) > 59) fail();
      const frac = t![4] ? `.${t![4].slice(0, 6).padEnd(6, "0")}` : "";
      return `${t![1]}:${t![2]}:${t![3] ?? "00"}${frac === ".000000" ? "" : frac}`;
    }
    case "decimal":
    case "wei": {
      if (from === "bigint") return String(value);
      if (from === "double" || from === "decimal" || from === "wei") {
        return typeof value === "string" ? value : String(numberOf(value));
      }
      if (from === "text") {
        const s = (value as string).trim();
        if (/^0x[0-9a-fA-F]+$/.test(s)) return BigInt(s).toString();
        if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return s;
      }
      return fail();
    }
    case "json":
      if (from === "text") {
        try {
          return parseJson(value as string);
        } catch {
          return fail();
        }
      }
      return fail();
    case "binary":
      if (from === "text") {
        const s = value as string;
        if (s.startsWith("0x")) {
          if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(s)) fail();
          return Uint8Array.from(s.slice(2).match(/../g) ?? [], (h) => parseInt(h, 16));
        }
        return base64ToBytes(s) ?? fail();
      }
      if (from === "bigint") {
        let n = BigInt(value as number | bigint);
        if (n < 0n) fail();
        const bytes: number[] = [];
        while (n > 0n) {
          bytes.push(Number(n & 0xffn));
          n >>= 8n;
        }
        return Uint8Array.from(bytes);
      }
      return fail();
  }
  return fail();
}
