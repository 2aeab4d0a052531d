/**
 * Golden files of catalog messages: compared with `tests/testdata/golden/catalog/<name>.txt`,
 * written instead when `UPDATE_GOLDEN=1`.
 *
 * @module
 */

import { equal } from "node:assert/strict";
import { CatalogError } from "../../lib/common/errors.ts";
import { parseCatalog } from "../../lib/catalog/mod.ts";

const GOLDEN_DIR = new URL("../testdata/golden/catalog/", import.meta.url);

/** Compares `actual` with the golden file `name`.txt (or writes it with UPDATE_GOLDEN=1). */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const url = new URL(`${name}.txt`, GOLDEN_DIR);
  const text = actual.endsWith("\n") ? actual : `${actual}\n`;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.mkdir(GOLDEN_DIR, { recursive: true });
    await Deno.writeTextFile(url, text);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(url);
  } catch (error) {
    throw new Error(`Cannot read golden file "${url.pathname}": run with UPDATE_GOLDEN=1`, {
      cause: error,
    });
  }
  equal(text, expected);
}

/** The CatalogError that parsing `text` throws (fails when it parses). */
export function catalogError(text: string, file = "catalog.yaml"): CatalogError {
  try {
    parseCatalog(text, { file });
  } catch (error) {
    if (error instanceof CatalogError) return error;
    throw error;
  }
  throw new Error("Expected a CatalogError, but the catalog parsed");
}
