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
  const file = await Deno.open(path, { read: true });
  let stream: ReadableStream<Uint8Array> = file.readable;
  if (path.endsWith(".gz")) {
    stream = stream.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl = rest.indexOf("\n");
    if (nl < 0) continue;
    let start = 0;
    while (nl >= 0) {
      yield rest.slice(start, nl);
      start = nl + 1;
      nl = rest.indexOf("\n", start);
    }
    rest = rest.slice(start);
  }
  if (rest) yield rest;
}
