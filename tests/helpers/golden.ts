/**
 * Golden files: `actual` is compared with `tests/testdata/golden/<group>/<name>.txt`, or the file
 * is (re)written when `UPDATE_GOLDEN=1`.
 *
 * @module
 */

import { equal } from "node:assert/strict";

const GOLDEN_ROOT = new URL("../testdata/golden/", import.meta.url);

/** Compares `actual` with golden file `<group>/<name>.txt` (or writes it with UPDATE_GOLDEN=1). */
export async function assertGolden(group: string, name: string, actual: string): Promise<void> {
  const dir = new URL(`${group}/`, GOLDEN_ROOT);
  const url = new URL(`${name}.txt`, dir);
  const text = actual.endsWith("\n") ? actual : `${actual}\n`;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.mkdir(dir, { recursive: true });
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
