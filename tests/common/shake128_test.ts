import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { shake128Base64 } from "../../lib/common/shake128.ts";
import { keccakWasm } from "../../lib/common/keccak_wasm.ts";
import { digest128, rowHash } from "../../lib/normalize/ids.ts";

/** The reference: `node:crypto`'s SHAKE128, base64 without `=`. */
function reference(text: string | Uint8Array, bytes: number): string {
  return createHash("shake128", { outputLength: bytes }).update(text).digest("base64")
    .replace(/=+$/, "");
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("shake128Base64() equals node:crypto's SHAKE128 at every length around a block", () => {
  // the rate is 168 bytes: texts of 0 to 400 bytes cross one and two block boundaries
  for (let n = 0; n <= 400; n++) {
    const text = "abcdefghijklmnopqrstuvwxyz0123456789_".repeat(12).slice(0, n);
    for (const bytes of [1, 4, 10, 16, 32, 167, 168]) {
      assert.equal(
        shake128Base64(text, bytes),
        reference(text, bytes),
        `${n} bytes in, ${bytes} out`,
      );
    }
  }
});

Deno.test("shake128Base64() hashes the UTF-8 bytes: non-ASCII, astral and lone surrogates", () => {
  const next = random(7);
  const samples = [
    "é",
    "日本語",
    "🎉".repeat(60),
    "a\u0000b",
    "\ud800",
    "x\udc00y",
    "Ω".repeat(200),
  ];
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(next() * 300);
    let s = "";
    for (let j = 0; j < length; j++) {
      const r = next();
      s += r < 0.8
        ? String.fromCharCode(32 + Math.floor(next() * 95))
        : r < 0.95
        ? String.fromCharCode(0xa0 + Math.floor(next() * 0xd000))
        : String.fromCodePoint(0x10000 + Math.floor(next() * 0x10000));
    }
    samples.push(s);
  }
  for (const s of samples) {
    assert.equal(shake128Base64(s, 10), reference(s, 10), JSON.stringify(s).slice(0, 60));
  }
});

Deno.test("shake128Base64() hashes long texts (beyond its reused 64 KiB buffer)", () => {
  for (const text of ["é".repeat(40_000), "x".repeat(70_000), "short after long"]) {
    assert.equal(shake128Base64(text, 10), reference(text, 10), `${text.length} characters`);
  }
});

Deno.test("shake128Base64() refuses more output than one block", () => {
  assert.throws(() => shake128Base64("a", 169), RangeError);
});

Deno.test("digest128() and rowHash() keep dlt's ids (SHAKE128, 10 bytes, base64)", () => {
  // dlt: digest128("a_issues__labels_0") and get_row_hash over sorted compact JSON
  assert.equal(digest128("a_issues__labels_0"), reference("a_issues__labels_0", 10));
  assert.equal(
    rowHash(new Map<string, unknown>([["b", "ü"], ["a", 1], ["_dlt_id", "x"]])),
    reference(new TextEncoder().encode('{"a":1,"b":"ü"}'), 10),
  );
});

Deno.test("keccakWasm(): Keccak-f[1600] of the zero state, twice, is FIPS 202's known answer", () => {
  // the Keccak team's KeccakF-1600 intermediate values: the first lanes after one and two
  // permutations of the all-zero state
  const { permute, memory } = keccakWasm();
  const lanes = new BigUint64Array(memory.buffer, 0, 25);
  lanes.fill(0n);
  permute();
  assert.equal(lanes[0], 0xF1258F7940E1DDE7n);
  assert.equal(lanes[1], 0x84D5CCF933C0478An);
  assert.equal(lanes[24], 0xEAF1FF7B5CECA249n);
  permute();
  assert.equal(lanes[0], 0x2D5C954DF96ECB3Cn);
  assert.equal(lanes[24], 0x20D06CD26A8FBF5Cn);
});
