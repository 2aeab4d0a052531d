/**
 * Flag parsing shared by the commands: `node:util` parseArgs with usage errors that suggest
 * the nearest flag.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { closest } from "../common/did_you_mean.ts";
import { UsageError } from "../common/errors.ts";

/** One flag of a command. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in help, e.g. `N`. */
  value?: string;
  description: string;
}

/**
 * Parses `args` against `flags` (plus `--help`). Unknown flags and missing values are
 * {@linkcode UsageError}s naming the command.
 */
export function parseFlags(
  command: string,
  args: string[],
  flags: Record<string, FlagSpec>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, spec] of Object.entries(flags)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg);
    if (unknown) {
      const name = unknown[1].replace(/^-+/, "");
      const near = closest(name, Object.keys(options));
      throw new UsageError(
        `Unknown flag "${unknown[1]}" for "gitlab-pg ${command}"${
          near ? ` (did you mean "--${near}"?)` : ""
        }; see "gitlab-pg ${command} --help"`,
      );
    }
    const missing = /Option '(-{1,2}[^ ']+)[^']*' argument missing/.exec(msg);
    if (missing) {
      throw new UsageError(
        `Flag "${missing[1]}" of "gitlab-pg ${command}" needs a value (${
          missing[1]
        } VALUE); see "gitlab-pg ${command} --help"`,
      );
    }
    throw new UsageError(`Cannot read the flags of "gitlab-pg ${command}": ${msg}`);
  }
  // a value flag given twice would silently keep the last one, and an empty value (often an
  // unset shell variable: --resources "$RES") would silently mean "not given"
  const seen = new Map<string, string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option" || options[token.name].type !== "string") continue;
    const value = token.value ?? "";
    const flag = `--${token.name}`;
    if (value.trim() === "") {
      throw new UsageError(
        `Flag "${flag}" of "gitlab-pg ${command}" has an empty value (${flag} VALUE); see "gitlab-pg ${command} --help"`,
      );
    }
    const before = seen.get(token.name);
    if (before !== undefined) {
      throw new UsageError(
        `Flag "${flag}" of "gitlab-pg ${command}" is given twice ("${before}", then "${value}"); give it once${
          token.name === "resources" ? " (it takes a comma-separated list)" : ""
        }`,
      );
    }
    seen.set(token.name, value);
  }
  return {
    values: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

/** Reads a positive integer flag, at most `max` when given. */
export function intFlag(
  name: string,
  value: string | boolean | undefined,
  max?: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    typeof value !== "string" || !/^\d+$/.test(value) || n < 1 || (max !== undefined && n > max)
  ) {
    const range = max === undefined ? "of at least 1" : `from 1 to ${max}`;
    throw new UsageError(`Flag "--${name}" takes a whole number ${range}, got "${value}"`);
  }
  return n;
}

/** Formats the flags table of a command's help. */
export function flagsHelp(flags: Record<string, FlagSpec>): string {
  const rows = Object.entries(flags).map(([name, spec]) => {
    const left = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${
      spec.value ? ` ${spec.value}` : ""
    }`;
    return [left, spec.description] as const;
  });
  rows.push(["-h, --help", "Show this help"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, d]) => `  ${l.padEnd(width)}${d}`).join("\n");
}
