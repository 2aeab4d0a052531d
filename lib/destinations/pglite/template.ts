/**
 * A new embedded database from a template: the data folder of a freshly created PGlite
 * database, as PGlite dumps it (gzipped tar, ~4.5 MB), shipped in `resources/pglite/` and
 * embedded in the binary. Creating a database runs initdb in WASM, in a second PGlite instance
 * PGlite starts for it (~2 s and ~670 MB of peak memory); unpacking the template takes about
 * half of that. Every first run on the embedded default pays it (a CI job in a fresh
 * container, say).
 *
 * The template is made by `deno task pglite-template` (which `deno task compile` runs first)
 * with the pinned PGlite version in its name; a missing or unreadable template only means
 * initdb runs as before.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";

/** The `@electric-sql/pglite` version pinned in deno.json (a test checks they agree). */
export const PGLITE_VERSION = "0.5.16";

/** The template of this PGlite version, in the embedded `resources/`. */
export const TEMPLATE_URL = new URL(
  `../../../resources/pglite/pglite-${PGLITE_VERSION}.tar.gz`,
  import.meta.url,
);

/**
 * The template's bytes (`path`, else the embedded one), or undefined when there is none.
 *
 * @example
 * ```ts
 * const bytes = await readTemplate(); // undefined before `deno task pglite-template`
 * ```
 */
export async function readTemplate(path: string | URL = TEMPLATE_URL): Promise<
  Uint8Array | undefined
> {
  try {
    return await Deno.readFile(path);
  } catch {
    return undefined;
  }
}

/**
 * Creates a database in memory and writes its data folder, gzipped, to `path`.
 *
 * @example
 * ```ts
 * await makeTemplate("resources/pglite/pglite-0.5.16.tar.gz");
 * ```
 */
export async function makeTemplate(path: string | URL = TEMPLATE_URL): Promise<number> {
  const db = await PGlite.create();
  try {
    const dump = await db.dumpDataDir("gzip");
    const bytes = new Uint8Array(await dump.arrayBuffer());
    const target = path instanceof URL ? path : new URL(path, `file://${Deno.cwd()}/`);
    await Deno.mkdir(new URL(".", target), { recursive: true });
    const tmp = new URL(`${target.pathname}.tmp`, target);
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, target);
    return bytes.length;
  } finally {
    await db.close();
  }
}

if (import.meta.main) {
  const bytes = await makeTemplate(Deno.args[0] ?? TEMPLATE_URL);
  console.log(
    `PGlite ${PGLITE_VERSION} template: ${(bytes / 1e6).toFixed(1)} MB in ${
      Deno.args[0] ?? TEMPLATE_URL.pathname
    }`,
  );
}
