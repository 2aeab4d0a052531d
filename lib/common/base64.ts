/**
 * base64 without `=` padding, for the short ids dlt makes (`_dlt_id`, row hashes, tags).
 *
 * @module
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * `bytes[start, end)` as base64 (standard alphabet) without `=`, as Python's
 * `base64.b64encode(...).rstrip(b"=")`; no intermediate buffer or string.
 *
 * @example
 * ```ts
 * base64NoPad(new Uint8Array([1, 2, 3, 4]), 0, 4); // "AQIDBA"
 * ```
 */
export function base64NoPad(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  let i = start;
  for (; i + 2 < end; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64[v >> 18] + BASE64[(v >> 12) & 63] + BASE64[(v >> 6) & 63] + BASE64[v & 63];
  }
  const left = end - i;
  if (left === 1) {
    const v = bytes[i] << 16;
    out += BASE64[v >> 18] + BASE64[(v >> 12) & 63];
  } else if (left === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += BASE64[v >> 18] + BASE64[(v >> 12) & 63] + BASE64[(v >> 6) & 63];
  }
  return out;
}
