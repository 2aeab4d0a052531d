/**
 * Line-by-line reading of (possibly gzipped) files without loading them whole: extracted job
 * files in normalize, spill files of extract's ordered pools.
 *
 * @module
 */

/**
 * Yields the lines of `path` (without their `\n`), decompressing `.gz` files; a last line
 * without a newline is yielded too.
 *
 * @example
 * ```ts
 * for await (const line of readLines("issues.0a1b2c3d4e.0.typed-jsonl")) JSON.parse(line);
 * ```
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  for await (const lines of readLineBatches(path)) yield* lines;
}

/** Bytes read from disk at a time by {@linkcode readLineBatches} (more saves no time). */
const READ_BYTES = 1 << 18;

/**
 * Yields the lines of `path` (without their `\n`) a chunk of the file at a time: every
 * complete line of each 256 KiB read, in order; a last line without a newline is yielded too.
 * Memory stays at about a chunk plus the longest line. Plain files are read with
 * `FsFile.read` into one reused buffer (no stream machinery per chunk); `.gz` files through
 * a `DecompressionStream`.
 *
 * @example
 * ```ts
 * for await (const lines of readLineBatches("spill/0a1b2c.spill")) console.log(lines.length);
 * ```
 */
export async function* readLineBatches(path: string): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let rest = "";
  const split = (text: string): string[] => {
    const lines: string[] = [];
    const all = rest + text;
    let start = 0;
    for (let nl = all.indexOf("\n"); nl >= 0; nl = all.indexOf("\n", start)) {
      lines.push(all.slice(start, nl));
      start = nl + 1;
    }
    rest = all.slice(start);
    return lines;
  };
  if (path.endsWith(".gz")) {
    const file = await Deno.open(path, { read: true });
    const stream = file.readable.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
    for await (const chunk of stream) {
      const lines = split(decoder.decode(chunk, { stream: true }));
      if (lines.length > 0) yield lines;
    }
  } else {
    using file = await Deno.open(path, { read: true });
    // two buffers: the next chunk is read while the caller works on this one's lines
    const buffers = [new Uint8Array(READ_BYTES), new Uint8Array(READ_BYTES)];
    let turn = 0;
    let reading: Promise<number | null> | undefined = file.read(buffers[turn]);
    try {
      for (;;) {
        const n = await reading;
        reading = undefined;
        if (n === null) break;
        const chunk = buffers[turn].subarray(0, n);
        turn ^= 1;
        reading = file.read(buffers[turn]);
        const lines = split(decoder.decode(chunk, { stream: true }));
        if (lines.length > 0) yield lines;
      }
    } finally {
      // a caller that stops early: the read in flight ends before the file closes
      await reading?.catch(() => null);
    }
  }
  rest += decoder.decode();
  if (rest) yield [rest];
}
