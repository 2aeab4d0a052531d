import assert from "node:assert/strict";
import { connectPostgres } from "../../lib/destinations/postgres/client.ts";
import { DestinationError } from "../../lib/common/errors.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

async function* chunks(text: string): AsyncIterable<Uint8Array> {
  yield new TextEncoder().encode(text);
}

Deno.test({
  name: "copyFrom() fails the transaction instead of hanging when Postgres rejects the rows",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ds = uniqueDataset("copy");
    const client = await connectPostgres(TEST_PG_URL);
    try {
      await client.exec(`CREATE SCHEMA "${ds}"; CREATE TABLE "${ds}".t (a bigint)`);
      await assert.rejects(
        client.transaction(async (tx) => {
          await tx.exec(`INSERT INTO "${ds}".t VALUES (1)`);
          await tx.copyFrom(`COPY "${ds}".t (a) FROM STDIN`, chunks("2\nnot-a-number\n"));
        }),
        (e: unknown) => e instanceof DestinationError && /rejected the rows/.test(e.message),
      );
      // nothing of the failed transaction was committed, and the client still works
      assert.deepEqual(await client.query(`SELECT count(*)::int AS n FROM "${ds}".t`), [{ n: 0 }]);
      await client.transaction((tx) => tx.copyFrom(`COPY "${ds}".t (a) FROM STDIN`, chunks("7\n")));
      assert.deepEqual(await pgQuery(`SELECT a::int FROM "${ds}".t`), [{ a: 7 }]);
    } finally {
      await client.close();
      await dropDataset(ds);
    }
  },
});

Deno.test({
  name: "connectPostgres() names the location without the password when it cannot connect",
  async fn() {
    await assert.rejects(
      connectPostgres("postgresql://u:secret-pw@127.0.0.1:1/db", { connectTimeout: 2 }),
      (e: unknown) =>
        e instanceof DestinationError && /Cannot connect to Postgres at/.test(e.message) &&
        !e.message.includes("secret-pw"),
    );
  },
});
