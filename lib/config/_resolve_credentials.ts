/**
 * Resolves `[destination.postgres.credentials]`: a connection string or fields, in every
 * provider, merged field by field.
 *
 * @module
 */

import { registerSecret } from "../common/redact.ts";
import { envVarOf } from "./config_keys.ts";
import { parseConnectionString, type PartialCredentials } from "./_connection_string.ts";
import type { Provider } from "./_providers.ts";
import {
  asInt,
  asString,
  type Found,
  Invalid,
  isSet,
  isSetSecret,
  isTable,
  kindOf,
  type Problems,
  problemText,
  shown,
} from "./_values.ts";
import type { PostgresCredentials } from "./types.ts";

/** libpq's `sslmode` values. */
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/** Dotted key of the credentials. */
export const CREDS = "destination.postgres.credentials";

function queryFrom(value: unknown): Record<string, string> {
  let table = value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("{")) {
      try {
        table = JSON.parse(text);
      } catch {
        throw new Invalid(`expected a table like {"sslmode": "require"}, got ${shown(value)}`);
      }
    } else {
      table = Object.fromEntries(new URLSearchParams(text));
    }
  }
  if (!isTable(table)) {
    throw new Invalid(`expected a table like { sslmode = "require" }, got ${kindOf(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(table)) {
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") {
      out[key] = String(item);
    } else {
      throw new Invalid(`expected "${key}" to be a string, got ${kindOf(item)}`);
    }
  }
  return out;
}

/** Credentials given by one provider: a connection string and/or fields, or undefined. */
function credentialsFrom(
  provider: Provider,
  env: Record<string, string | undefined> | undefined,
  problems: Problems,
): PartialCredentials | undefined {
  let out: PartialCredentials = { query: {} };
  let given = false;
  const at = (key: string, value: unknown): Found => ({ key, value, origin: provider.origin });
  const whole = provider.get(CREDS);
  if (typeof whole === "string" && isSet(whole)) {
    given = true;
    const parsed = problems.check(
      at(CREDS, whole),
      (v) => parseConnectionString(v as string, registerSecret),
    );
    if (parsed) out = parsed;
  } else if (isSet(whole) && !isTable(whole)) {
    problems.list.push(problemText(
      CREDS,
      provider.origin,
      `expected a connection string or a table of credential fields, got ${kindOf(whole)}`,
    ));
  }
  const field = (name: string) => {
    const value = provider.get(`${CREDS}.${name}`);
    if (!(name === "password" ? isSetSecret(value) : isSet(value))) return undefined;
    given = true;
    return at(`${CREDS}.${name}`, value);
  };
  for (const name of ["database", "username", "password", "host"] as const) {
    const found = field(name);
    if (!found) continue;
    if (name === "password" && typeof found.value === "string") {
      registerSecret(found.value.trim());
    }
    const value = problems.check(found, (v) => asString(v, name === "password"));
    if (value !== undefined) out[name] = value;
  }
  const port = field("port");
  if (port) out.port = problems.check(port, (v) => asInt(v, 1, 65535)) ?? out.port;
  const timeout = field("connect_timeout");
  if (timeout) {
    out.connect_timeout = problems.check(timeout, (v) => asInt(v, 0)) ?? out.connect_timeout;
  }
  const encoding = field("client_encoding");
  if (encoding) {
    const value = problems.check(encoding, (v) => asString(v));
    if (value) out.query.client_encoding = value;
  }
  const driver = field("drivername");
  if (driver) {
    problems.check(driver, (v) => {
      if (!/^postgres(ql)?(\+[a-z0-9]+)?$/.test(asString(v))) {
        throw new Invalid(`expected "postgresql", got ${shown(v)}`);
      }
    });
  }
  const query = field("query");
  if (query) Object.assign(out.query, problems.check(query, queryFrom) ?? {});
  if (env) {
    // DESTINATION__POSTGRES__CREDENTIALS__QUERY__SSLMODE=require sets query.sslmode
    const prefix = `${envVarOf(CREDS)}__QUERY__`;
    for (const [name, value] of Object.entries(env)) {
      if (name.startsWith(prefix) && isSet(value)) {
        given = true;
        out.query[name.slice(prefix.length).toLowerCase()] = value!.trim();
      }
    }
  }
  if ("sslmode" in out.query) {
    // postgres.js would take an unknown mode for "require" and fail on TLS, not on the value
    problems.check(at(CREDS, out.query.sslmode), (v) => {
      if (!SSL_MODES.includes(String(v))) {
        throw new Invalid(
          `sslmode must be one of ${SSL_MODES.join(", ")}, got ${shown(v)}`,
        );
      }
    });
  }
  if ("connect_timeout" in out.query) {
    const found = at(`${CREDS}.query`, out.query.connect_timeout);
    out.connect_timeout = problems.check(found, (v) => asInt(v, 0)) ?? out.connect_timeout;
    delete out.query.connect_timeout;
  }
  return given || Object.keys(out.query).length > 0 ? out : undefined;
}

/**
 * Merges the credentials of all providers field by field (higher providers win; query
 * parameters merge by name), then fills in port 5432 and connect_timeout 15. Undefined when no
 * provider gives any credential.
 */
export function resolveCredentials(
  providers: Provider[],
  env: Record<string, string | undefined>,
  problems: Problems,
): { credentials: PostgresCredentials; from: string } | undefined {
  let result: PostgresCredentials | undefined;
  const from: string[] = [];
  // lowest priority first, so higher ones overwrite field by field
  for (const provider of [...providers].reverse()) {
    const part = credentialsFrom(
      provider,
      provider.origin.kind === "env" ? env : undefined,
      problems,
    );
    if (!part) continue;
    from.unshift(originOf(provider.origin));
    const { query, ...fields } = part;
    const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    result = { ...result, ...defined, query: { ...result?.query, ...query } };
  }
  if (!result) return undefined;
  return {
    credentials: {
      ...result,
      port: result.port ?? 5432,
      connect_timeout: result.connect_timeout ?? 15,
    },
    from: `${CREDS} in ${from.join(" and ")}`,
  };
}

/** Where one provider's credentials came from, for connection errors. */
function originOf(origin: Provider["origin"]): string {
  switch (origin.kind) {
    case "file":
      return `"${origin.file}"`;
    case "env":
      return `the environment (${envVarOf(CREDS)}…)`;
    case "flag":
      return "command-line flags";
  }
}
