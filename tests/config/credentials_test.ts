import assert from "node:assert/strict";
import { displayCredentials, loadConfig, postgresUrl } from "../../lib/config/mod.ts";
import { tempProject } from "./_helpers.ts";

async function credentialsOf(files: { config?: string; secrets?: string }, env = {}) {
  const config = await loadConfig({ cwd: await tempProject(files), env });
  return config.postgres?.credentials;
}

Deno.test("loadConfig() parses a connection string from secrets.toml", async () => {
  const creds = await credentialsOf({
    secrets: `[destination.postgres]\ncredentials = ` +
      `"postgresql://lo%40der:p%40ss%3Aw%2Frd@db.example.com:6543/my%20db?sslmode=require&connect_timeout=30"\n`,
  });
  assert.deepEqual(creds, {
    username: "lo@der",
    password: "p@ss:w/rd",
    host: "db.example.com",
    port: 6543,
    database: "my db",
    connect_timeout: 30,
    query: { sslmode: "require" },
  });
});

Deno.test("loadConfig() accepts postgres:// and fills in default port and timeout", async () => {
  const creds = await credentialsOf({}, {
    DESTINATION__POSTGRES__CREDENTIALS: "postgres://loader:pw@[::1]/dlt_data",
  });
  assert.deepEqual(creds, {
    username: "loader",
    password: "pw",
    host: "::1",
    database: "dlt_data",
    port: 5432,
    connect_timeout: 15,
    query: {},
  });
});

Deno.test("loadConfig() reads credential fields from a table", async () => {
  const creds = await credentialsOf({
    config: `[destination.postgres.credentials]\nhost = "h"\nport = 5433\ndatabase = "d"\n` +
      `connect_timeout = 5\nquery = { sslmode = "verify-full", sslrootcert = "/ca.pem" }\n`,
    secrets: `[destination.postgres.credentials]\nusername = "u"\npassword = "pw"\n`,
  });
  assert.deepEqual(creds, {
    host: "h",
    port: 5433,
    database: "d",
    connect_timeout: 5,
    username: "u",
    password: "pw",
    query: { sslmode: "verify-full", sslrootcert: "/ca.pem" },
  });
});

Deno.test("loadConfig() lets field env vars override a connection string from a file", async () => {
  const creds = await credentialsOf(
    { secrets: `[destination.postgres]\ncredentials = "postgresql://u:pw@file-host:5432/db"\n` },
    {
      DESTINATION__POSTGRES__CREDENTIALS__HOST: "env-host",
      DESTINATION__POSTGRES__CREDENTIALS__PORT: "6000",
      DESTINATION__POSTGRES__CREDENTIALS__PASSWORD: "env-pw",
      DESTINATION__POSTGRES__CREDENTIALS__QUERY__SSLMODE: "require",
    },
  );
  assert.deepEqual(creds, {
    username: "u",
    password: "env-pw",
    host: "env-host",
    port: 6000,
    database: "db",
    connect_timeout: 15,
    query: { sslmode: "require" },
  });
});

Deno.test("loadConfig() reads the query from env as JSON or URL parameters", async () => {
  const a = await credentialsOf({}, {
    DESTINATION__POSTGRES__CREDENTIALS__QUERY: '{"sslmode": "require", "connect_timeout": 9}',
  });
  assert.deepEqual(a, { port: 5432, connect_timeout: 9, query: { sslmode: "require" } });
  const b = await credentialsOf({}, {
    DESTINATION__POSTGRES__CREDENTIALS__QUERY: "sslmode=require&application_name=gl",
  });
  assert.deepEqual(b?.query, { sslmode: "require", application_name: "gl" });
});

Deno.test("loadConfig() takes credentials from overrides over everything", async () => {
  const config = await loadConfig({
    cwd: await tempProject({ secrets: `[destination.postgres.credentials]\nhost = "file"\n` }),
    env: { DESTINATION__POSTGRES__CREDENTIALS__HOST: "env" },
    overrides: { credentials: "postgresql://flag@flag-host/db" },
  });
  assert.equal(config.postgres?.credentials.host, "flag-host");
  assert.equal(config.postgres?.credentials.username, "flag");
});

Deno.test("BigAnimal credentials with sslmode=require reach the driver URL", async () => {
  const creds = await credentialsOf({
    secrets: `[destination.postgres.credentials]
database = "edb_admin"
username = "edb_admin"
password = "s3cr#t@pw"
host = "p-abc123.pg.biganimal.io"
query = { sslmode = "require" }
`,
  });
  assert.ok(creds);
  assert.equal(
    postgresUrl(creds),
    "postgresql://edb_admin:s3cr%23t%40pw@p-abc123.pg.biganimal.io:5432/edb_admin" +
      "?sslmode=require&connect_timeout=15",
  );
  assert.equal(
    displayCredentials(creds),
    "postgresql://edb_admin:***@p-abc123.pg.biganimal.io:5432/edb_admin",
  );
});

Deno.test("postgresUrl() round-trips through the connection string parser", async () => {
  const original = {
    username: "us er",
    password: "p@:/?#&=%",
    host: "::1",
    port: 5434,
    database: "d/b",
    connect_timeout: 3,
    query: { sslmode: "require", options: "-c search_path=x" },
  };
  const url = postgresUrl(original);
  assert.deepEqual(await credentialsOf({}, { DESTINATION__POSTGRES__CREDENTIALS: url }), original);
});

Deno.test("displayCredentials() hides the password and drops the query like dlt", () => {
  const creds = { username: "loader", password: "pw", host: "localhost", query: { a: "b" } };
  assert.equal(
    displayCredentials({ ...creds, database: "dlt_data" }),
    "postgresql://loader:***@localhost:5432/dlt_data",
  );
  assert.equal(
    displayCredentials({ username: "loader", host: "h", port: 5433, query: {} }),
    "postgresql://loader@h:5433",
  );
});
