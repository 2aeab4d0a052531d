import assert from "node:assert/strict";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { openPglite } from "../../lib/destinations/pglite/client.ts";
import { makeTemplate, PGLITE_VERSION } from "../../lib/destinations/pglite/template.ts";

const pgTest = (name: string, fn: (dir: string) => Promise<void>) =>
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir();
      try {
        await fn(dir);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

/** A template whose database holds a table `from_template`, to tell where a database came from. */
async function markedTemplate(path: string): Promise<void> {
  const db = await PGlite.create();
  await db.exec("CREATE TABLE from_template (x int)");
  const dump = await db.dumpDataDir("gzip");
  await Deno.writeFile(path, new Uint8Array(await dump.arrayBuffer()));
  await db.close();
}

async function hasMarker(dataDir: string, template: string | null): Promise<boolean> {
  const client = await openPglite(dataDir, { template });
  try {
    const [row] = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'from_template'",
    );
    // whatever made it, the database works and keeps gitlab-pg's settings
    const [sb] = await client.query<{ shared_buffers: string }>("SHOW shared_buffers");
    assert.equal(sb.shared_buffers, "32MB");
    await client.exec("CREATE TABLE IF NOT EXISTS t (id int)");
    return row.n === 1;
  } finally {
    await client.close();
  }
}

pgTest(
  "a new embedded database is unpacked from the template, then reopened as is",
  async (dir) => {
    const template = join(dir, "template.tar.gz");
    await markedTemplate(template);
    assert.equal(await hasMarker(join(dir, "db"), template), true);
    // reopened: the template is not applied again (the table made after it is still there)
    const client = await openPglite(join(dir, "db"), { template });
    try {
      assert.equal((await client.query("SELECT * FROM t")).length, 0);
    } finally {
      await client.close();
    }
  },
);

pgTest(
  "a template PGlite cannot read, a missing one or none: initdb makes the database",
  async (dir) => {
    const garbage = join(dir, "garbage.tar.gz");
    await Deno.writeTextFile(garbage, "not a tar at all");
    assert.equal(await hasMarker(join(dir, "a"), garbage), false);
    assert.equal(await hasMarker(join(dir, "b"), join(dir, "missing.tar.gz")), false);
    const template = join(dir, "template.tar.gz");
    await markedTemplate(template);
    assert.equal(await hasMarker(join(dir, "c"), null), false);
  },
);

pgTest("makeTemplate writes a template a database is made from", async (dir) => {
  const template = join(dir, "sub", "t.tar.gz");
  const bytes = await makeTemplate(template);
  assert.equal((await Deno.stat(template)).size, bytes);
  assert.ok(bytes > 1_000_000, `${bytes} bytes`);
  const client = await openPglite(join(dir, "db"), { template });
  try {
    const [row] = await client.query<{ v: string }>(
      "SELECT current_setting('server_version') AS v",
    );
    assert.match(row.v, /^\d+/);
  } finally {
    await client.close();
  }
});

Deno.test("the template is named for the PGlite version deno.json pins", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(
    config.imports["@electric-sql/pglite"],
    `npm:@electric-sql/pglite@${PGLITE_VERSION}`,
  );
  assert.match(config.tasks.compile, /^deno task pglite-template && deno compile /);
});
