/**
 * init-openapi: the OpenAPI → catalog generator against GitLab's spec and the seed's source.
 */

import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { parseCatalog } from "../../lib/catalog/mod.ts";
import { generateCatalog, readSpec, renderCatalog } from "../../lib/openapi/mod.ts";
import { runCli } from "../helpers/cli.ts";
import { join } from "node:path";
import { exitCodeOf, GitlabPgError, UserError } from "../../lib/common/errors.ts";

const SPEC = new URL("../testdata/reference/gitlab-openapi.yaml", import.meta.url).pathname;
const SEED = new URL("../testdata/catalogs/seed_source.yaml", import.meta.url).pathname;

type Doc = { resources: Record<string, unknown>[]; [k: string]: unknown };

/** The fields the seed's resources are compared on, one resource per name. */
function comparable(doc: Doc): Record<string, unknown>[] {
  return doc.resources.map((r) => {
    const endpoint = r.endpoint as Record<string, unknown>;
    return {
      name: r.name,
      table_name: r.table_name,
      primary_key: r.primary_key,
      write_disposition: r.write_disposition,
      path: endpoint.path,
      data_selector: endpoint.data_selector,
      params: endpoint.params,
      selected: r.selected,
    };
  });
}

Deno.test("generateCatalog() on GitLab's spec matches the seed's source resource for resource", async () => {
  const spec = await readSpec(SPEC);
  const generated = parseYaml(renderCatalog(generateCatalog(spec))) as Doc;
  const seed = parseYaml(await Deno.readTextFile(SEED)) as Doc;
  assert.equal(generated.resources.length, 33); // every GET of the spec, as the seed
  assert.deepEqual(comparable(generated), comparable(seed));
  assert.deepEqual(generated.client, seed.client);
  assert.equal(generated.source_name, seed.source_name);
  assert.equal(generated.max_table_nesting, 2);
  const tables = new Set(generated.resources.map((r) => r.table_name));
  assert.equal(tables.size, 18);
});

