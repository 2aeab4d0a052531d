/**
 * Providers of config values (overrides, env, secrets.toml, config.toml) and the lookup across
 * them in precedence order.
 *
 * @module
 */

import { envVarOf } from "./config_keys.ts";
import { type Found, isSet, isTable, type Origin } from "./_values.ts";

/** One place values are looked up in, by dotted key. */
export interface Provider {
  origin: Origin;
  get(key: string): unknown;
}

/** The value at a dotted key of a table, or undefined. */
export function walk(doc: Record<string, unknown>, key: string): unknown {
  if (key === "") return doc; // the document itself
  let node: unknown = doc;
  for (const part of key.split(".")) {
    if (!isTable(node)) return undefined;
    node = Object.hasOwn(node, part) ? node[part] : undefined;
  }
  return node;
}

/** Looks keys up in a parsed TOML document (or the overrides, shaped like one). */
export function tableProvider(doc: Record<string, unknown>, origin: Origin): Provider {
  return { origin, get: (key) => walk(doc, key) };
}

/** Looks keys up in env vars named like dlt does: `SOURCES__GITLAB__API_KEY`. */
export function envProvider(env: Record<string, string | undefined>): Provider {
  return { origin: { kind: "env" }, get: (key) => env[envVarOf(key)] };
}

/** The first set value of `keys` (most specific first) in each provider (highest first). */
export function lookup(
  providers: Provider[],
  keys: string[],
  set: (value: unknown) => boolean = isSet,
): Found | undefined {
  for (const provider of providers) {
    for (const key of keys) {
      const value = provider.get(key);
      if (set(value)) return { value, key, origin: provider.origin };
    }
  }
  return undefined;
}
