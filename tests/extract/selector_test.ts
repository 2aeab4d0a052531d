import assert from "node:assert/strict";
import { findValues, setAtPath } from "../../lib/common/jsonpath.ts";
import { findResponsePageData, getField, selectPageData } from "../../lib/extract/selector.ts";

Deno.test("findValues() reads the supported JSONPath subset", () => {
  const doc = { data: { items: [{ id: 1 }, { id: 2 }] }, "@odata.nextLink": "u", list: [7, 8] };
  assert.deepEqual(findValues("$", doc), [doc]);
  assert.deepEqual(findValues("data.items", doc), [[{ id: 1 }, { id: 2 }]]);
  assert.deepEqual(findValues("$.data.items", doc), [[{ id: 1 }, { id: 2 }]]);
  assert.deepEqual(findValues("$.data.items[*].id", doc), [1, 2]);
  assert.deepEqual(findValues("data.items[*]", doc), [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(findValues("['@odata.nextLink']", doc), ["u"]);
  assert.deepEqual(findValues("$['@odata.nextLink']", doc), ["u"]);
  assert.deepEqual(findValues('$["data"]["items"][1]', doc), [{ id: 2 }]);
  assert.deepEqual(findValues("list[-1]", doc), [8]);
  assert.deepEqual(findValues("missing.x", doc), []);
  assert.throws(() => findValues("$..id", doc), /recursive descent/);
});

Deno.test("setAtPath() creates objects on the way and copies", () => {
  const a = { x: 1 };
  assert.deepEqual(setAtPath(a, "p.cursor", "c"), { x: 1, p: { cursor: "c" } });
  assert.deepEqual(a, { x: 1 });
});

Deno.test("selectPageData() with a data_selector unwraps one matched list and wraps objects", () => {
  assert.deepEqual(selectPageData([{ id: 1 }], "$"), [{ id: 1 }]);
  assert.deepEqual(selectPageData({ id: 1 }, "$"), [{ id: 1 }]);
  assert.deepEqual(selectPageData({ data: { items: [{ id: 1 }] } }, "data.items"), [{ id: 1 }]);
  assert.deepEqual(selectPageData({ data: { items: [{ id: 1 }] } }, "$.data.items"), [{ id: 1 }]);
  assert.deepEqual(selectPageData({ data: [{ id: 1 }, { id: 2 }] }, "data[*]"), [
    { id: 1 },
    { id: 2 },
  ]);
  assert.deepEqual(selectPageData({ data: null }, "data"), []);
  assert.deepEqual(selectPageData({ other: 1 }, "data"), []);
  assert.deepEqual(selectPageData(null, "$"), []);
  assert.deepEqual(selectPageData({ value: 5 }, "value"), [5]);
});

Deno.test("selectPageData() auto-detects records as dlt does", () => {
  assert.deepEqual(selectPageData([{ id: 1 }, { id: 2 }]), [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(selectPageData({ id: 9, tags: ["a"] }), ["a"]);
  assert.deepEqual(selectPageData({ id: 9, name: "x" }), [{ id: 9, name: "x" }]);
  // record keys win over other lists, even less nested ones
  assert.deepEqual(selectPageData({ tags: ["t"], result: { items: [{ id: 1 }] } }), [{ id: 1 }]);
  // meta/links lists are never records
  assert.deepEqual(selectPageData({ links: [{ rel: "n" }], stuff: { list: [{ id: 3 }] } }), [
    { id: 3 },
  ]);
  assert.deepEqual(selectPageData({ meta: { errors: [1] } }), [{ meta: { errors: [1] } }]);
  assert.equal(findResponsePageData({ pagination: {}, data: [] }), "$['data']");
  // only 2 levels deep
  assert.equal(findResponsePageData({ a: { b: { c: { d: [1] } } } }), "$");
  assert.deepEqual(selectPageData(null), []);
});

Deno.test("getField() reads names, dotted paths and JSONPath", () => {
  const rec = { id: 4, "a.b": 1, namespace: { id: 9, full_path: "g/s" } };
  assert.deepEqual(getField(rec, "id"), { found: true, value: 4 });
  assert.deepEqual(getField(rec, "$.id"), { found: true, value: 4 });
  assert.deepEqual(getField(rec, "namespace.id"), { found: true, value: 9 });
  assert.deepEqual(getField(rec, "a.b"), { found: true, value: 1 });
  assert.deepEqual(getField(rec, "nope"), { found: false, value: null });
  assert.deepEqual(getField({ x: null }, "x"), { found: true, value: null });
});
