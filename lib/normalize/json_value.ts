/**
 * The JSON value model of the normalizer and a parser that keeps what Python's `json.loads`
 * keeps and `JSON.parse` loses: object key order exactly as written (objects become `Map`s,
 * so keys like `"2021"` do not jump to the front), integers beyond 2^53 exactly (`bigint`) and
 * float literals with an integral value (`1.0` → {@linkcode JsonFloat}, a double, not an
 * integer). Plus the serializer dlt uses for JSON values (orjson-like compact output).
 *
 * @module
 */

import {
  formatJsonFloat,
  JsonFloat,
  mayHaveIndexKey,
  mayHaveLossyNumber,
} from "../common/lossless_json.ts";

export { JsonFloat };

/** A JSON object with its keys in source order. */
export type JsonObject = Map<string, JsonValue>;

/** A parsed JSON value. */
export type JsonValue =
  | null
  | boolean
  | string
  | number
  | bigint
  | JsonFloat
  | JsonValue[]
  | JsonObject;

/**
 * Whether `value` is a dict for the normalizer: a `Map` or a plain object (records built in
 * code rather than parsed).
 *
 * @example
 * ```ts
 * isDict(new Map()); // true
 * isDict([]); // false
 * ```
 */
export function isDict(value: unknown): value is Map<string, unknown> | Record<string, unknown> {
  if (value instanceof Map) return true;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Entries of a dict ({@linkcode isDict}) in order.
 *
 * @example
 * ```ts
 * [...dictEntries({ a: 1 })]; // [["a", 1]]
 * ```
 */
export function dictEntries(
  dict: Map<string, unknown> | Record<string, unknown>,
): Iterable<[string, unknown]> {
  return dict instanceof Map ? dict.entries() : Object.entries(dict);
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Parser {
  readonly text: string;
  pos = 0;
  constructor(text: string) {
    this.text = text;
  }

  fail(what: string): never {
    throw new SyntaxError(`Cannot parse JSON: ${what} at position ${this.pos}`);
  }

  ws(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = t.charCodeAt(++this.pos);
  }

  value(): JsonValue {
    this.ws();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 123: // {
        return this.object();
      case 91: // [
        return this.array();
      case 34: // "
        return this.string();
      case 116: // t
        return this.literal("true", true);
      case 102: // f
        return this.literal("false", false);
      case 110: // n
        return this.literal("null", null);
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.number();
        return this.fail(Number.isNaN(c) ? "unexpected end" : "unexpected character");
    }
  }

  literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail("invalid literal");
    this.pos += word.length;
    return value;
  }

  number(): number | bigint | JsonFloat {
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.text);
    if (!m) return this.fail("invalid number");
    this.pos = NUMBER_RE.lastIndex;
    const value = Number(m[0]);
    if (m[1] !== undefined || m[2] !== undefined) {
      return Number.isInteger(value) ? new JsonFloat(value) : value;
    }
    return Number.isSafeInteger(value) ? value : BigInt(m[0]);
  }

  string(): string {
    const t = this.text;
    const start = ++this.pos;
    const end = t.indexOf('"', start);
    if (end < 0) this.fail("unterminated string");
    const slash = t.indexOf("\\", start);
    if (slash < 0 || slash > end) {
      this.pos = end + 1;
      return t.slice(start, end);
    }
    let out = "";
    let i = start;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) this.fail("unterminated string");
      if (c === 34) break;
      if (c === 92) {
        const e = t[i + 1];
        switch (e) {
          case '"':
          case "\\":
          case "/":
            out += e;
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "\t";
            break;
          case "u": {
            const hex = t.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = i;
              this.fail("invalid unicode escape");
            }
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            this.pos = i;
            this.fail("invalid escape");
        }
        i += 2;
        continue;
      }
      let j = i;
      while (j < t.length) {
        const d = t.charCodeAt(j);
        if (d === 34 || d === 92) break;
        j++;
      }
      out += t.slice(i, j);
      i = j;
    }
    this.pos = i + 1;
    return out;
  }

  array(): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 93) return out;
      if (c !== 44) this.fail("expected ',' or ']'");
    }
  }

  object(): JsonObject {
    this.pos++;
    const out: JsonObject = new Map();
    this.ws();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text.charCodeAt(this.pos) !== 34) this.fail("expected a key");
      const key = this.string();
      this.ws();
      if (this.text.charCodeAt(this.pos++) !== 58) this.fail("expected ':'");
      out.set(key, this.value());
      this.ws();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 125) return out;
      if (c !== 44) this.fail("expected ',' or '}'");
    }
  }
}

