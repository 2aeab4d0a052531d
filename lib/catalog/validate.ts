/**
 * Phase 2 of reading a catalog: a small typed schema language and the validator that checks YAML
 * nodes against it, collecting every problem with its position. Components are described in
 * `schema.ts`; this file knows nothing about GitLab or dlt.
 *
 * @module
 */

import { isAlias, isMap, isPair, isScalar, isSeq, type Node, Scalar } from "yaml";
import type { CatalogProblem } from "../common/errors.ts";
import { didYouMean, quoteList } from "../common/did_you_mean.ts";
import { type CatalogSource, problemAt } from "./read.ts";

/** The value left by dlt-init-openapi where the user must fill something in. */
export const FILL_ME_IN = "FILL_ME_IN";

/** A string, optionally one of a fixed set. */
export interface StringSchema {
  kind: "string";
  enum?: readonly string[];
  /** dlt values that gitlab-pg does not implement → why (reported as "not supported"). */
  unsupported?: Readonly<Record<string, string>>;
  /** Why the value cannot be used (e.g. a JSONPath that does not parse), or undefined. */
  check?: (value: string) => string | undefined;
}
/** A whole number, optionally with a minimum. */
export interface IntegerSchema {
  kind: "integer";
  min?: number;
}
/** Any number. */
export interface NumberSchema {
  kind: "number";
}
/** `true` or `false`. */
export interface BooleanSchema {
  kind: "boolean";
}
/** YAML `null` (or an empty value). */
export interface NullSchema {
  kind: "null";
}
/** Any value, taken as is (only `FILL_ME_IN` strings inside are reported). */
export interface JsonSchema {
  kind: "json";
}
/** A map with a fixed set of keys; unknown keys are problems. */
export interface ObjectSchema {
  kind: "object";
  fields: Record<string, Schema>;
  required?: readonly string[];
  /** dlt keys that gitlab-pg does not implement: reported as "not supported", not "unknown". */
  unsupported?: readonly string[];
  /** Why an {@linkcode ObjectSchema.unsupported} key is not supported (and what to do). */
  why?: Readonly<Record<string, string>>;
  /** Extra keys allowed by pattern (e.g. `x-` column hints), validated with `extraValue`. */
  extraKey?: RegExp;
  extraValue?: Schema;
}
/** A map with any keys, every value of one schema. */
export interface MapSchema {
  kind: "map";
  values: Schema;
}
/** A list, every item of one schema. */
export interface ListSchema {
  kind: "list";
  items: Schema;
}
/** One of several shapes, chosen by the node's shape; `expected` describes them for messages. */
export interface ChoiceSchema {
  kind: "choice";
  expected: string;
  string?: Schema;
  number?: Schema;
  boolean?: Schema;
  null?: Schema;
  map?: Schema;
  list?: Schema;
}
/** A map whose `tag` key selects the object schema of the rest. */
export interface TaggedSchema {
  kind: "tagged";
  tag: string;
  variants: Record<string, ObjectSchema>;
  /** Variant used when the tag key is absent; without it the tag is required. */
  defaultVariant?: string;
  /** dlt variants that gitlab-pg does not implement. */
  unsupported?: readonly string[];
}

/**
 * A schema of one catalog component.
 *
 * @example
 * ```ts
 * const method: Schema = { kind: "string", enum: ["GET", "POST"] };
 * ```
 */
export type Schema =
  | StringSchema
  | IntegerSchema
  | NumberSchema
  | BooleanSchema
  | NullSchema
  | JsonSchema
  | ObjectSchema
  | MapSchema
  | ListSchema
  | ChoiceSchema
  | TaggedSchema;

/** A path into the document: map keys and list indices. */
export type NodePath = readonly (string | number)[];

/** How messages are worded for a path: `Cannot read resource "issues"` + `endpoint.params`. */
export interface Describe {
  (path: NodePath): { prefix: string; subject: string };
}

