/**
 * SHAKE128 (FIPS 202) in TypeScript, for the short texts dlt hashes: the `_dlt_id` of every
 * nested row, row hashes of merge keys, identifier tags. `node:crypto`'s hash objects cost
 * about 4.5–5 µs per call in Deno (a hash object, buffers, the call into Rust), this about
 * 0.7 µs for a row id, and it leaves no garbage but the result. The permutation is WebAssembly
 * (`keccak_wasm.ts`: 64-bit lanes and rotations; 2.1 µs per id when it was TypeScript on
 * 32-bit halves); padding, absorbing and base64 are here.
 *
 * @module
 */

import { base64NoPad } from "./base64.ts";
import { keccakWasm } from "./keccak_wasm.ts";

/** Keccak-f[1600] in WebAssembly and its state: 25 little-endian 64-bit lanes at bytes 0–199. */
const { permute, memory } = keccakWasm();
const stateBytes = new Uint8Array(memory.buffer, 0, 200);

/** Bytes absorbed per permutation (1344-bit rate). */
const RATE = 168;
const encoder = new TextEncoder();
/** Reused for texts up to 64 KiB of UTF-8; a longer text gets a buffer of its own. */
let scratch = new Uint8Array(256);
const SCRATCH_MAX = 64 << 10;

/** XORs `bytes[from, from + n)` into the state's first `n` bytes. */
function absorb(bytes: Uint8Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) stateBytes[i] ^= bytes[from + i];
}

/**
 * base64 (standard alphabet, no `=`) of the first `outputBytes` (at most 168) bytes of
 * SHAKE128 of the UTF-8 bytes of `text`.
 *
 * @example
 * ```ts
 * shake128Base64("", 10); // "f5wrpOiPgn1hYA"
 * ```
 */
export function shake128Base64(text: string, outputBytes: number): string {
  if (outputBytes > RATE) throw new RangeError(`SHAKE128 output over ${RATE} bytes`);
  // UTF-8 is at most 3 bytes per UTF-16 unit
  let bytes = scratch;
  if (bytes.length < text.length * 3) {
    bytes = new Uint8Array(text.length * 3);
    if (bytes.length <= SCRATCH_MAX) scratch = bytes;
  }
  const length = encoder.encodeInto(text, bytes).written;
  stateBytes.fill(0);
  let at = 0;
  for (; length - at >= RATE; at += RATE) {
    absorb(bytes, at, RATE);
    permute();
  }
  const rest = length - at;
  absorb(bytes, at, rest);
  // SHAKE's domain bits (1111) and the first padding bit, then the last padding bit
  stateBytes[rest] ^= 0x1f;
  stateBytes[RATE - 1] ^= 0x80;
  permute();
  return base64NoPad(stateBytes, 0, outputBytes);
}