Deno.test("renderCatalog() writes FILL_ME_IN with TODO comments and optional params commented out", async () => {
  const text = renderCatalog(generateCatalog(await readSpec(SPEC)), { globalLimit: 2 });
  assert.match(text, /email: "FILL_ME_IN" # TODO: fill in required query parameter/);
  assert.match(text, /id: "FILL_ME_IN" # TODO: fill in required path parameter/);
  assert.match(text, /# "per_page": "20",/);
  assert.match(text, /# "size": "OPTIONAL_CONFIG",/);
  assert.match(text, /^limit: 2$/m);
  // The catalog reader sees exactly the unfilled values, nothing else.
  assert.throws(
    () => parseCatalog(text, { file: "generated.yaml" }),
    (e: Error) => /never filled in/.test(e.message) && !/unknown key/.test(e.message),
  );
  // once filled in, the catalog carries the limit (dlt's add_limit) for `gitlab-pg run`
  assert.equal(parseCatalog(text.replaceAll('"FILL_ME_IN"', '"42"')).limit, 2);
});

Deno.test("generateCatalog() with path patterns keeps needed parents unselected", async () => {
  const spec = await readSpec(SPEC);
  const catalog = generateCatalog(spec, { paths: ["/bulk_imports/*/entities/*"] });
  assert.deepEqual(
    catalog.resources.map((r) => [r.name, r.selected]),
    [
      ["get_api_v4_bulk_imports", false],
      ["get_api_v4_bulk_imports_import_id_entities_entity_id", true],
      ["get_api_v4_bulk_imports_import_id_entities", false],
    ],
  );
  const none = generateCatalog(spec, { paths: ["/nothing"] });
  assert.equal(none.resources.length, 0);
  assert.match(none.warnings[0], /No endpoint matches "\/nothing"/);
});

Deno.test("generateCatalog() detects offset and cursor paginators and nested data selectors", () => {
  const catalog = generateCatalog({
    openapi: "3.0.0",
    info: { title: "Shop API" },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Order: { type: "object", properties: { order_id: { type: "integer" } } },
        Page: {
          type: "object",
          properties: {
            total: { type: "integer" },
            data: { type: "array", items: { $ref: "#/components/schemas/Order" } },
          },
        },
      },
    },
    paths: {
      "/orders": {
        get: {
          operationId: "listOrders",
          parameters: [
            { name: "offset", in: "query" },
            { name: "limit", in: "query", schema: { default: 50 } },
          ],
          responses: {
            "200": {
              content: { "application/json": { schema: { $ref: "#/components/schemas/Page" } } },
            },
          },
        },
      },
      "/orders/{orderId}": {
        get: {
          operationId: "getOrder",
          parameters: [{ name: "orderId", in: "path", required: true }],
          responses: {
            "200": {
              content: { "application/json": { schema: { $ref: "#/components/schemas/Order" } } },
            },
          },
        },
      },
    },
  });
  assert.equal(catalog.sourceName, "shop_source");
  assert.deepEqual(catalog.auth, { type: "bearer" });
  assert.deepEqual(catalog.paginator, {
    type: "offset",
    limit: 50,
    offset_param: "offset",
    limit_param: "limit",
    total_path: "total",
  });
  const [list, one] = catalog.resources;
  assert.equal(list.name, "list_orders");
  assert.equal(list.tableName, "order");
  assert.equal(list.dataSelector, "data");
  assert.equal(list.primaryKey, "order_id");
  // Page is not a list endpoint, so the single order stays FILL_ME_IN.
  assert.deepEqual(one.params, [{ kind: "fill", name: "orderId", where: "path" }]);
});

Deno.test("readSpec() reads JSON over HTTP and rejects Swagger 2", async () => {
  const spec = { openapi: "3.0.1", info: { title: "X" }, paths: {} };
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/v2.json"
        ? Response.json({ swagger: "2.0", paths: {} })
        : Response.json(spec),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  assert.deepEqual(await readSpec(`${base}/spec.json`), spec);
  await assert.rejects(
    readSpec(`${base}/v2.json`),
    /expected OpenAPI 3 \("openapi: 3.x"\), got Swagger "2.0"/,
  );
  await assert.rejects(
    readSpec("/no/such/spec.yaml"),
    /Cannot read spec "\/no\/such\/spec.yaml": file not found/,
  );
  // a network failure is a failure (exit 1), with its reason, not a usage error
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const err = await readSpec(`http://127.0.0.1:${closed}/spec.yaml`).catch((e) => e);
  assert.ok(err instanceof GitlabPgError && !(err instanceof UserError), String(err));
  assert.equal(exitCodeOf(err), 1);
  assert.match(
    err.message,
    /^Cannot fetch spec "http:\/\/127\.0\.0\.1:\d+\/spec\.yaml": .+: .*(refused|Connect)/i,
  );
});

Deno.test("gitlab-pg init-openapi writes a catalog that catalog check reads back", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const out = await runCli(["init-openapi", SPEC, "-o", "gitlab.yaml"], { cwd });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /Wrote gitlab.yaml: 33 resources, \d+ "FILL_ME_IN" values to fill in/);
    const again = await runCli(["init-openapi", SPEC, "-o", "gitlab.yaml"], { cwd });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /it exists \(pass --force to overwrite it\)/);
    const check = await runCli(["catalog", "check", "gitlab.yaml"], { cwd });
    assert.equal(check.code, 2);
    assert.match(check.stderr, /gitlab.yaml:\d+:\d+: .*never filled in/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("gitlab-pg init-openapi writes nothing and exits 2 when no endpoint matches --path", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const out = await runCli(["init-openapi", SPEC, "--path", "/nomatch/*", "-o", "none.yaml"], {
      cwd,
    });
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /no GET endpoint returning JSON matches --path \/nomatch\/\*/);
    await assert.rejects(Deno.stat(join(cwd, "none.yaml")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a spec without auth or pagination gives a catalog that passes its own check", () => {
  const spec = {
    openapi: "3.0.1",
    info: { title: "Mini", version: "1" },
    servers: [{ url: "https://api.example.com" }],
    paths: {
      "/things": {
        get: {
          operationId: "listThings",
          responses: {
            "200": {
              description: "ok",
              content: {
                "application/json": {
                  schema: {
                    type: "array",
                    items: { type: "object", properties: { id: { type: "integer" } } },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
  const text = renderCatalog(generateCatalog(spec as Parameters<typeof generateCatalog>[0]));
  assert.match(text, /^client: \{\} # base_url: comes from \[sources\.gitlab\] base_url/m);
  const catalog = parseCatalog(text, { file: "mini.yaml" });
  assert.deepEqual(catalog.resources.map((r) => r.name), ["list_things"]);
});
