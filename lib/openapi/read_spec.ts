/**
 * Reading an OpenAPI document from a file or a URL, as YAML or JSON.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { fetchFailure, GitlabPgError, UserError } from "../common/errors.ts";
import type { OpenApiSpec } from "./generate.ts";

/** Options of {@linkcode readSpec}. */
export interface ReadSpecOptions {
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Resolves a relative file name. @default {Deno.cwd()} */
  cwd?: string;
  /** @default {Deno.readTextFile} */
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Reads and parses an OpenAPI 3 spec (YAML or JSON; a file path or an http(s) URL).
 *
 * @throws {UserError} when it cannot be read or parsed, or is not OpenAPI 3.
 *
 * @example
 * ```ts
 * const spec = await readSpec("../shared/reference/gitlab-openapi.yaml");
 * ```
 */
export async function readSpec(
  source: string,
  options: ReadSpecOptions = {},
): Promise<OpenApiSpec> {
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    const response = await (options.fetch ?? fetch)(source).catch((e) => {
      // the network failed, not the input: exit 1, with Deno's reason (refused, DNS, TLS)
      throw new GitlabPgError(`Cannot fetch spec "${source}": ${fetchFailure(e)}`, { cause: e });
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new UserError(`Cannot fetch spec "${source}": HTTP ${response.status}`);
    }
    text = await response.text();
  } else {
    const path = source.startsWith("/") || !options.cwd ? source : `${options.cwd}/${source}`;
    try {
      text = await (options.readTextFile ?? Deno.readTextFile)(path);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
      throw new UserError(`Cannot read spec "${source}": ${why}`, { cause: e });
    }
  }
  let doc: unknown;
  try {
    doc = text.trimStart().startsWith("{") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UserError(`Cannot parse spec "${source}": ${(e as Error).message.split("\n")[0]}`, {
      cause: e,
    });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new UserError(`Cannot parse spec "${source}": expected a mapping at the top level`);
  }
  const spec = doc as OpenApiSpec;
  if (typeof spec.openapi !== "string" || !spec.openapi.startsWith("3")) {
    throw new UserError(
      `Cannot read spec "${source}": expected OpenAPI 3 ("openapi: 3.x"), got ${
        spec.swagger ? `Swagger "${spec.swagger}"` : `"${spec.openapi ?? "no version"}"`
      }`,
    );
  }
  if (!spec.paths || typeof spec.paths !== "object") {
    throw new UserError(`Cannot read spec "${source}": it has no "paths"`);
  }
  return spec;
}
