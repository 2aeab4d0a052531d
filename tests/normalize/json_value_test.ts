import assert from "node:assert/strict";
import { JsonFloat, parseJson, pyFloatRepr, stringifyJson } from "../../lib/normalize/mod.ts";

Deno.test("parseJson() keeps key order, big integers and float literals", () => {
  const v = parseJson(
    '{"b": 1, "2": 2, "a": 9007199254740993, "f": 1.0, "g": 1.5, "e": 1e3}',
  ) as Map<
    string,
    unknown
  >;
  assert.deepEqual([...v.keys()], ["b", "2", "a", "f", "g", "e"]);
  assert.equal(v.get("a"), 9007199254740993n);
  assert.deepEqual(v.get("f"), new JsonFloat(1));
  assert.equal(v.get("g"), 1.5);
  assert.deepEqual(v.get("e"), new JsonFloat(1000));
});

Deno.test("parseJson() decodes escapes and rejects bad input", () => {
  assert.equal(parseJson('"a\\n\\u00e9\\"\\\\/"'), 'a\né"\\/');
  assert.deepEqual(parseJson(' [true, false, null, -0.5, "x"] '), [true, false, null, -0.5, "x"]);
  assert.throws(() => parseJson("{"), SyntaxError);
  assert.throws(() => parseJson("[1,]"), SyntaxError);
  assert.throws(() => parseJson("1 2"), SyntaxError);
});

Deno.test("stringifyJson() writes orjson-like compact JSON", () => {
  const v = parseJson('{"z": [1, 1.0, 2.5, 12345678901234567890], "a": {"é": true}}');
  assert.equal(stringifyJson(v), '{"z":[1,1.0,2.5,12345678901234567890],"a":{"é":true}}');
  assert.equal(
    stringifyJson(v, { sortKeys: true }),
    '{"a":{"é":true},"z":[1,1.0,2.5,12345678901234567890]}',
  );
  assert.equal(stringifyJson({ a: undefined, b: null }), '{"a":null,"b":null}');
});

Deno.test("pyFloatRepr() formats like Python repr", () => {
  assert.equal(pyFloatRepr(1), "1.0");
  assert.equal(pyFloatRepr(0.1), "0.1");
  assert.equal(pyFloatRepr(1e16), "1e+16");
  assert.equal(pyFloatRepr(1.5e-7), "1.5e-07");
  assert.equal(pyFloatRepr(0.0001), "0.0001");
  assert.equal(pyFloatRepr(-Infinity), "-inf");
});

Deno.test("parseRecord() takes JSON.parse only where it normalizes exactly like parseJson", async () => {
  const { parseRecord, normalizeItem, newSchema } = {
    ...await import("../../lib/normalize/mod.ts"),
    ...await import("../../lib/schema/mod.ts"),
  };
  const rowsOf = (item: unknown) => {
    let n = 0;
    return normalizeItem(item, {
      schema: newSchema("s"),
      table: "t",
      loadId: "1",
      newRowId: () => `id${n++}`,
    }).map(({ table, row }) => [table, stringifyJson(row)]);
  };
  const texts = [
    '{"id": 1, "at": "2024-01-01T10:00:00.000Z", "author": {"id": 2, "name": "é"}, "l": ["a"]}',
    '{"b": 1, "2021": {"x": 1}, "a": [1, 2]}', // integer-like key: order must be kept
    '{"big": 9007199254740993, "f": 1.0, "e": 2e3, "n": {"g": -0.0}}', // numbers JSON.parse changes
    '{"__proto__": {"x": 1}, "k": null, "s": "say \\"1\\": 2"}',
  ];
  for (const text of texts) {
    assert.deepEqual(rowsOf(parseRecord(text)), rowsOf(parseJson(text)), text);
  }
  // plain objects (the fast path) for ordinary records, Maps where key order or numbers need it
  assert.ok(!(parseRecord(texts[0]) instanceof Map));
  assert.ok(parseRecord(texts[1]) instanceof Map);
  assert.ok(parseRecord(texts[2]) instanceof Map);
});
