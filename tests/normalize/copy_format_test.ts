import assert from "node:assert/strict";
import {
  copyEscape,
  encodeCopyRow,
  encodeCopyValue,
  JsonFloat,
  parseJson,
  replaceNul,
} from "../../lib/normalize/mod.ts";

Deno.test("copyEscape() escapes backslash, newline, CR and tab", () => {
  assert.equal(copyEscape("a\\b\nc\rd\te"), "a\\\\b\\nc\\rd\\te");
  assert.equal(copyEscape("plain"), "plain");
  assert.equal(copyEscape("x\ny"), "x\\ny");
});

Deno.test("replaceNul() writes NUL as the six characters \\u0000", () => {
  assert.equal(replaceNul("a\u0000b"), "a\\u0000b");
  assert.equal(copyEscape("a\u0000b"), "a\\\\u0000b");
  assert.equal(encodeCopyValue(parseJson('{"k":"a\\u0000b"}'), "json"), '{"k":"a\\\\\\\\u0000b"}');
});

Deno.test("encodeCopyValue() encodes each type", () => {
  assert.equal(encodeCopyValue(null, "text"), "\\N");
  assert.equal(encodeCopyValue(undefined, "bigint"), "\\N");
  assert.equal(encodeCopyValue(true, "bool"), "t");
  assert.equal(encodeCopyValue(false, "bool"), "f");
  assert.equal(encodeCopyValue(9007199254740993n, "bigint"), "9007199254740993");
  assert.equal(encodeCopyValue(1.5, "double"), "1.5");
  assert.equal(encodeCopyValue(new JsonFloat(2), "double"), "2");
  assert.equal(encodeCopyValue(NaN, "double"), "NaN");
  assert.equal(
    encodeCopyValue(parseJson('{"a":[1,"x\\ty"],"b":1.0}'), "json"),
    '{"a":[1,"x\\\\ty"],"b":1.0}',
  );
  assert.equal(
    encodeCopyValue("2016-01-04T15:31:51.081000+00:00", "timestamp"),
    "2016-01-04T15:31:51.081000+00:00",
  );
  assert.equal(encodeCopyValue(Uint8Array.of(1, 255), "binary"), "\\\\x01ff");
});

Deno.test("encodeCopyRow() writes values in column order with \\N for missing ones", () => {
  const row = new Map<string, unknown>([["b", "x\ty"], ["a", 1]]);
  const line = encodeCopyRow(row, [
    { name: "a", type: "bigint" },
    { name: "b", type: "text" },
    { name: "c", type: "text" },
  ]);
  assert.equal(line, "1\tx\\ty\t\\N");
});
