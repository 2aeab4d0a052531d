/**
 * A TCP relay in front of the `Deno.serve` server. `Deno.serve` always sends a status line,
 * so to drop a connection without any response (a "reset" fault) the handler asks the relay
 * to close the client's socket. The handler finds it by its own peer port, which is the
 * relay's upstream socket.
 *
 * @module
 */

interface Pair {
  client: Deno.Conn;
  upstream: Deno.Conn;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let written = 0;
      while (written < n) written += await to.write(buffer.subarray(written, n));
    }
    await to.closeWrite();
  } catch {
    // the other side went away, or the pair was killed
  }
}

/** Relays loopback connections to an upstream port; can kill one connection. */
export class TcpFront {
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly #pairs = new Map<number, Pair>();
  #upstreamPort = 0;
  #accepting: Promise<void> | undefined;
  #tasks = new Set<Promise<void>>();

  constructor(hostname: string) {
    this.#listener = Deno.listen({ hostname, port: 0 });
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Starts relaying to `upstreamPort`. */
  start(upstreamPort: number): void {
    this.#upstreamPort = upstreamPort;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        const task = this.#relay(client);
        this.#tasks.add(task);
        task.finally(() => this.#tasks.delete(task));
      }
    } catch {
      // listener closed
    }
  }

  async #relay(client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#upstreamPort });
    } catch {
      closeQuietly(client);
      return;
    }
    const key = (upstream.localAddr as Deno.NetAddr).port;
    this.#pairs.set(key, { client, upstream });
    await Promise.all([copy(client, upstream), copy(upstream, client)]);
    this.#pairs.delete(key);
    closeQuietly(client);
    closeQuietly(upstream);
  }

  /** Closes the client connection relayed through upstream port `peerPort`. */
  kill(peerPort: number): boolean {
    const pair = this.#pairs.get(peerPort);
    if (!pair) return false;
    this.#pairs.delete(peerPort);
    closeQuietly(pair.client);
    closeQuietly(pair.upstream);
    return true;
  }

  /** Stops accepting and closes every relayed connection. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const port of [...this.#pairs.keys()]) this.kill(port);
    await this.#accepting;
    await Promise.all([...this.#tasks]);
  }
}
