import assert from "node:assert/strict";
import { connectPostgres } from "../../lib/destinations/postgres/client.ts";
import { ShowData } from "../../lib/show/data.ts";
import { dropDataset, pgIgnore, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

Deno.test({
  name:
    "a page of rows over its statement timeout is cancelled; the any-column filter reads values",
  ignore: pgIgnore,
  async fn() {
    const dataset = uniqueDataset("showdata");
    const client = await connectPostgres(TEST_PG_URL);
    try {
      await client.exec(`CREATE SCHEMA "${dataset}"`);
      // a column named t: a bare alias t would be shadowed by it
      await client.exec(
        `CREATE TABLE "${dataset}".big AS SELECT g AS id, md5(g::text) AS t, 'x(y)' AS other
         FROM generate_series(1, 300000) g`,
      );
      const quick = new ShowData(client, { dataset, pipelineName: "p" });
      const found = await quick.rows("big", { filter: "x(y", limit: 2 });
      assert.equal(found.total, 300000);
      assert.equal((await quick.rows("big", { filter: ",", limit: 2 })).total, 0);
      const slow = new ShowData(client, { dataset, pipelineName: "p", statementTimeoutMs: 1 });
      await assert.rejects(slow.rows("big", { filter: "zzz" }), /statement timeout/);
      // the timeout was local to that page: the connection goes on without one
      const [row] = await client.query<{ s: string }>(
        "SELECT current_setting('statement_timeout') AS s",
      );
      assert.equal(row.s, "0");
    } finally {
      await client.close();
      await dropDataset(dataset);
    }
  },
});
