/**
 * Phase 1 of reading a catalog: parse the YAML text keeping every node's position, and turn
 * positions into {@linkcode CatalogProblem}s that print like a compiler's.
 *
 * @module
 */

import { type Document, isScalar, LineCounter, type Node, parseDocument, Scalar } from "yaml";
import type { CatalogProblem } from "../common/errors.ts";
import { redact } from "../common/redact.ts";

/** A parsed catalog file: the YAML document with positions, and the text it came from. */
export interface CatalogSource {
  /** File name used in problems. */
  file: string;
  /** The whole text. */
  text: string;
  /** The YAML document (nodes carry `range` offsets into `text`). */
  document: Document.Parsed;
  /** Maps offsets to 1-based lines and columns. */
  lineCounter: LineCounter;
}

/** Options of {@linkcode readCatalogSource}. */
export interface ReadCatalogSourceOptions {
  /**
   * File name shown in problems.
   * @default {"<catalog>"}
   */
  file?: string;
}

/** What {@linkcode readCatalogSource} returns: the source, and its YAML syntax problems. */
export interface ReadCatalogSourceResult {
  source: CatalogSource;
  /** YAML syntax errors, in file order. When not empty, the document is not to be trusted. */
  problems: CatalogProblem[];
}

/**
 * Parses catalog YAML text keeping positions. Syntax errors come back as problems (all of them),
 * never thrown.
 *
 * @example
 * ```ts
 * const { source, problems } = readCatalogSource("client: {}\nresources: [a]\n", {
 *   file: "gitlab.yaml",
 * });
 * problems.length; // 0
 * source.document.toJS(); // { client: {}, resources: ["a"] }
 * ```
 */
export function readCatalogSource(
  text: string,
  options: ReadCatalogSourceOptions = {},
): ReadCatalogSourceResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, merge: false });
  const source: CatalogSource = { file: options.file ?? "<catalog>", text, document, lineCounter };
  // an error at the end of the file (an unclosed bracket or quote) is told on the last line
  // with text, just after its last character, not on the empty line after it
  const end = text.trimEnd().length;
  const problems = document.errors.map((error) =>
    problemAt(
      source,
      // the YAML library's own advice (`YAML.parseAllDocuments()`) is for its callers, not ours
      error.code === "MULTIPLE_DOCS"
        ? "Cannot parse YAML: a second document starts here (`---`); a catalog is one document"
        : `Cannot parse YAML: ${lowerFirst(error.message)}`,
      { offset: error.pos[0] >= end ? end : error.pos[0] },
    )
  );
  return { source, problems };
}

/** Options of {@linkcode problemAt}: where the problem is. */
export interface ProblemAtOptions {
  /**
   * The node the problem is about (its first character).
   * @default {undefined (the start of the file, unless `offset` is given)}
   */
  node?: Node | null;
  /**
   * With `node`, text inside a one-line scalar to point at instead (a `{placeholder}`).
   * @default {undefined}
   */
  needle?: string;
  /**
   * An offset of the text, used when there is no `node`.
   * @default {0}
   */
  offset?: number;
}

/**
 * A problem of a catalog at a node or offset: file, 1-based line and column, message, and the
 * source line (secret values masked).
 *
 * @example
 * ```ts
 * const { source } = readCatalogSource("path: a/{id}\n", { file: "x.yaml" });
 * const node = source.document.get("path", true) as Node;
 * problemAt(source, "Cannot read catalog: unbound", { node, needle: "{id}" });
 * // { file: "x.yaml", line: 1, col: 9, message: "Cannot read catalog: unbound", sourceLine: "path: a/{id}" }
 * ```
 */
export function problemAt(
  source: CatalogSource,
  message: string,
  options: ProblemAtOptions = {},
): CatalogProblem {
  const at = options.node ? nodeOffset(source, options.node, options.needle) : options.offset ?? 0;
  const { line, col } = source.lineCounter.linePos(Math.max(0, Math.min(at, source.text.length)));
  const lineText = source.text.split("\n")[line - 1] ?? "";
  return { file: source.file, line, col, message, sourceLine: maskSecretLine(lineText) };
}

/** Offset of a node's first character, or of `needle` inside a one-line scalar. */
function nodeOffset(source: CatalogSource, node: Node, needle?: string): number {
  const start = node.range?.[0] ?? 0;
  if (needle === undefined || !isScalar(node) || typeof node.value !== "string") return start;
  const index = node.value.indexOf(needle);
  if (index < 0) return start;
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
  const offset = start + (quoted ? 1 : 0) + index;
  return source.text.slice(offset, offset + needle.length) === needle ? offset : start;
}

const SECRET_KEY_LINE = /^(\s*(?:-\s+)?["']?(?:api_key|token|password)["']?\s*:\s*)(\S.*)$/;

/** A source line with the value of a secret key (`api_key`, `token`, `password`) masked. */
function maskSecretLine(line: string): string {
  const masked = line.replace(
    SECRET_KEY_LINE,
    (_, key: string, value: string) =>
      /^["']?FILL_ME_IN["']?/.test(value) ? key + value : `${key}***`,
  );
  return redact(masked);
}

function lowerFirst(text: string): string {
  const clean = text.replace(/\.\s*$/, "");
  return /^[A-Z][a-z]/.test(clean) ? clean[0].toLowerCase() + clean.slice(1) : clean;
}