/** Marks a value that failed validation (its problems are already reported). */
export const INVALID: unique symbol = Symbol("invalid");

/**
 * One validation run: checks nodes against schemas, keeps every problem (with its position),
 * every node and every valid value by path.
 *
 * @example
 * ```ts
 * const { source } = readCatalogSource("selected: yes\n");
 * const validation = new Validation(source, () => ({ prefix: "Cannot read catalog", subject: "" }));
 * validation.check(source.document.contents, [], {
 *   kind: "object",
 *   fields: { selected: { kind: "boolean" } },
 * });
 * validation.problems[0].message; // 'Cannot read catalog: must be true or false, not "yes"'
 * ```
 */
export class Validation {
  /** Problems found so far (unsorted). */
  readonly problems: CatalogProblem[] = [];
  /** Every validated node, by {@linkcode pathKey}. */
  readonly nodes: Map<string, Node> = new Map();
  readonly #values: Map<string, unknown> = new Map();
  readonly #source: CatalogSource;
  readonly #describe: Describe;

  constructor(source: CatalogSource, describe: Describe) {
    this.#source = source;
    this.#describe = describe;
  }

  /** Reports a problem at `node`; `what` follows the prefix, `{subject}` is replaced. */
  report(node: Node | null | undefined, path: NodePath, what: string, needle?: string): void {
    const { prefix, subject } = this.#describe(path);
    const text = what
      .replace("{subject}", subject ? `"${subject}" ` : "")
      .replace("{subject:}", subject ? `"${subject}": ` : "");
    this.problems.push(problemAt(this.#source, `${prefix}: ${text}`, { node, needle }));
  }

  /** Validates `node` at `path` against `schema`; returns the plain value or {@linkcode INVALID}. */
  check(node: Node | null | undefined, path: NodePath, schema: Schema): unknown {
    const target = this.#deref(node, path);
    if (target === INVALID) return INVALID;
    if (target) this.nodes.set(pathKey(path), target);
    const value = this.#check(target, path, schema);
    if (value !== INVALID) this.#values.set(pathKey(path), value);
    return value;
  }

  /** The valid value at `path`, or `undefined` when it is absent or had problems. */
  value(path: NodePath): unknown {
    return this.#values.get(pathKey(path));
  }

  #deref(node: Node | null | undefined, path: NodePath): Node | null | undefined | typeof INVALID {
    if (!isAlias(node)) return node;
    const resolved = node.resolve(this.#source.document);
    if (resolved === undefined) {
      this.report(node, path, `{subject}refers to unknown anchor "${node.source}"`);
      return INVALID;
    }
    return resolved as Node;
  }

  #check(node: Node | null | undefined, path: NodePath, schema: Schema): unknown {
    const shape = shapeOf(node);
    const value = isScalar(node) ? node.value : null;
    switch (schema.kind) {
      case "string":
        if (shape !== "string") return this.#wrong(node, path, describeSchema(schema), shape);
        if (value === FILL_ME_IN) this.#unfilled(node, path);
        else if (schema.unsupported && Object.hasOwn(schema.unsupported, value as string)) {
          const why = schema.unsupported[value as string];
          this.report(node, path, `{subject:}"${value}" is not supported by gitlab-pg: ${why}`);
          return INVALID;
        } else if (schema.enum && !schema.enum.includes(value as string)) {
          return this.#wrong(node, path, describeSchema(schema), shape, value as string);
        } else if (schema.check) {
          const why = schema.check(value as string);
          if (why !== undefined) {
            this.report(node, path, `{subject:}${why}`);
            return INVALID;
          }
        }
        return value;
      case "integer":
        if (shape !== "number" || !Number.isInteger(value)) {
          const shown = shape === "number" ? String(value) : undefined;
          return this.#wrong(node, path, describeSchema(schema), shape, shown);
        }
        if (schema.min !== undefined && (value as number) < schema.min) {
          return this.#wrong(node, path, describeSchema(schema), shape, String(value));
        }
        return value;
      case "number":
        return shape === "number" ? value : this.#wrong(node, path, "a number", shape);
      case "boolean":
        return shape === "boolean" ? value : this.#wrong(node, path, "true or false", shape);
      case "null":
        return shape === "null" ? null : this.#wrong(node, path, "null", shape);
      case "json":
        return this.#json(node, path);
      case "object":
        if (!isMap(node)) return this.#wrong(node, path, "a map", shape);
        return this.#object(node, path, schema);
      case "map":
        if (!isMap(node)) return this.#wrong(node, path, "a map", shape);
        return this.#map(node, path, schema.values);
      case "list": {
        if (!isSeq(node)) return this.#wrong(node, path, "a list", shape);
        const out: unknown[] = [];
        node.items.forEach((item, i) => {
          const v = this.check(item as Node, [...path, i], schema.items);
          if (v !== INVALID) out.push(v);
        });
        return out;
      }
      case "choice": {
        const chosen = schema[shape === "list" ? "list" : shape];
        if (!chosen) return this.#wrong(node, path, schema.expected, shape);
        return this.#check(node, path, chosen);
      }
      case "tagged":
        if (!isMap(node)) return this.#wrong(node, path, "a map", shape);
        return this.#tagged(node, path, schema);
    }
  }

  #object(node: Node, path: NodePath, schema: ObjectSchema): unknown {
    const out: Record<string, unknown> = {};
    let ok = true;
    const known = Object.keys(schema.fields);
    for (const [key, keyNode, valueNode] of this.#pairs(node, path)) {
      const field = schema.fields[key] ??
        (schema.extraKey?.test(key) ? schema.extraValue ?? { kind: "json" } : undefined);
      if (field) {
        const v = this.check(valueNode, [...path, key], field);
        if (v !== INVALID) out[key] = v;
        else if (schema.required?.includes(key)) ok = false;
      } else if (schema.unsupported?.includes(key)) {
        const why = schema.why?.[key];
        this.report(
          keyNode,
          path,
          `key "${key}" is not supported by gitlab-pg${why ? `: ${why}` : ""}`,
        );
      } else {
        const hint = didYouMean(key, known) ||
          (known.length <= 10 ? ` (expected one of ${quoteList(known)})` : "");
        this.report(keyNode, path, `unknown key "${key}"${hint}`);
      }
    }
    for (const key of schema.required ?? []) {
      if (!(key in out) && !this.#has(node, key)) {
        this.report(node, path, `{subject:}missing required key "${key}"`);
        ok = false;
      }
    }
    return ok ? out : INVALID;
  }

