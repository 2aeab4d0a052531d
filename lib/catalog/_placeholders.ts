/**
 * Placeholders in paths, params, json and headers, with Python `str.format` rules: `{name}` is a
 * placeholder, `{{` and `}}` are literal braces.
 *
 * @module
 */

/** One `{name}` found in a string. */
export interface Placeholder {
  /** The text between the braces, without any `!conversion` or `:format`. */
  name: string;
  /** The placeholder as written, braces included. */
  raw: string;
  /** Index of the opening brace. */
  index: number;
}

/**
 * Every placeholder of `text`, in order.
 *
 * @example
 * ```ts
 * findPlaceholders("projects/{resources.projects.id}/x/{{literal}}");
 * // [{ name: "resources.projects.id", raw: "{resources.projects.id}", index: 9 }]
 * ```
 */
export function findPlaceholders(text: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "{") continue;
    if (text[i + 1] === "{") {
      i++;
      continue;
    }
    const end = text.indexOf("}", i + 1);
    if (end < 0) break;
    const raw = text.slice(i, end + 1);
    found.push({ name: raw.slice(1, -1).split(/[!:]/)[0].trim(), raw, index: i });
    i = end;
  }
  return found;
}

/**
 * Every string inside a JSON-like value (map values and list items, recursively), with its path.
 *
 * @example
 * ```ts
 * [...stringsIn({ a: ["x", { b: "y" }], c: 1 })]; // [["x", ["a", 0]], ["y", ["a", 1, "b"]]]
 * ```
 */
export function* stringsIn(
  value: unknown,
  path: (string | number)[] = [],
): Generator<[string, (string | number)[]]> {
  if (typeof value === "string") yield [value, path];
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* stringsIn(item, [...path, i]);
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) yield* stringsIn(item, [...path, key]);
  }
}

/**
 * Whether the last path segment contains a placeholder (dlt's single-entity detection).
 *
 * @example
 * ```ts
 * isSingleEntityPath("projects/{id}"); // true
 * isSingleEntityPath("projects/{id}/issues"); // false
 * ```
 */
export function isSingleEntityPath(path: string): boolean {
  const segments = path.replace(/\/+$/, "").split("/");
  return findPlaceholders(segments[segments.length - 1]).length > 0;
}
