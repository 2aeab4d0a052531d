/**
 * Reads an optional TOML file; syntax errors become a ConfigError at `file:line:col`.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { ConfigError, formatCatalogProblem } from "../common/errors.ts";

/**
 * Parses the TOML file at `path` (shown as `display` in messages). Returns undefined when the
 * file does not exist. For a `secret` file the offending source line is not quoted in the error
 * (it may hold a token that could not be registered for redaction yet).
 */
export async function readTomlFile(
  path: string,
  display: string,
  secret: boolean,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`Cannot read "${display}": ${(e as Error).message}`, { cause: e });
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    // smol-toml: "Invalid TOML document: <reason>\n\n<code excerpt>"
    const reason = e.message.split("\n")[0].replace(/^Invalid TOML document:\s*/, "");
    const line = text.split(/\r?\n/)[e.line - 1];
    const sourceLine = secret || !line?.trim() ? undefined : line;
    const message = formatCatalogProblem({
      file: display,
      line: e.line,
      col: e.column,
      message: `Cannot parse TOML: ${reason}`,
      sourceLine,
    });
    throw new ConfigError(message, { cause: e });
  }
}