  #map(node: Node, path: NodePath, values: Schema): unknown {
    const out: Record<string, unknown> = {};
    for (const [key, _keyNode, valueNode] of this.#pairs(node, path)) {
      const v = this.check(valueNode, [...path, key], values);
      if (v !== INVALID) out[key] = v;
    }
    return out;
  }

  #tagged(node: Node, path: NodePath, schema: TaggedSchema): unknown {
    const tagNode = isMap(node) ? node.get(schema.tag, true) as Node | undefined : undefined;
    const tag = isScalar(tagNode) ? tagNode.value : schema.defaultVariant;
    const names = Object.keys(schema.variants);
    if (tag === undefined) {
      this.report(node, path, `{subject:}missing required key "${schema.tag}"`);
      return INVALID;
    }
    const variant = typeof tag === "string" ? schema.variants[tag] : undefined;
    if (!variant) {
      const sub = [...path, schema.tag];
      const shown = typeof tag === "string" ? `"${tag}"` : shapeOf(tagNode);
      if (typeof tag === "string" && schema.unsupported?.includes(tag)) {
        this.report(tagNode, sub, `{subject:}"${tag}" is not supported by gitlab-pg`);
      } else {
        const hint = typeof tag === "string" ? didYouMean(tag, names) : "";
        this.report(
          tagNode,
          sub,
          `{subject}must be one of ${quoteList(names)}, not ${shown}${hint}`,
        );
      }
      return INVALID;
    }
    const fields = { ...variant.fields, [schema.tag]: { kind: "string" } as Schema };
    const result = this.#object(node, path, { ...variant, fields });
    if (result === INVALID) return INVALID;
    return { [schema.tag]: tag, ...(result as Record<string, unknown>) };
  }

  #json(node: Node | null | undefined, path: NodePath): unknown {
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const [key, _keyNode, valueNode] of this.#pairs(node, path)) {
        const v = this.check(valueNode, [...path, key], { kind: "json" });
        if (v !== INVALID) out[key] = v;
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => this.check(item as Node, [...path, i], { kind: "json" }))
        .filter((v) => v !== INVALID);
    }
    const value = isScalar(node) ? node.value : null;
    if (value === FILL_ME_IN) this.#unfilled(node, path);
    return typeof value === "bigint" ? Number(value) : value ?? null;
  }

  #unfilled(node: Node | null | undefined, path: NodePath): void {
    this.report(node, path, `{subject:}required value was never filled in (still "${FILL_ME_IN}")`);
  }

  /** Key, key node, value node of each pair of a map; non-string keys are reported. */
  *#pairs(node: Node, path: NodePath): Generator<[string, Node, Node]> {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node;
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
        this.report(keyNode, path, "keys must be strings");
        continue;
      }
      let valueNode = pair.value as Node | null;
      const empty = isScalar(valueNode) && valueNode.value === null &&
        valueNode.range?.[0] === valueNode.range?.[1];
      if (valueNode === null || empty) {
        // `key:` with nothing after it: an empty value positioned at its key.
        valueNode = new Scalar(null);
        valueNode.range = keyNode.range;
      }
      yield [String(keyNode.value), keyNode, valueNode];
    }
  }

  #has(node: Node, key: string): boolean {
    return isMap(node) && node.has(key);
  }

  #wrong(
    node: Node | null | undefined,
    path: NodePath,
    expected: string,
    shape: Shape,
    value?: string,
  ): typeof INVALID {
    const text = isScalar(node) && typeof node.value === "string" ? node.value : undefined;
    const shown = value ?? (text !== undefined && text.length <= 40 ? text : undefined);
    const got = shown === undefined
      ? SHAPE_NAMES[shape]
      : shape === "string"
      ? `"${shown}"`
      : shown;
    const hint = shown !== undefined ? didYouMean(shown, enumOf(expected)) : "";
    this.report(node, path, `{subject}must be ${expected}, not ${got}${hint}`);
    return INVALID;
  }
}

/**
 * The stable key of a path in {@linkcode Validation.nodes}.
 *
 * @example
 * ```ts
 * pathKey(["resources", 0, "name"]); // '["resources",0,"name"]'
 * ```
 */
export function pathKey(path: NodePath): string {
  return JSON.stringify(path);
}

type Shape = "string" | "number" | "boolean" | "null" | "map" | "list";

const SHAPE_NAMES: Record<Shape, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  null: "empty",
  map: "a map",
  list: "a list",
};

function shapeOf(node: Node | null | undefined): Shape {
  if (isMap(node)) return "map";
  if (isSeq(node)) return "list";
  const value = isScalar(node) ? node.value : null;
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number" || typeof value === "bigint") return "number";
  return "string";
}

function describeSchema(schema: StringSchema | IntegerSchema): string {
  if (schema.kind === "integer") {
    return schema.min === undefined ? "an integer" : `an integer of at least ${schema.min}`;
  }
  return schema.enum ? `one of ${quoteList(schema.enum)}` : "a string";
}

function enumOf(expected: string): string[] {
  return [...expected.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}
