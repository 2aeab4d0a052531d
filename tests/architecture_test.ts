/**
 * The import rules of ARCHITECTURE.md, checked on the real module graph (`deno info --json`):
 * cli → pipeline → {extract, normalize, load} → {catalog, config, schema, storage} → common;
 * the stages never import each other.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).href;

/** Layer of each lib/ folder (and main.ts): imports may only go to a lower layer. */
const LAYER: Record<string, number> = {
  "main.ts": 7,
  cli: 6,
  show: 5,
  pipeline: 4,
  extract: 3,
  normalize: 3,
  load: 3,
  openapi: 3,
  destinations: 3,
  catalog: 2,
  config: 2,
  schema: 2,
  storage: 2,
  common: 1,
};
/** Allowed edges between folders of the same layer: a destination implements load's interface. */
const SAME_LAYER_ALLOWED = new Set(["destinations→load"]);

function folderOf(path: string): string {
  return path.startsWith("lib/") ? path.split("/")[1] : path;
}

/** main.ts's module graph (`deno info --json`). */
async function moduleGraph(): Promise<{
  modules: {
    specifier: string;
    dependencies?: {
      code?: { specifier?: string };
      type?: { specifier?: string };
      isDynamic?: boolean;
    }[];
  }[];
}> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../main.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(out.code, 0);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("imports go one way and the stages never import each other", async () => {
  const info = await moduleGraph();
  const edges = new Set<string>();
  for (const m of info.modules) {
    if (!m.specifier.startsWith(ROOT)) continue;
    const from = folderOf(m.specifier.slice(ROOT.length));
    for (const dep of m.dependencies ?? []) {
      const target = dep.code?.specifier ?? dep.type?.specifier;
      if (!target?.startsWith(ROOT) || target.endsWith(".json")) continue;
      const to = folderOf(target.slice(ROOT.length));
      if (from !== to) edges.add(`${from}→${to}`);
    }
  }
  assert.ok(edges.size > 10, "the graph was read");
  const wrong = [...edges].filter((e) => {
    const [from, to] = e.split("→");
    assert.ok(from in LAYER && to in LAYER, `folder of ${e} has no layer: add it to LAYER`);
    return LAYER[to] >= LAYER[from] && !SAME_LAYER_ALLOWED.has(e);
  });
  assert.deepEqual(wrong, [], `imports against the layering: ${wrong.join(", ")}`);
});

Deno.test("a run into a Postgres server does not load PGlite: it is imported only when chosen", async () => {
  const info = await moduleGraph();
  // the modules main.ts reaches by static imports alone
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const reached = new Set<string>();
  const stack = [new URL("../main.ts", import.meta.url).href];
  while (stack.length) {
    const s = stack.pop()!;
    if (reached.has(s)) continue;
    reached.add(s);
    for (const dep of bySpecifier.get(s)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code?.specifier) stack.push(dep.code.specifier);
    }
  }
  const pglite = [...reached].filter((s) => /pglite/i.test(s));
  assert.deepEqual(pglite, []);
  assert.ok(reached.has(new URL("../lib/destinations/postgres/client.ts", import.meta.url).href));
});
