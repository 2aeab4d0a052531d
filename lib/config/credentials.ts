/**
 * Postgres credentials as text: the connection string handed to the driver and dlt's
 * displayable form with the password hidden.
 *
 * @module
 */

import type { PostgresCredentials } from "./types.ts";

function hostPart(host: string): string {
  if (host.startsWith("/")) return encodeURIComponent(host); // Unix socket folder
  if (host.includes(":") && !host.startsWith("[")) return `[${host}]`; // IPv6
  return host;
}

/** `user:password@host:port`; a missing host is written as localhost (a URL needs one). */
function authority(credentials: PostgresCredentials, password: string | undefined): string {
  const { username, host } = credentials;
  const port = credentials.port ?? 5432;
  let auth = username ? encodeURIComponent(username) : "";
  if (password !== undefined) auth += `:${password}`;
  if (auth) auth += "@";
  return `${auth}${hostPart(host || "localhost")}:${port}`;
}

/**
 * Returns the connection string for the driver:
 * `postgresql://user:password@host:port/database?query&connect_timeout=15`, with user, password
 * and database percent-encoded. Like dlt, `connect_timeout` is always in the query.
 *
 * @example
 * ```ts
 * postgresUrl({ username: "loader", password: "p@ss", host: "db.example.com", database: "dlt_data",
 *   query: { sslmode: "require" } });
 * // "postgresql://loader:p%40ss@db.example.com:5432/dlt_data?sslmode=require&connect_timeout=15"
 * ```
 */
export function postgresUrl(credentials: PostgresCredentials): string {
  const { password, database } = credentials;
  const secret = password ? encodeURIComponent(password) : undefined;
  const path = database ? `/${encodeURIComponent(database)}` : "/";
  const params = new URLSearchParams(credentials.query ?? {});
  params.set("connect_timeout", String(credentials.connect_timeout ?? 15));
  return `postgresql://${authority(credentials, secret)}${path}?${params}`;
}

/**
 * Returns dlt's displayable form of the credentials, for logs and load info: the password as
 * `***` and no query parameters.
 *
 * @example
 * ```ts
 * displayCredentials({ username: "loader", password: "secret", host: "localhost",
 *   database: "dlt_data", query: {} });
 * // "postgresql://loader:***@localhost:5432/dlt_data"
 * ```
 */
export function displayCredentials(credentials: PostgresCredentials): string {
  const hidden = credentials.password ? "***" : undefined;
  const path = credentials.database ? `/${encodeURIComponent(credentials.database)}` : "";
  return `postgresql://${authority(credentials, hidden)}${path}`;
}
