/**
 * A small YAML emitter that writes what PyYAML's `yaml.dump(data, allow_unicode=True,
 * default_flow_style=False, sort_keys=False)` writes for JSON-like data: block style,
 * insertion order, sequences indentless under mapping keys, `{}`/`[]` for empty collections,
 * YAML 1.1 aware quoting (`'yes'`, `''`, `'123'`), plain and single-quoted scalars folded at
 * spaces past column 80, double-quoted ones (control characters, U+2028…) escaped and folded with
 * `\` like PyYAML's, keys that are empty, multi-line or 128 characters long as `? key`.
 *
 * @module
 */

import { isMapping } from "../common/json.ts";

const BEST_WIDTH = 80;
const INDENT = 2;
const BREAKS = "\n\x85\u2028\u2029";
const WS = "\0 \t\r\n\x85\u2028\u2029";

// PyYAML's implicit resolvers (YAML 1.1): a plain scalar matching one is not a string
const IMPLICIT = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:<<)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:=)$/,
];

const ESCAPES: Record<string, string> = {
  "\0": "0",
  "\x07": "a",
  "\b": "b",
  "\t": "t",
  "\n": "n",
  "\v": "v",
  "\f": "f",
  "\r": "r",
  "\x1b": "e",
  '"': '"',
  "\\": "\\",
  "\x85": "N",
  "\xa0": "_",
  "\u2028": "L",
  "\u2029": "P",
};

/** Characters a double-quoted scalar always escapes (besides the unprintable ones). */
const DOUBLE_QUOTED_ESCAPED = '"\\\x85\u2028\u2029\uFEFF';

/** Length in code points, as Python counts a string. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Written as is in a double-quoted scalar with `allow_unicode` (PyYAML's test). */
function isUnicodePrintable(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd);
}

/** A character's escape in a double-quoted scalar. */
function escapeChar(ch: string): string {
  if (ESCAPES[ch] !== undefined) return "\\" + ESCAPES[ch];
  const c = ch.codePointAt(0)!;
  const hex = c.toString(16).toUpperCase();
  return c <= 0xff
    ? "\\x" + hex.padStart(2, "0")
    : c <= 0xffff
    ? "\\u" + hex.padStart(4, "0")
    : "\\U" + hex.padStart(8, "0");
}

interface Analysis {
  multiline: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

function isPrintable(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (ch === "\n" || (c >= 0x20 && c <= 0x7e)) return true;
  return (c === 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c < 0x10ffff)) && c !== 0xfeff;
}

function analyze(s: string): Analysis {
  if (!s) return { multiline: false, allowBlockPlain: true, allowSingleQuoted: true };
  const chars = Array.from(s);
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false;
  let breakSpace = false, spaceBreak = false, previousSpace = false, previousBreak = false;
  if (s.startsWith("---") || s.startsWith("...")) blockIndicators = true;
  let precededByWs = true;
  let followedByWs = chars.length === 1 || WS.includes(chars[1]);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(ch)) blockIndicators = true;
      if ("?:".includes(ch) && followedByWs) blockIndicators = true;
      if (ch === "-" && followedByWs) blockIndicators = true;
    } else {
      if (ch === ":" && followedByWs) blockIndicators = true;
      if (ch === "#" && precededByWs) blockIndicators = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    if (!isPrintable(ch)) special = true;
    if (ch === " ") {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWs = WS.includes(ch);
    followedByWs = i + 2 >= chars.length || WS.includes(chars[i + 2]);
  }
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowBlockPlain = false;
  if (breakSpace) allowBlockPlain = allowSingleQuoted = false;
  if (spaceBreak || special) allowBlockPlain = allowSingleQuoted = false;
  if (lineBreaks) allowBlockPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return { multiline: lineBreaks, allowBlockPlain, allowSingleQuoted };
}

/** Writes PyYAML-style block YAML, tracking the column like PyYAML's emitter. */
class Writer {
  out: string[] = [];
  column = 0;
  whitespace = true;
  indention = true;
  indent = 0;

