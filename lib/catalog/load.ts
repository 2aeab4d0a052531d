/**
 * Loading a catalog file, and finding the default catalog shipped with gitlab-pg.
 *
 * @module
 */

import { UserError } from "../common/errors.ts";
import { parseCatalog } from "./parse.ts";
import type { Catalog } from "./types.ts";

/** Name shown for the default catalog in problems and in {@linkcode Catalog.file}. */
export const DEFAULT_CATALOG_NAME = "resources/gitlab.yaml";

/**
 * The URL of the default catalog, `resources/gitlab.yaml`, found relative to this module: it works
 * from any working directory and inside a `deno compile --include resources` binary.
 *
 * @example
 * ```ts
 * const text = await Deno.readTextFile(defaultCatalogPath());
 * ```
 */
export function defaultCatalogPath(): URL {
  return new URL("../../resources/gitlab.yaml", import.meta.url);
}

/** Options of {@linkcode loadCatalog}. */
export interface LoadCatalogOptions {
  /**
   * File name shown in problems.
   * @default {the path as given, or "resources/gitlab.yaml" for the default catalog}
   */
  file?: string;
}

/**
 * Reads and parses a catalog file; without `path`, the default catalog.
 *
 * @throws {CatalogError} with every problem of the catalog.
 * @throws {UserError} when the file cannot be read.
 *
 * @example
 * ```ts
 * const catalog = await loadCatalog();
 * catalog.resources.map((r) => r.name); // ["projects", "issues", …]
 * ```
 */
export async function loadCatalog(
  path?: string | URL,
  options: LoadCatalogOptions = {},
): Promise<Catalog> {
  const target = path ?? defaultCatalogPath();
  const file = options.file ??
    (path === undefined ? DEFAULT_CATALOG_NAME : path instanceof URL ? path.pathname : path);
  let text: string;
  try {
    text = await Deno.readTextFile(target);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : String((error as Error).message ?? error);
    throw new UserError(`Cannot read catalog "${file}": ${why}`, { cause: error });
  }
  return parseCatalog(text, { file });
}