/**
 * Parses one JSON text into the normalizer's value model (see the module doc).
 *
 * @example
 * ```ts
 * const v = parseJson('{"b": 1.0, "2": 9007199254740993}') as Map<string, unknown>;
 * [...v.keys()]; // ["b", "2"]
 * v.get("2"); // 9007199254740993n
 * ```
 */
export function parseJson(text: string): JsonValue {
  const p = new Parser(text);
  const value = p.value();
  p.ws();
  if (p.pos < text.length) p.fail("unexpected data after the value");
  return value;
}

/**
 * Parses one extracted record line for the normalizer: {@linkcode parseJson}'s values, but
 * through the several times faster `JSON.parse` when that gives the same values, i.e. when no
 * number would change and no key is integer-like (V8 moves those first). Objects are then
 * plain objects instead of `Map`s; the normalizer takes both as dicts ({@linkcode isDict},
 * {@linkcode dictEntries}).
 *
 * @example
 * ```ts
 * parseRecord('{"b": 1, "a": 2}'); // { b: 1, a: 2 }
 * parseRecord('{"b": 1, "2": 2}') instanceof Map; // true (key order kept)
 * ```
 */
export function parseRecord(text: string): unknown {
  return isPlainJsonText(text) ? JSON.parse(text) : parseJson(text);
}

/**
 * Whether plain `JSON.parse` reads `text` exactly: no number it would change, no integer-like
 * key it would move first (false may also mean only that one looks possible).
 *
 * @example
 * ```ts
 * isPlainJsonText('{"b": 1, "a": 2}'); // true
 * isPlainJsonText('{"a": 1.0}'); // false
 * ```
 */
export function isPlainJsonText(text: string): boolean {
  return !mayHaveIndexKey(text) && !mayHaveLossyNumber(text);
}

/**
 * Formats a double like Python's `repr(float)`: `1.0`, `1e+16`, `1e-05`, `nan`, `inf`.
 *
 * @example
 * ```ts
 * pyFloatRepr(1); // "1.0"
 * pyFloatRepr(1e16); // "1e+16"
 * ```
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = String(x);
  return s.includes(".") ? s : `${s}.0`;
}

/** Options of {@linkcode stringifyJson}. */
export interface StringifyJsonOptions {
  /** Sort object keys (like `sort_keys=True`). @default {false} */
  sortKeys?: boolean;
  /** Applied to every string before it is escaped (e.g. NUL replacement). @default {undefined} */
  mapString?: (s: string) => string;
}

/**
 * Serializes a value like dlt's `json.dumps` (orjson): compact, key order kept, non-ASCII
 * not escaped, `bigint` exact, {@linkcode JsonFloat} as `1.0`.
 *
 * @example
 * ```ts
 * stringifyJson(new Map([["a", [1, new JsonFloat(2)]]])); // '{"a":[1,2.0]}'
 * ```
 */
export function stringifyJson(value: unknown, options: StringifyJsonOptions = {}): string {
  const parts: string[] = [];
  write(value, parts, options);
  return parts.join("");
}

function write(value: unknown, out: string[], options: StringifyJsonOptions): void {
  if (value === null || value === undefined) {
    out.push("null");
  } else if (typeof value === "string") {
    out.push(JSON.stringify(options.mapString ? options.mapString(value) : value));
  } else if (typeof value === "number") {
    out.push(
      Number.isFinite(value)
        ? (Number.isInteger(value) ? String(value) : formatJsonFloat(value))
        : "null",
    );
  } else if (typeof value === "bigint") {
    out.push(value.toString());
  } else if (typeof value === "boolean") {
    out.push(value ? "true" : "false");
  } else if (value instanceof JsonFloat) {
    out.push(formatJsonFloat(value.value));
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((v, i) => {
      if (i) out.push(",");
      write(v, out, options);
    });
    out.push("]");
  } else if (isDict(value)) {
    let entries = [...dictEntries(value)];
    if (options.sortKeys) entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out.push("{");
    entries.forEach(([k, v], i) => {
      if (i) out.push(",");
      out.push(JSON.stringify(options.mapString ? options.mapString(k) : k), ":");
      write(v, out, options);
    });
    out.push("}");
  } else if (value instanceof Date) {
    out.push(JSON.stringify(value.toISOString()));
  } else {
    out.push(JSON.stringify(String(value)));
  }
}
