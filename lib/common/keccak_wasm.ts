/**
 * Keccak-f[1600] as a WebAssembly function, its module built here byte by byte (no binary in
 * the repository, no compiler): WebAssembly has 64-bit integers and rotations, which JavaScript
 * lacks (the lanes would be pairs of 32-bit halves), so the permutation runs about 4× faster.
 *
 * The module exports its memory `m` and a function `f()` that permutes the 25 lanes at bytes
 * 0–199 of that memory (little-endian, FIPS 202's lane order x + 5y); the round constants sit
 * at bytes 200–391.
 *
 * @module
 */

/** FIPS 202 round constants. */
const ROUND_CONSTANTS = [
  0x0000000000000001n,
  0x0000000000008082n,
  0x800000000000808an,
  0x8000000080008000n,
  0x000000000000808bn,
  0x0000000080000001n,
  0x8000000080008081n,
  0x8000000000008009n,
  0x000000000000008an,
  0x0000000000000088n,
  0x0000000080008009n,
  0x000000008000000an,
  0x000000008000808bn,
  0x800000000000008bn,
  0x8000000000008089n,
  0x8000000000008003n,
  0x8000000000008002n,
  0x8000000000000080n,
  0x000000000000800an,
  0x800000008000000an,
  0x8000000080008081n,
  0x8000000000008080n,
  0x0000000080000001n,
  0x8000000080008008n,
];

/** Rotation offsets of lane x + 5y (FIPS 202, rho). */
// deno-fmt-ignore
const ROTATIONS = [
  0, 1, 62, 28, 27,
  36, 44, 6, 55, 20,
  3, 10, 43, 25, 39,
  41, 45, 15, 21, 8,
  18, 2, 61, 56, 14,
];

/** Byte offset of the round constants in the memory. */
const RC_AT = 200;

// opcodes
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I64_LOAD = 0x29;
const I64_STORE = 0x37;
const I64_XOR = 0x85;
const I64_AND = 0x83;
const I64_ROTL = 0x89;
const I32_ADD = 0x6a;
const I32_NE = 0x47;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I64 = 0x7e;
const I32 = 0x7f;
/** memarg alignment of an i64 access: 2^3. */
const ALIGN_8 = 3;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a small integer. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A section: its id, then its contents behind their length. */
const section = (id: number, contents: number[]): number[] => [
  id,
  ...uleb(contents.length),
  ...contents,
];

/** A vector: its length, then its items. */
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** The body of `f`: lanes into locals, 24 rounds in a loop, lanes back. */
function permutationBody(): number[] {
  // locals: a0–a24 (0–24), c0–c4 (25–29), d0–d4 (30–34), b0–b24 (35–59), round offset (60)
  const a = (i: number) => i;
  const c = (x: number) => 25 + x;
  const d = (x: number) => 30 + x;
  const b = (i: number) => 35 + i;
  const round = 60;
  const code: number[] = [];
  const get = (i: number) => code.push(LOCAL_GET, ...uleb(i));
  const set = (i: number) => code.push(LOCAL_SET, ...uleb(i));
  for (let i = 0; i < 25; i++) {
    code.push(I32_CONST, 0, I64_LOAD, ALIGN_8, ...uleb(8 * i));
    set(a(i));
  }
  code.push(LOOP, VOID);
  // theta
  for (let x = 0; x < 5; x++) {
    get(a(x));
    for (let y = 1; y < 5; y++) {
      get(a(x + 5 * y));
      code.push(I64_XOR);
    }
    set(c(x));
  }
  for (let x = 0; x < 5; x++) {
    get(c((x + 4) % 5));
    get(c((x + 1) % 5));
    code.push(I64_CONST, 1, I64_ROTL, I64_XOR);
    set(d(x));
  }
  // rho and pi: B[y, 2x + 3y] = rot(A[x, y] ^ D[x], r[x, y])
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) {
      const lane = x + 5 * y;
      get(a(lane));
      get(d(x));
      code.push(I64_XOR);
      if (ROTATIONS[lane] !== 0) code.push(I64_CONST, ...sleb(ROTATIONS[lane]), I64_ROTL);
      set(b(y + 5 * ((2 * x + 3 * y) % 5)));
    }
  }
  // chi: A[x, y] = B[x, y] ^ (~B[x + 1, y] & B[x + 2, y])
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      get(b(x + 5 * y));
      get(b(((x + 1) % 5) + 5 * y));
      code.push(I64_CONST, ...sleb(-1), I64_XOR);
      get(b(((x + 2) % 5) + 5 * y));
      code.push(I64_AND, I64_XOR);
      set(a(x + 5 * y));
    }
  }
  // iota
  get(a(0));
  get(round);
  code.push(I64_LOAD, ALIGN_8, ...uleb(RC_AT), I64_XOR);
  set(a(0));
  get(round);
  code.push(I32_CONST, 8, I32_ADD, LOCAL_TEE, ...uleb(round));
  code.push(I32_CONST, ...sleb(8 * 24), I32_NE, BR_IF, 0, END);
  for (let i = 0; i < 25; i++) {
    code.push(I32_CONST, 0);
    get(a(i));
    code.push(I64_STORE, ALIGN_8, ...uleb(8 * i));
  }
  code.push(END);
  const locals = vector([[60, I64], [1, I32]]);
  return [...locals, ...code];
}

/** The module's bytes. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const constants = new Uint8Array(8 * ROUND_CONSTANTS.length);
  const view = new DataView(constants.buffer);
  ROUND_CONSTANTS.forEach((rc, i) => view.setBigUint64(8 * i, rc, true));
  const body = permutationBody();
  const name = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector([[0x60, 0, 0]])), // type 0: () -> ()
    ...section(3, vector([[0]])), // function 0 has type 0
    ...section(5, vector([[0x00, 1]])), // memory 0: one 64 KiB page
    ...section(7, vector([[...name("f"), 0x00, 0], [...name("m"), 0x02, 0]])),
    ...section(10, vector([[...uleb(body.length), ...body]])),
    // the round constants at RC_AT
    ...section(
      11,
      vector([[0x00, I32_CONST, ...sleb(RC_AT), END, ...vector([...constants].map((x) => [x]))]]),
    ),
  ]);
}

/** The permutation and the memory it works on. */
export interface KeccakWasm {
  /** Permutes the state at bytes 0–199 of `memory`. */
  permute: () => void;
  /** The module's memory (one page). */
  memory: WebAssembly.Memory;
}

/**
 * Instantiates the module (synchronously: it is a few kilobytes).
 *
 * @example
 * ```ts
 * const { permute, memory } = keccakWasm();
 * const state = new Uint8Array(memory.buffer, 0, 200);
 * permute(); // Keccak-f[1600] of the all-zero state
 * ```
 */
export function keccakWasm(): KeccakWasm {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()));
  return {
    permute: instance.exports.f as () => void,
    memory: instance.exports.m as WebAssembly.Memory,
  };
}
