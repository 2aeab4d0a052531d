import assert from "node:assert/strict";
import { connectHint, connectPostgres } from "../../lib/destinations/postgres/client.ts";
import { DestinationError } from "../../lib/common/errors.ts";
import { within } from "../helpers/deadline.ts";
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

Deno.test({
  name: "connectPostgres() says what to change when the server refuses TLS, or names no database",
  ignore: pgIgnore,
  async fn() {
    // the test server has no TLS: sslmode=require cannot connect, prefer falls back to plain
    const url = new URL(TEST_PG_URL);
    url.searchParams.set("sslmode", "require");
    await assert.rejects(
      connectPostgres(url.href, {
        connectTimeout: 5,
        from: "destination.postgres.credentials in x",
      }),
      (e: unknown) =>
        e instanceof DestinationError &&
        /, set by destination\.postgres\.credentials in x: /.test(e.message) &&
        /does not accept TLS \(sslmode=require\): use sslmode=prefer or disable/.test(e.message),
    );
    url.searchParams.set("sslmode", "prefer");
    const client = await connectPostgres(url.href, { connectTimeout: 5 });
    await client.close();
    url.searchParams.delete("sslmode");
    url.pathname = "/no_such_database_gitlab_pg";
    await assert.rejects(
      connectPostgres(url.href, { connectTimeout: 5 }),
      (e: unknown) => e instanceof DestinationError && /create the database first/.test(e.message),
    );
  },
});

Deno.test("connectHint() names the fix of each common connection failure", () => {
  assert.match(connectHint("getaddrinfo ENOTFOUND db.example", undefined), /does not resolve/);
  assert.match(
    connectHint("self-signed certificate in certificate chain", "verify-full"),
    /not trusted \(sslmode=verify-full\).*DENO_CERT.*sslmode=require/,
  );
  assert.match(
    connectHint(
      'no pg_hba.conf entry for host "1.2.3.4", user "u", database "d", no encryption',
      undefined,
    ),
    /add sslmode=require/,
  );
  assert.match(connectHint('password authentication failed for user "u"', undefined), /password/);
  assert.equal(connectHint("something else", undefined), "");
});

/** A TCP server on loopback that answers every connection with `reply` (or nothing) and, with a reply, hangs up. */
function fakeServer(reply?: string): { port: number; accepted: () => number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  let accepted = 0;
  (async () => {
    for await (const conn of listener) {
      accepted++;
      if (reply === undefined) {
        open.push(conn); // silent: keeps it open, answers nothing
        continue;
      }
      (async () => {
        try {
          await conn.read(new Uint8Array(1024));
          await conn.write(new TextEncoder().encode(reply));
        } catch { /* the client hung up first */ }
        try {
          conn.close();
        } catch { /* closed already */ }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    close: () => {
      listener.close();
      for (const c of open) c.close();
    },
  };
}

Deno.test({
  name: "connectPostgres() gives up on a port that is no Postgres server instead of reconnecting",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // an HTTP server where Postgres was expected: postgres.js alone reconnected for ever
    const http = fakeServer("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    const silent = fakeServer();
    try {
      const started = performance.now();
      await assert.rejects(
        within(
          connectPostgres(`postgresql://u@127.0.0.1:${http.port}/db`, { connectTimeout: 1 }),
          15_000,
          "connectPostgres",
        ),
        (e: unknown) =>
          e instanceof DestinationError &&
          /no Postgres answer: the server closed \d+ connections .*is this the address of a Postgres server\?/
            .test(
              e.message,
            ),
      );
      assert.ok(performance.now() - started < 15_000);
      assert.ok(http.accepted() > 1);
      await assert.rejects(
        connectPostgres(`postgresql://u@127.0.0.1:${silent.port}/db`, { connectTimeout: 1 }),
        (e: unknown) =>
          e instanceof DestinationError &&
          e.message.endsWith(": no answer within 1 s (connect_timeout)"),
      );
    } finally {
      http.close();
      silent.close();
    }
  },
});

Deno.test({
  name: "connectPostgres() with connect_timeout 0 waits as long as the server takes (no limit)",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // a proxy to the test server that holds each connection 1.5 s before passing it on
    const target = new URL(TEST_PG_URL);
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const conns: Deno.Conn[] = [];
    (async () => {
      for await (const conn of listener) {
        conns.push(conn);
        (async () => {
          await new Promise((r) => setTimeout(r, 1500));
          const upstream = await Deno.connect({
            hostname: target.hostname,
            port: Number(target.port || 5432),
          });
          conns.push(upstream);
          await Promise.all([
            conn.readable.pipeTo(upstream.writable).catch(() => {}),
            upstream.readable.pipeTo(conn.writable).catch(() => {}),
          ]);
        })();
      }
    })().catch(() => {});
    const port = (listener.addr as Deno.NetAddr).port;
    const url = `postgresql://${target.username}@127.0.0.1:${port}${target.pathname}`;
    try {
      const client = await connectPostgres(url, { connectTimeout: 0 });
      try {
        assert.deepEqual(await client.query("SELECT 1 AS one"), [{ one: 1 }]);
      } finally {
        await client.close();
      }
    } finally {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    }
  },
});

Deno.test({
  name: "a connection from the libpq environment says which server, user and database it reached",
  ignore: pgIgnore,
  async fn() {
    const url = new URL(TEST_PG_URL);
    const vars: Record<string, string> = {
      PGHOST: url.hostname,
      PGPORT: url.port || "5432",
      PGUSER: decodeURIComponent(url.username),
      PGDATABASE: url.pathname.slice(1),
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
    for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
    try {
      const client = await connectPostgres(undefined);
      try {
        const [db] = await client.query<{ d: string }>("SELECT current_database() AS d");
        assert.equal(
          client.location,
          `postgresql://${vars.PGUSER}@${
            vars.PGHOST === "localhost" ? "127.0.0.1" : vars.PGHOST
          }:${vars.PGPORT}/${db.d} (from the libpq environment)`,
        );
      } finally {
        await client.close();
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Deno.env.delete(k);
        else Deno.env.set(k, v);
      }
    }
  },
});