  write(s: string): void {
    this.out.push(s);
    this.column += codePoints(s);
  }

  lineBreak(): void {
    this.out.push("\n");
    this.column = 0;
    this.whitespace = true;
    this.indention = true;
  }

  writeIndent(): void {
    if (
      !this.indention || this.column > this.indent ||
      (this.column === this.indent && !this.whitespace)
    ) {
      this.lineBreak();
    }
    if (this.column < this.indent) {
      this.whitespace = true;
      this.out.push(" ".repeat(this.indent - this.column));
      this.column = this.indent;
    }
  }

  indicator(s: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    const data = this.whitespace || !needWhitespace ? s : " " + s;
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.out.push(data);
    this.column += data.length;
  }

  plain(text: string, split = true): void {
    if (!text) return;
    if (!this.whitespace) this.write(" ");
    this.whitespace = false;
    this.indention = false;
    const chars = Array.from(text);
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : undefined;
      if (spaces) {
        if (ch !== " ") {
          if (split && start + 1 === end && this.column > BEST_WIDTH) {
            this.writeIndent();
            this.whitespace = false;
            this.indention = false;
          } else {
            this.write(chars.slice(start, end).join(""));
          }
          start = end;
        }
      } else if (ch === undefined || ch === " ") {
        this.write(chars.slice(start, end).join(""));
        start = end;
      }
      if (ch !== undefined) spaces = ch === " ";
    }
  }

  singleQuoted(text: string, split: boolean): void {
    this.indicator("'", true);
    const chars = Array.from(text);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : undefined;
      if (spaces) {
        if (ch !== " ") {
          if (
            split && start + 1 === end && this.column > BEST_WIDTH && start !== 0 &&
            end !== chars.length
          ) {
            this.writeIndent();
          } else {
            this.write(chars.slice(start, end).join(""));
          }
          start = end;
        }
      } else if (breaks) {
        if (ch === undefined || !BREAKS.includes(ch)) {
          if (chars[start] === "\n") this.lineBreak();
          for (const br of chars.slice(start, end)) {
            if (br === "\n") this.lineBreak();
            else {
              this.out.push(br);
              this.column = 0;
              this.whitespace = true;
              this.indention = true;
            }
          }
          this.writeIndent();
          start = end;
        }
      } else if (ch === undefined || ch === " " || BREAKS.includes(ch) || ch === "'") {
        if (start < end) {
          this.write(chars.slice(start, end).join(""));
          start = end;
        }
      }
      if (ch === "'") {
        this.write("''");
        start = end + 1;
      }
      if (ch !== undefined) {
        spaces = ch === " ";
        breaks = BREAKS.includes(ch);
      }
    }
    this.indicator("'", false);
  }

  /** PyYAML's `write_double_quoted`: escapes, and folding with `\` past column 80. */
  doubleQuoted(text: string, split: boolean): void {
    this.indicator('"', true);
    const chars = Array.from(text);
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end] : undefined;
      if (ch === undefined || DOUBLE_QUOTED_ESCAPED.includes(ch) || !isUnicodePrintable(ch)) {
        if (start < end) {
          this.write(chars.slice(start, end).join(""));
          start = end;
        }
        if (ch !== undefined) {
          this.write(escapeChar(ch));
          start = end + 1;
        }
      }
      if (
        split && end > 0 && end < chars.length - 1 && (ch === " " || start >= end) &&
        this.column + (end - start) > BEST_WIDTH
      ) {
        const data = chars.slice(start, end).join("") + "\\";
        if (start < end) start = end;
        this.write(data);
        this.writeIndent();
        this.whitespace = false;
        this.indention = false;
        if (chars[start] === " ") this.write("\\");
      }
    }
    this.indicator('"', false);
  }

  scalar(text: string, isKey: boolean): void {
    const implicit = !IMPLICIT.some((re) => re.test(text));
    const a = analyze(text);
    const simpleKeyMultiline = isKey && a.multiline;
    if (implicit && !(isKey && (!text || a.multiline)) && a.allowBlockPlain) {
      this.plain(text, !isKey);
    } else if (a.allowSingleQuoted && !simpleKeyMultiline) {
      this.singleQuoted(text, !isKey);
    } else {
      this.doubleQuoted(text, !isKey);
    }
  }
}

