/**
 * `gitlab-pg catalog`: list the catalog's resources, or `catalog check FILE` to validate one
 * offline with compiler-style errors.
 *
 * @module
 */

import { normalizeTablesPath } from "../schema/naming.ts";
import { resolve } from "node:path";
import { loadCatalog, resolveCatalogArg } from "../catalog/mod.ts";
import type { Catalog } from "../catalog/types.ts";
import { closest } from "../common/did_you_mean.ts";
import { UsageError, UserError } from "../common/errors.ts";
import { flagsHelp, type FlagSpec, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";

const FLAGS: Record<string, FlagSpec> = {
  catalog: {
    type: "string",
    value: "FILE",
    description:
      'Catalog YAML file, or "seed" for the embedded seed catalog (default: embedded gitlab)',
  },
  json: { type: "boolean", description: "Print the resource list as JSON" },
};

/** One row of the catalog listing. */
export function catalogRows(catalog: Catalog): Record<string, unknown>[] {
  return catalog.resources.map((r) => ({
    name: r.name,
    table_name: r.tableName,
    write_disposition: r.writeDisposition,
    primary_key: r.primaryKey,
    incremental: r.endpoint.incremental?.cursor_path ?? null,
    parent: r.parent ?? null,
    selected: r.selected,
    path: r.endpoint.path,
    description: r.description ?? null,
  }));
}

function table(rows: Record<string, unknown>[]): string {
  const cols = ["name", "table_name", "write_disposition", "primary_key", "incremental", "parent"];
  const cell = (v: unknown) =>
    v === null || v === undefined ? "-" : Array.isArray(v) ? v.join(",") || "-" : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n");
}

/** The `catalog` command. */
export const catalogCommand: Command = {
  name: "catalog",
  summary: "List the catalog's resources, or validate a catalog file (catalog check FILE)",
  help: () =>
    `Usage: gitlab-pg catalog [flags]
       gitlab-pg catalog check FILE...

Lists every resource of the catalog with its table, write disposition, primary key,
incremental cursor and parent. "check FILE..." validates catalogs offline (a file, or an
embedded catalog by name: seed) and prints every problem as file:line:col with the source line
(exit code 2 when one has problems).

Flags:
${flagsHelp(FLAGS)}`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags("catalog", args, FLAGS);
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    if (positionals[0] === "check") {
      const files = positionals.slice(1);
      if (files.length === 0) {
        throw new UsageError(
          `"gitlab-pg catalog check" needs a FILE (a catalog YAML, or "seed"); see "gitlab-pg catalog --help"`,
        );
      }
      if (values.json) {
        throw new UsageError(`"gitlab-pg catalog check" has no --json: it prints OK or problems`);
      }
      const check = async (file: string) => {
        // a file, or an embedded catalog by name (seed), as --catalog takes them
        const where = await resolveCatalogArg(file, { cwd: io.cwd });
        const path = where.path ?? resolve(io.cwd, file);
        const catalog = await loadCatalog(path, {
          file: where.file,
          tableName: normalizeTablesPath,
        });
        io.out(`${where.file ?? file}: OK, ${catalog.resources.length} resources`);
      };
      if (files.length === 1) {
        await check(files[0]);
        return 0;
      }
      // several (catalog check *.yaml): each one checked, each one's problems told
      let failed = 0;
      for (const file of files) {
        try {
          await check(file);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          failed++;
          io.err(`error: ${e.message}`);
        }
      }
      if (failed > 0) io.err(`${failed} of ${files.length} catalogs have problems`);
      return failed > 0 ? 2 : 0;
    }
    if (positionals.length) {
      const near = closest(positionals[0], ["check"]);
      throw new UsageError(
        `Unknown argument "${positionals[0]}" for "gitlab-pg catalog"${
          near
            ? ` (did you mean "${["gitlab-pg catalog", near, ...positionals.slice(1)].join(" ")}"?)`
            : ""
        }; see "gitlab-pg catalog --help"`,
      );
    }
    const where = await resolveCatalogArg(
      typeof values.catalog === "string" ? values.catalog : undefined,
      { cwd: io.cwd },
    );
    const catalog = await loadCatalog(where.path, {
      file: where.file,
      tableName: normalizeTablesPath,
    });
    const rows = catalogRows(catalog);
    io.out(values.json ? JSON.stringify(rows, null, 2) : table(rows));
    return 0;
  },
};
