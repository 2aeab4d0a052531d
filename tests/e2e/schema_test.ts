/**
 * End to end: a fixed, hostile dataset (tests/testdata/nasty) served with GitLab's Link
 * pagination on loopback, loaded by `main.ts run` into the real Postgres; table and column
 * names, types, values and the exported schema YAML are checked, and a frozen schema contract
 * stops a later load with the destination unchanged.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { runCli } from "../helpers/cli.ts";
import { assertGolden } from "../helpers/golden.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

const DATA = new URL("../testdata/nasty/", import.meta.url);
const CATALOG = new URL("catalog.yaml", DATA).pathname;
const ONE_MB = "x".repeat(1024 * 1024 - 2) + "é"; // 1 MiB of UTF-8 text

/** Serves `/<name>` from the nasty JSON files, one record per page, with Link headers. */
function serveNasty(files: Record<string, string>) {
  const controller = new AbortController();
  const alerts: { text: string }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      if (req.method === "POST" && url.pathname === "/hook") {
        alerts.push(await req.json());
        return new Response("ok");
      }
      const name = url.pathname.replace(/^\//, "");
      const text = files[name];
      if (text === undefined) return new Response("[]", { status: 404 });
      // split the top-level array into its items as text, so the numbers stay as written
      const items = splitTopLevel(text.replace('"@@1MB@@"', JSON.stringify(ONE_MB)));
      const page = Number(url.searchParams.get("page") ?? "1");
      const headers = new Headers({ "content-type": "application/json" });
      if (page < items.length) {
        const next = new URL(url);
        next.searchParams.set("page", String(page + 1));
        headers.set("link", `<${next}>; rel="next"`);
      }
      return new Response(`[${items[page - 1] ?? ""}]`, { headers });
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    /** Bodies POSTed to the Slack-compatible webhook `/hook`. */
    alerts,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

/** The fake API serving the nasty dataset's three files. */
async function serveNastyDataset() {
  return serveNasty({
    nasty: await readData("records.json"),
    shallow: await readData("shallow.json"),
    scalars: await readData("scalars.json"),
  });
}

/** The items of a top-level JSON array, as text. */
function splitTopLevel(text: string): string[] {
  const body = text.trim().slice(1, -1);
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (body.slice(start).trim()) out.push(body.slice(start).trim());
  return out;
}

async function readData(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(name, DATA));
}

type Query = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

async function columnsOf(dataset: string, query: Query = pgQuery): Promise<string> {
  const rows = await query<{ table_name: string; column_name: string; type: string }>(
    `SELECT c.table_name, c.column_name,
            format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END AS type
       FROM information_schema.columns c
       JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                          AND a.attname = c.column_name
      WHERE c.table_schema = $1 AND c.table_name NOT LIKE '\\_dlt\\_%'
      ORDER BY c.table_name, c.ordinal_position`,
    [dataset],
  );
  return rows.map((r) => `${r.table_name}.${r.column_name}: ${r.type}`).join("\n");
}

Deno.test({
  name: "run loads the nasty dataset with dlt's names, types and schema, and nothing lost",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await serveNastyDataset();
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("nasty");
    const env = {
      SOURCES__GITLAB__BASE_URL: server.url,
      DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
      DATASET_NAME: dataset,
      PIPELINES_DIR: join(cwd, "pipelines"),
      RUNTIME__SLACK_INCOMING_HOOK: "", // set below, once the server runs
    };
    env.RUNTIME__SLACK_INCOMING_HOOK = `${server.url}/hook`;
    const q = (table: string) => `"${dataset}"."${table}"`;
    try {
      const first = await runCli(["run", "--catalog", CATALOG, "--json"], { cwd, env });
      assert.equal(first.code, 0, first.stderr);
      const info = JSON.parse(first.stdout);
      assert.deepEqual(info.load_packages[0].rows, {
        nasty: 3,
        nasty__a_very_long_list_name_frjm7w_table_name_exceed_the_limit: 1,
        nasty__matrix: 2,
        nasty__matrix__list: 3,
        nasty__mixed: 7,
        nasty__mixed__list: 1,
        shallow: 1,
        shallow__list: 1,
        scalars: 6,
        _dlt_pipeline_state: 1,
      });
      // schema change alert: variant columns reported
      assert.deepEqual(info.schema_changes.new_variant_columns.nasty, [
        "foo_bar__v_text",
        "score__v_text",
        "created_at__v_text",
        "int_2_53_plus_1__v_wei",
      ]);

      // ... and POSTed to the webhook
      assert.equal(server.alerts.length, 1);
      assert.match(
        server.alerts[0].text,
        /^Pipeline gitlab_pipeline changed the schema of dataset /,
      );
      assert.match(server.alerts[0].text, /^- new table nasty__mixed$/m);
      assert.match(server.alerts[0].text, /^- new variant column nasty\.score__v_text$/m);

      // names and Postgres types, against the expected file
      await assertGolden("schema", "nasty_columns", await columnsOf(dataset));
      // names from reference/dlt.md §3, spelled out
      const columns = await columnsOf(dataset);
      for (
        const name of [
          "nasty.user_name",
          "nasty.a_b",
          "nasty.camel_case_key",
          "nasty.http_response_code",
          "nasty._ber_stra_e",
          "nasty.emojix",
          "nasty._empty",
          "nasty.a_drop_table_xxxx",
          "nasty.this_is_a_very_long_identifieuqrztg_character_limit_of_postgres",
          "nasty.l1__l2__l3__l4__l5__l6__l7__l8__l9__l10",
          "nasty.int_2_53_plus_1__v_wei",
          // shortened as a whole path: tag of the joined normalized path
          "nasty.very_long_parent_object_name_p2wucq_long_nested_field_name_here",
          "nasty__a_very_long_list_name_frjm7w_table_name_exceed_the_limit.value",
        ]
      ) assert.match(columns, new RegExp(`^${name}: `, "m"), name);
      assert.doesNotMatch(columns, /always_null|empty_obj|nasty__tags/);

      // the exported schema YAML, against the expected file
      const yaml = await Deno.readTextFile(join(cwd, "schemas/export/nasty.schema.yaml"));
      await assertGolden("schema", "nasty_export", yaml);

      // values: nothing lost
      const [r1] = await pgQuery<Record<string, string>>(
        `SELECT int_2_53_plus_1::text AS i53, int_beyond_int64::text AS wei,
                int_beyond_wei AS big_text_int, float_one::text AS f, nul, length(big_text)::text AS len,
                right(big_text, 1) AS last_char, l1__l2__l3__l4__l5__l6__l7__l8__l9__l10 AS deep,
                "a_drop_table_xxxx" AS sql, created_at::text AS ts, due_date
           FROM ${q("nasty")} WHERE id = 1`,
      );
      assert.equal(r1.i53, "9007199254740993");
      assert.equal(r1.wei, "123456789012345678901234567890." + "0".repeat(78));
      assert.equal(r1.big_text_int, "1" + "0".repeat(50));
      assert.equal(r1.f, "1");
      assert.equal(r1.nul, "a\\u0000b");
      assert.equal(r1.len, String(ONE_MB.length));
      assert.equal(r1.last_char, "é");
      assert.equal(r1.deep, "deep");
      assert.equal(r1.sql, "sql");
      assert.equal(r1.ts, "2024-01-02 03:04:05+00");
      assert.equal(r1.due_date, "2024-01-02");
      const rows = await pgQuery<Record<string, string | null>>(
        `SELECT id::text, int_2_53_plus_1::text AS i, int_2_53_plus_1__v_wei::text AS v,
                score::text, score__v_text, count::text, foo_bar, foo_bar__v_text,
                created_at__v_text, nul
           FROM ${q("nasty")} ORDER BY id`,
      );
      assert.deepEqual(rows.map((r) => [r.id, r.i, r.v?.split(".")[0] ?? null]), [
        ["1", "9007199254740993", null],
        ["2", "-9223372036854775808", null],
        ["3", null, "18446744073709551616"],
      ]);
      assert.deepEqual(rows.map((r) => [r.score, r.score__v_text, r.count]), [
        ["5", null, "1"],
        [null, "high", "42"],
        [null, null, null],
      ]);
      assert.deepEqual(rows.map((r) => [r.foo_bar, r.foo_bar__v_text, r.created_at__v_text]), [
        ["1", null, null],
        [null, "same column as fooBar, other type", "not a date"],
        [null, null, null],
      ]);
      assert.equal(rows[1].nul, "\\u0000");
      const mixed = await pgQuery<Record<string, string | null>>(
        `SELECT _dlt_list_idx::text AS i, value::text, value__v_text, value__v_double::text AS d,
                value__v_bool::text AS b, k FROM ${q("nasty__mixed")}
          ORDER BY _dlt_parent_id = (SELECT _dlt_id FROM ${
          q("nasty")
        } WHERE id = 2), _dlt_list_idx`,
      );
      assert.deepEqual(mixed.map((r) => Object.values(r)), [
        ["0", "1", null, null, null, null],
        ["1", null, "two", null, null, null],
        ["2", null, null, "3.5", null, null],
        ["3", null, null, null, "true", null],
        ["4", null, null, null, null, "v"],
        ["5", null, null, null, null, null],
        ["0", null, null, null, null, null],
      ]);
      const matrix = await pgQuery<{ v: string }>(
        `SELECT string_agg(l.value::text, ',' ORDER BY m._dlt_list_idx, l._dlt_list_idx) AS v
           FROM ${q("nasty__matrix")} m JOIN ${q("nasty__matrix__list")} l
             ON l._dlt_parent_id = m._dlt_id`,
      );
      assert.equal(matrix[0].v, "1,2,3");
      // max_table_nesting 1: one level flattened / split, deeper structures whole in jsonb
      const shallow = await pgQuery<{ obj__inner: unknown; a: unknown }>(
        `SELECT s.obj__inner, l.a FROM ${q("shallow")} s JOIN ${q("shallow__list")} l
           ON l._dlt_parent_id = s._dlt_id`,
      );
      assert.deepEqual(shallow, [{ obj__inner: { x: 1 }, a: [1, 2] }]);
      // records that are scalars are wrapped as {value: ...}; a record that is a list is a
      // batch of records, as in dlt's jsonl normalizer
      const scalars = await pgQuery<Record<string, string | null>>(
        `SELECT value::text, value__v_text, value__v_double::text AS d, value__v_bool::text AS b
           FROM ${q("scalars")}`,
      );
      assert.deepEqual(
        scalars.map((r) => Object.values(r).find((v) => v !== null)).sort(),
        ["1", "1", "2", "3.5", "true", "two"],
      );

      // a new column under a frozen contract: the load fails before anything is written
      const before = {
        columns: await columnsOf(dataset),
        rows: await pgQuery(`SELECT count(*)::int AS n FROM ${q("nasty")}`),
        loads: await pgQuery(`SELECT count(*)::int AS n FROM ${q("_dlt_loads")}`),
        versions: await pgQuery(`SELECT count(*)::int AS n FROM ${q("_dlt_version")}`),
      };
      server.files.nasty = '[{"id": 4, "score": 7, "weight": 3.5}]';
      const frozen = await runCli(
        ["run", "--catalog", CATALOG, "--schema-contract", "freeze"],
        { cwd, env },
      );
      assert.equal(frozen.code, 1, frozen.stdout + frozen.stderr);
      assert.match(
        frozen.stderr,
        /Cannot load table "nasty": the schema contract freezes columns but the data has new column "weight" \(value 3\.5\)/,
      );
      assert.deepEqual({
        columns: await columnsOf(dataset),
        rows: await pgQuery(`SELECT count(*)::int AS n FROM ${q("nasty")}`),
        loads: await pgQuery(`SELECT count(*)::int AS n FROM ${q("_dlt_loads")}`),
        versions: await pgQuery(`SELECT count(*)::int AS n FROM ${q("_dlt_version")}`),
      }, before);

      // the pending package is finished by the next run once the contract lets it evolve
      const evolved = await runCli(["run", "--catalog", CATALOG, "--json"], { cwd, env });
      assert.equal(evolved.code, 0, evolved.stderr);
      const cols = await columnsOf(dataset);
      assert.match(cols, /^nasty\.weight: double precision$/m);
      assert.match(server.alerts.at(-1)!.text, /^- new column nasty\.weight$/m);
      const weights = await pgQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${q("nasty")} WHERE weight = 3.5`,
      );
      assert.ok(weights[0].n >= 1);

      // the same data again: no schema change, so no new _dlt_version row and no alert
      const versions = await pgQuery(`SELECT count(*)::int AS n FROM ${q("_dlt_version")}`);
      const alerts = server.alerts.length;
      const again = await runCli(["run", "--catalog", CATALOG], { cwd, env });
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stdout, /Schema changes:/);
      assert.deepEqual(
        await pgQuery(`SELECT count(*)::int AS n FROM ${q("_dlt_version")}`),
        versions,
      );
      assert.equal(server.alerts.length, alerts);
    } finally {
      await server.close();
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "run loads the nasty dataset into PGlite with the same tables, columns and types",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await serveNastyDataset();
    const cwd = await Deno.makeTempDir();
    try {
      const res = await runCli(["run", "--catalog", CATALOG, "--json"], {
        cwd,
        env: { SOURCES__GITLAB__BASE_URL: server.url, PIPELINES_DIR: join(cwd, "pipelines") },
      });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(JSON.parse(res.stdout).destination_type, "pglite");
      const db = await PGlite.create(join(cwd, "pipelines", "gitlab_pipeline", "pglite"));
      try {
        const query: Query = async (sql, params) => (await db.query(sql, params)).rows as never;
        // the same golden file as the Postgres server test: identical DDL on both destinations
        await assertGolden("schema", "nasty_columns", await columnsOf("gitlab_data", query));
      } finally {
        await db.close();
      }
    } finally {
      await server.close();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
