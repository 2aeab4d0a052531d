/**
 * Parses a Postgres connection string into dlt's credential fields.
 *
 * @module
 */

import type { PostgresCredentials } from "./types.ts";
import { asInt, Invalid } from "./_values.ts";

/** Credential fields as given by one provider: every field optional. */
export type PartialCredentials = Partial<Omit<PostgresCredentials, "query">> & {
  query: Record<string, string>;
};

const EXAMPLE = `"postgresql://loader:***@localhost:5432/dlt_data"`;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The scheme of a connection string, lower-cased, or undefined when it has none. */
function schemeOf(text: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1].toLowerCase();
}

/**
 * Reads `postgresql://user:password@host:port/database?param=value` (also `postgres://`):
 * user, password and database percent-decoded, query parameters into `query` except
 * `connect_timeout`, which goes to its own field. Never puts the text in an error (it may hold
 * a password). Calls `onSecret` with the password before anything can fail.
 */
export function parseConnectionString(
  text: string,
  onSecret: (secret: string) => void,
): PartialCredentials {
  const s = text.trim();
  const scheme = schemeOf(s);
  if (scheme === undefined) {
    throw new Invalid(
      `expected a connection string like ${EXAMPLE}, got a string that is not a URL`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    // reported below
  }
  if (url?.password) onSecret(decode(url.password));
  if (!/^postgres(ql)?(\+[a-z0-9]+)?$/.test(scheme)) {
    throw new Invalid(
      `expected a connection string starting with "postgresql://" or "postgres://", ` +
        `got "${scheme}://..."`,
    );
  }
  if (!url) {
    throw new Invalid(`expected a connection string like ${EXAMPLE}, got an invalid URL`);
  }
  const out: PartialCredentials = { query: {} };
  if (url.username) out.username = decode(url.username);
  if (url.password) out.password = decode(url.password);
  const host = decode(url.hostname).replace(/^\[(.*)\]$/, "$1");
  if (host) out.host = host;
  if (url.port) out.port = Number(url.port);
  const database = decode(url.pathname.replace(/^\//, ""));
  if (database) out.database = database;
  for (const [key, value] of url.searchParams) {
    if (key === "connect_timeout") {
      try {
        out.connect_timeout = asInt(value, 0);
      } catch (e) {
        throw new Invalid(`connect_timeout in the connection string: ${(e as Error).message}`);
      }
    } else {
      out.query[key] = value;
    }
  }
  return out;
}
