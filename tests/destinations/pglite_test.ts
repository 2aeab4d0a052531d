import assert from "node:assert/strict";
import { join } from "node:path";
import {
  openPglite,
  PGLITE_SHARED_BUFFERS,
  thrownText,
} from "../../lib/destinations/pglite/client.ts";
import { PGlite } from "@electric-sql/pglite";

Deno.test({
  name:
    "the embedded Postgres runs with 32 MB of shared buffers, new or reopened, its postgresql.conf untouched",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const dataDir = join(dir, "db");
    try {
      for (const when of ["new", "reopened"]) {
        const client = await openPglite(dataDir);
        try {
          const [row] = await client.query<{ shared_buffers: string }>("SHOW shared_buffers");
          assert.equal(row.shared_buffers, PGLITE_SHARED_BUFFERS, when);
          // PGlite's own start parameters are kept (its search_path among them)
          const [path] = await client.query<{ search_path: string }>("SHOW search_path");
          assert.equal(path.search_path, "public", when);
        } finally {
          await client.close();
        }
      }
      const conf = await Deno.readTextFile(join(dataDir, "postgresql.conf"));
      assert.match(conf, /^max_connections = /m);
      assert.doesNotMatch(conf, /shared_buffers\s*=\s*32MB/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "what PGlite's file system throws is told in words, not as [object Object]",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // a data dir that is a file: PGlite's file system throws its plain ErrnoError object
      const file = join(dir, "not-a-dir");
      await Deno.writeTextFile(file, "x");
      const thrown = await PGlite.create(file).then(async (db) => {
        await db.close();
        return undefined;
      }, (e) => e);
      assert.ok(thrown !== undefined && !(thrown instanceof Error), String(thrown));
      assert.equal(String(thrown), "[object Object]");
      assert.equal(
        thrownText(thrown),
        "ErrnoError 54 (ENOTDIR: not a directory) in the embedded database's files: check that " +
          "its folder is writable and has space",
      );
      // an Error keeps its message
      assert.equal(thrownText(new Error("boom")), "boom");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
