import assert from "node:assert/strict";
import { JsonFloat, JsonInteger, parseJsonLossless } from "../../lib/common/lossless_json.ts";

Deno.test("parseJsonLossless() keeps big integers and 1.0 through JSON.stringify", () => {
  const text =
    '{"a":9007199254740993,"b":-18446744073709551616,"c":1.0,"d":1e3,"e":1.5,"f":12,"g":[2.0,"x\\u0000"]}';
  const v = parseJsonLossless(text) as Record<string, unknown>;
  assert.ok(v.a instanceof JsonInteger);
  assert.equal((v.a as JsonInteger).value, 9007199254740993n);
  assert.ok(v.c instanceof JsonFloat);
  assert.equal(v.e, 1.5);
  assert.equal(v.f, 12);
  // compare like numbers
  assert.ok((v.a as unknown as number) > 9007199254740992);
  assert.ok((v.c as unknown as number) < 2);
  assert.equal(
    JSON.stringify(v),
    '{"a":9007199254740993,"b":-18446744073709551616,"c":1.0,"d":1000.0,"e":1.5,"f":12,"g":[2.0,"x\\u0000"]}',
  );
  // JSON.parse would have lost both
  assert.notEqual(JSON.stringify(JSON.parse(text)), JSON.stringify(v));
});
