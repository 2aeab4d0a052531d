/**
 * The JSONPath subset the catalog uses (jsonpath-ng syntax as dlt accepts it): `$`, dotted
 * names (`data.items`, `$.data.items`), quoted keys (`['@odata.nextLink']`), indexes (`[0]`)
 * and wildcards (`[*]`, `.*`).
 *
 * @module
 */

import { UserError } from "./errors.ts";
import { isMapping, type Json } from "./json.ts";

type Step = { kind: "key"; key: string } | { kind: "index"; index: number } | {
  kind: "wildcard";
};

const cache = new Map<string, Step[]>();

function fail(path: string, what: string): never {
  throw new UserError(`Cannot parse JSONPath "${path}": ${what}`);
}

/**
 * Parses a JSONPath of the supported subset into steps (cached).
 *
 * @example
 * ```ts
 * compileJsonPath("$.data['items'][*]").length; // 3
 * ```
 */
export function compileJsonPath(path: string): Step[] {
  const cached = cache.get(path);
  if (cached) return cached;
  const steps: Step[] = [];
  const s = path.trim();
  let i = 0;
  if (s[0] === "$") i = 1;
  else if (s.length > 0 && s[0] !== "[") i = readName(0);
  while (i < s.length) {
    const c = s[i];
    if (c === ".") {
      if (s[i + 1] === ".") fail(path, "recursive descent '..' is not supported");
      if (s[i + 1] === "*") {
        steps.push({ kind: "wildcard" });
        i += 2;
      } else {
        i = readName(i + 1);
      }
    } else if (c === "[") {
      const close = findClose(i);
      const inner = s.slice(i + 1, close).trim();
      if (inner === "*") steps.push({ kind: "wildcard" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'.*'$|^".*"$/s.test(inner)) steps.push({ kind: "key", key: inner.slice(1, -1) });
      else fail(path, `unsupported selector "[${inner}]", use a quoted key, an index or *`);
      i = close + 1;
    } else {
      fail(path, `unexpected "${c}" at position ${i + 1}`);
    }
  }
  cache.set(path, steps);
  return steps;

  function readName(start: number): number {
    let end = start;
    while (end < s.length && s[end] !== "." && s[end] !== "[") end++;
    const name = s.slice(start, end).trim();
    if (name === "") fail(path, `empty name at position ${start + 1}`);
    steps.push(name === "*" ? { kind: "wildcard" } : { kind: "key", key: name });
    return end;
  }

  function findClose(open: number): number {
    let quote = "";
    for (let j = open + 1; j < s.length; j++) {
      const ch = s[j];
      if (quote) {
        if (ch === quote) quote = "";
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "]") return j;
    }
    return fail(path, `missing "]" after position ${open + 1}`);
  }
}

/**
 * Every value `path` matches in `doc`, in document order (like jsonpath-ng's `find`).
 *
 * @example
 * ```ts
 * findValues("data[*].id", { data: [{ id: 1 }, { id: 2 }] }); // [1, 2]
 * ```
 */
export function findValues(path: string, doc: Json): Json[] {
  let nodes: Json[] = [doc];
  for (const step of compileJsonPath(path)) {
    const next: Json[] = [];
    for (const node of nodes) {
      if (step.kind === "key") {
        if (isMapping(node) && Object.hasOwn(node, step.key)) next.push(node[step.key]);
      } else if (step.kind === "index") {
        if (Array.isArray(node)) {
          const idx = step.index < 0 ? node.length + step.index : step.index;
          if (idx >= 0 && idx < node.length) next.push(node[idx]);
        }
      } else if (Array.isArray(node)) next.push(...node);
      else if (isMapping(node)) next.push(...Object.values(node));
    }
    nodes = next;
  }
  return nodes;
}

/**
 * Sets `value` at a dotted path inside a JSON object, creating objects on the way; returns a
 * copy (the input is not changed). Used by paginators that put values into a request body.
 *
 * @example
 * ```ts
 * setAtPath({ a: 1 }, "page.cursor", "x"); // { a: 1, page: { cursor: "x" } }
 * ```
 */
export function setAtPath(doc: Json | undefined, path: string, value: Json): Json {
  const keys = compileJsonPath(path).map((s) => {
    if (s.kind !== "key") fail(path, "only names can be set in a request body");
    return s.key;
  });
  const root: { [key: string]: Json } = isMapping(doc) ? structuredClone(doc) : {};
  let node = root;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      node[key] = value;
    } else {
      const child = node[key];
      if (!isMapping(child)) node[key] = {};
      node = node[key] as { [key: string]: Json };
    }
  });
  return root;
}
