/**
 * Golden files of catalog messages: compared with `tests/testdata/golden/catalog/<name>.txt`,
 * written instead when `UPDATE_GOLDEN=1`.
 *
 * @module
 */

import { normalizeTablesPath } from "../../lib/schema/naming.ts";
import { assertGolden as assertGoldenFile } from "../helpers/golden.ts";
import { CatalogError } from "../../lib/common/errors.ts";
import { parseCatalog } from "../../lib/catalog/mod.ts";

/** Compares `actual` with golden file `catalog/<name>.txt` (UPDATE_GOLDEN=1 rewrites it). */
export function assertGolden(name: string, actual: string): Promise<void> {
  return assertGoldenFile("catalog", name, actual);
}

/** The CatalogError that parsing `text` throws (fails when it parses). */
export function catalogError(text: string, file = "catalog.yaml"): CatalogError {
  try {
    parseCatalog(text, { file, tableName: normalizeTablesPath });
  } catch (error) {
    if (error instanceof CatalogError) return error;
    throw error;
  }
  throw new Error("Expected a CatalogError, but the catalog parsed");
}
