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
  return embeddedCatalogPath("gitlab");
}

/**
 * The URL of a catalog shipped inside gitlab-pg (`resources/<name>.yaml`), e.g. `gitlab` (the
 * default analytics catalog) or `seed` (the dlt-init-openapi seed's 18 tables).
 *
 * @example
 * ```ts
 * const text = await Deno.readTextFile(embeddedCatalogPath("seed"));
 * ```
 */
export function embeddedCatalogPath(name: string): URL {
  return new URL(`../../resources/${name}.yaml`, import.meta.url);
}

/**
 * Where `--catalog VALUE` points: a bare name such as `seed` or `gitlab` that names a catalog
 * shipped inside gitlab-pg (and is not a file in `cwd`), else a file path relative to `cwd`.
 *
 * @example
 * ```ts
 * const { path, file } = await resolveCatalogArg("seed", { cwd: Deno.cwd() });
 * const catalog = await loadCatalog(path, { file });
 * ```
 */
export async function resolveCatalogArg(
  value: string | undefined,
  options: { cwd: string },
): Promise<{ path?: string | URL; file?: string }> {
  if (value === undefined) return {};
  const local = value.startsWith("/") ? value : `${options.cwd}/${value}`;
  if (/^[a-z0-9_-]+$/.test(value) && !(await exists(local))) {
    const url = embeddedCatalogPath(value);
    if (await exists(url)) return { path: url, file: `resources/${value}.yaml` };
  }
  return { path: local, file: value };
}

async function exists(path: string | URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@linkcode loadCatalog}. */
export interface LoadCatalogOptions {
  /**
   * File name shown in problems.
   * @default {the path as given, or "resources/gitlab.yaml" for the default catalog}
   */
  file?: string;
  /** The destination's name of a table (see `ParseCatalogOptions.tableName`). */
  tableName?: (name: string) => string;
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
  return parseCatalog(text, { file, tableName: options.tableName });
}
