/**
 * Private helpers of the config loader: where a value came from, how problems are worded, and
 * the coercions from TOML values and env strings to typed values (like dlt, env strings may hold
 * JSON or TOML literals).
 *
 * @module
 */

import { parse } from "smol-toml";
import { envVarOf } from "./config_keys.ts";

/** Where a value came from: a config file (display path), the environment, or a CLI flag. */
export type Origin = { kind: "file"; file: string } | { kind: "env" } | { kind: "flag" };

/** A value found for a key, with the key it was found under and its origin. */
export interface Found {
  value: unknown;
  /** Dotted TOML key the value was found under (may be less specific than asked). */
  key: string;
  origin: Origin;
}

/** Thrown by coercions; the loader turns it into a problem naming key, env var and origin. */
export class Invalid extends Error {}

function originText(origin: Origin): string {
  switch (origin.kind) {
    case "file":
      return ` in "${origin.file}"`;
    case "env":
      return " in the environment";
    case "flag":
      return " in a command-line flag";
  }
}

/**
 * Words one config problem: `Cannot read config "<key>" (env <ENV>) in "<file>": <text>`.
 * `env` overrides the env var named (for CI variables).
 */
export function problemText(key: string, origin: Origin, text: string, env?: string): string {
  if (origin.kind === "flag") {
    return `Cannot read the command-line flag ${flagOf(key)} (config "${key}"): ${text}`;
  }
  return `Cannot read config "${key}" (env ${env ?? envVarOf(key)})${originText(origin)}: ${text}`;
}

/** The CLI flag that sets a config key (`sources.gitlab.concurrency` → `--concurrency`). */
function flagOf(key: string): string {
  if (key === "destination_type") return "--destination";
  return `--${key.split(".").pop()!.replaceAll("_", "-")}`;
}

/** Collects problems so all of them are reported at once. */
export class Problems {
  readonly list: string[] = [];
  /** Runs `fn`; an {@linkcode Invalid} it throws becomes a problem and `undefined` is returned. */
  check<T>(found: Found, fn: (value: unknown) => T, env?: string): T | undefined {
    try {
      return fn(found.value);
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      this.list.push(problemText(found.key, found.origin, e.message, env));
      return undefined;
    }
  }
}

/** `a string`, `a number`, … for a value of the wrong kind. */
export function kindOf(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "number" || typeof value === "bigint") return "a number";
  if (typeof value === "boolean") return "a boolean";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (value === null || value === undefined) return "nothing";
  return "a table";
}

/** A string value quoted (shortened), any other value by its kind. Secrets never shown. */
export function shown(value: unknown, secret = false): string {
  if (typeof value !== "string" || secret) return kindOf(value);
  const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(short);
}

/** Whether a value counts as set: present and not an empty string. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null &&
    !(typeof value === "string" && value.trim() === "");
}

/** Whether a secret counts as set: {@linkcode isSet} and not dlt's `"FILL ME OUT"` placeholder. */
export function isSetSecret(value: unknown): boolean {
  return isSet(value) &&
    !(typeof value === "string" && value.trim().toUpperCase() === "FILL ME OUT");
}

/** A plain table (TOML table or JSON object). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** A string; other kinds are invalid. */
export function asString(value: unknown, secret = false): string {
  if (typeof value === "string") return value.trim();
  throw new Invalid(`expected a string, got ${shown(value, secret)}`);
}

/** An integer within `[min, max]`, from a number or a string of digits. */
export function asInt(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  let n: number | undefined;
  if (typeof value === "number" && Number.isInteger(value)) n = value;
  else if (typeof value === "bigint") n = Number(value);
  else if (typeof value === "string" && /^[+-]?\d+$/.test(value.trim())) n = Number(value.trim());
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  if (n === undefined) {
    const got = typeof value === "number" ? String(value) : shown(value);
    throw new Invalid(`expected an integer ${range}, got ${got}`);
  }
  if (n < min || n > max) throw new Invalid(`expected an integer ${range}, got ${n}`);
  return n;
}

/** One of `allowed`, matched case-insensitively, returned as spelled in `allowed`. */
export function asChoice<T extends string>(
  value: unknown,
  allowed: readonly T[],
  suggest: (word: string) => string | undefined,
): T {
  const s = asString(value);
  const hit = allowed.find((a) => a.toLowerCase() === s.toLowerCase());
  if (hit) return hit;
  const list = allowed.map((a) => `"${a}"`).join(", ");
  const hint = suggest(s);
  throw new Invalid(
    `expected one of ${list}, got ${shown(s)}${hint ? ` (did you mean "${hint}"?)` : ""}`,
  );
}

/** An http(s) URL; surrounding space and trailing slashes removed. */
export function asHttpUrl(value: unknown): string {
  const s = asString(value).replace(/\/+$/, "");
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    throw new Invalid(
      `expected an http(s) URL like "https://gitlab.example.com/api/v4", got ${shown(value)}`,
    );
  }
  return s;
}

function parseListLiteral(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: try a TOML array, e.g. ['a', 'b']
  }
  try {
    return parse(`v = ${text}`).v;
  } catch {
    return undefined;
  }
}

/**
 * A list of ids or paths, as strings: a list of strings/integers, or a string holding a
 * JSON/TOML array (`["a", 42]`) or comma-separated items (`a, b`).
 */
export function asIdList(value: unknown, what: string): string[] {
  let items = value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("[")) {
      items = parseListLiteral(text);
      if (!Array.isArray(items)) {
        throw new Invalid(
          `expected a list of ${what} like ["group/project", 42], got ${shown(value)}`,
        );
      }
    } else {
      items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    }
  }
  if (!Array.isArray(items)) {
    throw new Invalid(`expected a list of ${what}, got ${kindOf(value)}`);
  }
  return items.map((item) => {
    if (typeof item === "string" && item.trim() !== "") return item.trim();
    if (typeof item === "number" && Number.isInteger(item) && item >= 0) return String(item);
    if (typeof item === "bigint") return String(item);
    const got = typeof item === "number" ? String(item) : shown(item);
    throw new Invalid(`expected a list of ${what}, got a list containing ${got}`);
  });
}
