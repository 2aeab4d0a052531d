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