function scalarText(value: unknown): string | undefined {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return undefined;
}

function entriesOf(v: Record<string, unknown>): [string, unknown][] {
  return Object.entries(v).filter(([, x]) => x !== undefined);
}

function isNonEmptyCollection(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : isMapping(v) && entriesOf(v).length > 0;
}

/** A scalar or an empty collection; `indent` is that of the enclosing collection. */
function emitLeaf(w: Writer, value: unknown, indent: number, isKey: boolean): void {
  if (Array.isArray(value)) {
    w.indicator("[", true, true);
    w.indicator("]", false);
    return;
  }
  if (isMapping(value)) {
    w.indicator("{", true, true);
    w.indicator("}", false);
    return;
  }
  w.indent = indent + INDENT;
  const text = scalarText(value);
  if (text !== undefined) w.plain(text);
  else w.scalar(String(value), isKey);
  w.indent = indent;
}

/**
 * PyYAML's `check_simple_key` for a string key: not empty, one line, and under 128 characters
 * with its `!!str` tag counted (5), though the tag is not written.
 */
function isSimpleKey(key: string): boolean {
  return key !== "" && codePoints(key) + 5 < 128 &&
    !Array.from(key).some((ch) => BREAKS.includes(ch));
}

function emitMapping(w: Writer, value: Record<string, unknown>, indent: number): void {
  for (const [k, v] of entriesOf(value)) {
    w.indent = indent;
    w.writeIndent();
    if (isSimpleKey(k)) {
      emitLeaf(w, k, indent, true);
      w.indicator(":", false);
      // a sequence under a simple key is indentless
      emitNode(w, v, indent, indent);
    } else {
      // a complex key: `? key` then `: value` on the next line
      w.indicator("?", true, false, true);
      emitLeaf(w, k, indent, false);
      w.indent = indent;
      w.writeIndent();
      w.indicator(":", true, false, true);
      emitNode(w, v, indent, indent + INDENT);
    }
  }
  w.indent = indent;
}

function emitSequence(w: Writer, items: unknown[], indent: number): void {
  for (const item of items) {
    w.indent = indent;
    w.writeIndent();
    w.indicator("-", true, false, true);
    emitNode(w, item, indent, indent + INDENT);
  }
  w.indent = indent;
}

/**
 * A value under a key or a `-` of the collection at `indent`: a block sequence at
 * `sequenceIndent`, a block mapping one level in, or a scalar (or `[]`/`{}`).
 */
function emitNode(w: Writer, value: unknown, indent: number, sequenceIndent: number): void {
  if (Array.isArray(value) && value.length > 0) emitSequence(w, value, sequenceIndent);
  else if (isNonEmptyCollection(value)) {
    emitMapping(w, value as Record<string, unknown>, indent + INDENT);
  } else emitLeaf(w, value, indent, false);
}

/**
 * Dumps JSON-like data (objects, arrays, strings, numbers, booleans, null) like PyYAML's
 * `yaml.dump(data, allow_unicode=True, default_flow_style=False, sort_keys=False)`.
 *
 * @example
 * ```ts
 * dumpYaml({ a: [1, 2] }); // "a:\n- 1\n- 2\n"
 * ```
 */
export function dumpYaml(data: unknown): string {
  const w = new Writer();
  if (Array.isArray(data) && data.length > 0) emitSequence(w, data, 0);
  else if (isNonEmptyCollection(data)) emitMapping(w, data as Record<string, unknown>, 0);
  else emitLeaf(w, data, 0, false);
  w.lineBreak();
  return w.out.join("");
}
