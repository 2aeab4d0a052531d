/**
 * `gitlab-pg init-openapi SPEC`: our dlt-init-openapi. Reads an OpenAPI 3 spec (YAML or JSON,
 * file or URL) and writes a catalog YAML with dlt-init-openapi's rules.
 *
 * @module
 */

import { resolve } from "node:path";
import { UsageError } from "../common/errors.ts";
import { generateCatalog, readSpec, renderCatalog } from "../openapi/mod.ts";
import { flagsHelp, type FlagSpec, intFlag, parseFlags } from "./args.ts";
import type { CliIo, Command } from "./io.ts";

const FLAGS: Record<string, FlagSpec> = {
  output: {
    type: "string",
    short: "o",
    value: "FILE",
    description: "Write the catalog here (default: print it on stdout)",
  },
  name: {
    type: "string",
    value: "NAME",
    description:
      'Source name; the catalog\'s source_name is "<NAME>_source" (default: from the spec title)',
  },
  path: {
    type: "string",
    value: "PATTERNS",
    description:
      "Only endpoints whose path matches one of these comma-separated globs (* matches anything; /regex/ too); needed parents are added with selected: false",
  },
  "global-limit": {
    type: "string",
    value: "N",
    description:
      "As dlt-init-openapi: write a top-level `limit: N` (pages per request series, dlt's add_limit; run --limit overrides it)",
  },
  force: { type: "boolean", description: "Overwrite --output if it exists" },
};

/** The `init-openapi` command. */
export const initOpenapiCommand: Command = {
  name: "init-openapi",
  summary: "Generate a catalog from an OpenAPI 3 spec (dlt-init-openapi's rules)",
  help: () =>
    `Usage: gitlab-pg init-openapi SPEC [flags]

Reads an OpenAPI 3 spec (YAML or JSON; a file or an http(s) URL) and writes a catalog YAML
in dlt's rest_api vocabulary, as dlt-init-openapi does: one resource per GET endpoint,
names from the response schema (api_entities_badge), data_selector, paginator detection,
parent→child resolve, primary keys with merge, and "FILL_ME_IN" with a "# TODO" comment for
every required value. Check the result with "gitlab-pg catalog check FILE".

Flags:
${flagsHelp(FLAGS)}`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags("init-openapi", args, FLAGS);
    if (values.help) {
      io.out(this.help());
      return 0;
    }
    const source = positionals[0];
    if (!source) throw new UsageError(`"gitlab-pg init-openapi" needs a SPEC (file or URL)`);
    if (positionals.length > 1) {
      throw new UsageError(`Unknown argument "${positionals[1]}" for "gitlab-pg init-openapi"`);
    }
    const globalLimit = intFlag("global-limit", values["global-limit"]);
    const paths = typeof values.path === "string"
      ? values.path.split(",").map((p) => p.trim()).filter(Boolean)
      : undefined;
    const spec = await readSpec(source, { cwd: io.cwd, fetch: io.fetch });
    const catalog = generateCatalog(spec, {
      sourceName: typeof values.name === "string" ? `${values.name}_source` : undefined,
      paths,
    });
    if (catalog.resources.length === 0) {
      // a catalog without resources is no catalog: catalog check and run would refuse it
      throw new UsageError(
        `Cannot write a catalog from ${source}: ${
          paths
            ? `no GET endpoint returning JSON matches --path ${paths.join(",")}`
            : "it has no GET endpoint returning JSON"
        }; list the spec's paths to choose from (its "paths" keys)`,
      );
    }
    const text = renderCatalog(catalog, { specSource: source, globalLimit });
    for (const w of catalog.warnings) io.err(`WARNING: ${w}`);
    const fill = (text.match(/"FILL_ME_IN"/g) ?? []).length;
    if (typeof values.output !== "string") {
      io.out(text.trimEnd());
      return 0;
    }
    const target = resolve(io.cwd, values.output);
    try {
      await Deno.writeTextFile(target, text, { createNew: !values.force });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new UsageError(
          `Cannot write "${values.output}": it exists (pass --force to overwrite it)`,
        );
      }
      throw e;
    }
    io.err(
      `Wrote ${values.output}: ${catalog.resources.length} resources${
        fill > 0 ? `, ${fill} "FILL_ME_IN" values to fill in (see the TODO comments)` : ""
      }`,
    );
    return 0;
  },
};
