/**
 * The `postgres` destination: a PostgreSQL server (EDB BigAnimal, RDS, local) through the npm
 * `postgres` driver. Bulk rows go in with COPY.
 *
 * @module
 */

import net from "node:net";
import postgres from "postgres";
import { DestinationError } from "../../common/errors.ts";
import { redact } from "../../common/redact.ts";
import type { SqlClient } from "../../load/sql_client.ts";

/** Options of {@linkcode connectPostgres}. */
export interface PostgresClientOptions {
  /** Text shown in load info instead of the URL (password hidden). @default {redacted url} */
  location?: string;
  /** Seconds to wait for a connection. @default {15} */
  connectTimeout?: number;
  /** Where the connection settings came from, named when connecting fails. */
  from?: string;
  /**
   * Load workers: the pool holds one connection more than them (a COPY taking long is checked
   * over another connection), and at least 4. @default {1}
   */
  connections?: number;
}

/**
 * What to check when connecting failed with `msg` (libpq's `sslmode` of the connection string
 * given), or "" when the message says it all.
 */
export function connectHint(msg: string, sslmode: string | undefined): string {
  if (/ECONNREFUSED/.test(msg)) {
    return "nothing listens there: is the server running, and are host and port right?";
  }
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/i.test(msg)) {
    return "the host name does not resolve: check the host (and DNS, from this machine)";
  }
  if (
    /before secure TLS connection|SSL is not enabled|does not support SSL|server does not support/i
      .test(msg)
  ) {
    return `the server does not accept TLS (sslmode=${sslmode ?? "require"}): ` +
      "use sslmode=prefer or disable for a server without TLS";
  }
  if (/self[- ]signed|unable to (get|verify)|certificate/i.test(msg)) {
    return `the server's TLS certificate is not trusted (sslmode=${sslmode ?? "verify-full"}): ` +
      "point DENO_CERT at the CA's PEM file, set DENO_TLS_CA_STORE=system, or use sslmode=require (encrypted, not verified)";
  }
  if (/no pg_hba\.conf entry.*no encryption/i.test(msg)) {
    return "the server accepts only TLS connections: add sslmode=require";
  }
  if (/password authentication failed|no password was provided/i.test(msg)) {
    return "check username and password";
  }
  if (/database "[^"]*" does not exist/i.test(msg)) {
    return "create the database first, or name an existing one";
  }
  return "";
}

type Sql = postgres.Sql | postgres.TransactionSql;

function wrapError(e: unknown): never {
  if (e instanceof DestinationError) throw e;
  const msg = e instanceof Error ? e.message : String(e);
  const retryable = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|CONNECT_TIMEOUT|connection/i.test(msg);
  throw new DestinationError(`Postgres failed: ${redact(msg)}`, { cause: e, retryable });
}

/**
 * How long a finished COPY may take to be acknowledged before the backend is checked, and how
 * often it is checked after that.
 */
const COPY_CHECK_MS = 250;

/** Waits until `p` settles (its outcome ignored), or `ms` passed. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.then(() => {}, () => {}),
    new Promise<void>((r) => timer = setTimeout(r, ms)),
  ]);
  clearTimeout(timer);
}

/** `COPY "ds"."t" (cols)` without the `FROM STDIN` part, for messages. */
function copyTarget(copySql: string): string {
  return copySql.replace(/\s+FROM STDIN.*$/i, "");
}

class PostgresClient implements SqlClient {
  readonly kind = "postgres" as const;
  readonly location: string;
  readonly #sql: Sql;
  readonly #root: postgres.Sql;
  /** Backend pid of this transaction's connection (set inside transactions). */
  readonly #pid?: number;
  /** Why this transaction's connection was ended on purpose (see #watchCopy). */
  readonly #ended: { error?: DestinationError };

  constructor(
    sql: Sql,
    location: string,
    root: postgres.Sql,
    pid?: number,
    ended: { error?: DestinationError } = {},
  ) {
    this.#sql = sql;
    this.location = location;
    this.#root = root;
    this.#pid = pid;
    this.#ended = ended;
  }

  async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
    try {
      // deno-lint-ignore no-explicit-any
      const rows = await this.#sql.unsafe(text, params as any[]);
      return Array.from(rows) as T[];
    } catch (e) {
      wrapError(e);
    }
  }

  async exec(text: string): Promise<void> {
    try {
      await this.#sql.unsafe(text).simple();
    } catch (e) {
      wrapError(e);
    }
  }

  async copyFrom(copySql: string, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.#pid === undefined) {
      // COPY errors are only detectable inside a transaction (see #watchCopy)
      return await this.transaction((tx) => tx.copyFrom(copySql, data));
    }
    let writable;
    try {
      writable = await this.#sql.unsafe(copySql).writable();
    } catch (e) {
      wrapError(e);
    }
    let failed: unknown;
    const settled = new Promise<void>((resolve) => {
      writable.once("finish", () => resolve());
      writable.once("close", () => resolve());
      writable.once("error", (e: unknown) => {
        failed = e;
        resolve();
      });
    });
    for await (const chunk of data) {
      if (failed) break;
      if (!writable.write(chunk)) {
        await Promise.race([
          new Promise<void>((resolve) => writable.once("drain", () => resolve())),
          settled,
        ]);
      }
    }
    if (!failed) writable.end();
    await this.#watchCopy(copySql, settled);
    if (failed) {
      const msg = failed instanceof Error ? failed.message : String(failed);
      throw new DestinationError(
        `Postgres rejected the rows of ${copyTarget(copySql)}: ${redact(msg)}`,
        {
          cause: failed,
        },
      );
    }
  }

  /**
   * Waits for a COPY to be acknowledged. postgres.js 3.4.9 never settles the stream when the
   * server rejects the data after CopyDone (porsager/postgres#1173): the error is lost and a
   * COMMIT would silently roll back. So while waiting, a second connection watches this
   * backend; when it sits aborted, it is terminated and the load fails (nothing is committed).
   */
  async #watchCopy(copySql: string, settled: Promise<void>): Promise<void> {
    for (;;) {
      const done = await Promise.race([
        settled.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), COPY_CHECK_MS)),
      ]);
      if (done) return;
      const rows = await this.#root.unsafe(
        "SELECT state FROM pg_stat_activity WHERE pid = $1",
        [this.#pid!],
      );
      const state = rows[0]?.state as string | undefined;
      if (state === "idle in transaction (aborted)" || state === undefined) {
        const error = new DestinationError(
          `Postgres rejected the rows of ${copyTarget(copySql)}: ` +
            `the load was rolled back (the server log has the exact error)`,
        );
        // recorded first: the transaction may fail on the closed connection before this throws
        this.#ended.error = error;
        await this.#root.unsafe("SELECT pg_terminate_backend($1)", [this.#pid!]).catch(() => {});
        // the ROLLBACK that follows the throw must find the connection closed, not closing:
        // postgres.js crashes (an uncaught write on a null socket) when the close lands
        // between queueing a write and sending it
        await settledWithin(settled, COPY_CHECK_MS * 4);
        throw error;
      }
    }
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.#pid !== undefined) return await fn(this);
    let inner: unknown;
    const ended: { error?: DestinationError } = {};
    try {
      return await this.#root.begin(async (tx) => {
        const [{ pid }] = await tx`SELECT pg_backend_pid() AS pid`;
        try {
          return await fn(new PostgresClient(tx, this.location, this.#root, Number(pid), ended));
        } catch (e) {
          inner = e;
          throw e;
        }
      }) as T;
    } catch (e) {
      // the error of `fn` wins over the ROLLBACK's (the connection may be gone by then), and
      // the reason the connection was ended over the error of the closed connection
      wrapError(inner ?? ended.error ?? e);
    }
  }

  async close(): Promise<void> {
    if (this.#pid === undefined) await this.#root.end({ timeout: 5 });
  }
}

/** The parts of postgres.js' resolved options a socket factory needs. */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * Opens the TCP (or unix) socket for postgres.js with Nagle's algorithm off. Without it every
 * COPY and the statement after it wait ~40 ms for a delayed ACK (the COPY data and CopyDone go
 * out as two small writes): 45 ms per COPY instead of under 1 ms on loopback. Hosts are tried
 * in order, each for at most `timeoutSeconds`.
 */
async function openSocket(target: SocketTarget, timeoutSeconds: number): Promise<net.Socket> {
  const candidates = target.path
    ? [{ path: target.path }]
    : target.host.map((host, i) => ({ host, port: target.port[i] ?? target.port[0] ?? 5432 }));
  let last: unknown;
  for (const where of candidates) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(where as net.NetConnectOpts);
        // connect_timeout 0 is no limit (libpq, postgres.js)
        const timer = timeoutSeconds > 0
          ? setTimeout(() => {
            socket.destroy();
            reject(new Error(`CONNECT_TIMEOUT after ${timeoutSeconds} s`));
          }, timeoutSeconds * 1000)
          : undefined;
        socket.once("connect", () => {
          clearTimeout(timer);
          socket.removeListener("error", reject);
          socket.setNoDelay(true);
          resolve(socket);
        });
        socket.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    } catch (e) {
      last = e;
    }
  }
  throw last ?? new Error("no host to connect to");
}

/**
 * Connects to a Postgres server. `url` is a libpq-style connection string; `sslmode` in its
 * query is honoured, and libpq env vars (PGHOST, PGUSER, …) fill what it leaves out.
 *
 * @example
 * ```ts
 * const client = await connectPostgres("postgresql://postgres@127.0.0.1:5432/test");
 * await client.query("select 1");
 * await client.close();
 * ```
 */
export async function connectPostgres(
  url: string | undefined,
  options: PostgresClientOptions = {},
): Promise<SqlClient> {
  const timeout = options.connectTimeout ?? 15;
  let sockets = 0;
  // `socket` is a documented postgres.js option its types do not declare
  const opts = {
    onnotice: () => {},
    max: Math.max(4, (options.connections ?? 1) + 1),
    connect_timeout: timeout,
    connection: { application_name: "gitlab-pg" },
    idle_timeout: 30,
    socket: (o: SocketTarget) => {
      sockets++;
      return openSocket(o, timeout);
    },
  } as postgres.Options<Record<string, never>>;
  const sql = url ? postgres(url, opts) : postgres(opts);
  let location = options.location ?? redact(url ?? "postgresql://(libpq environment)");
  // postgres.js reconnects for ever to a port that accepts and hangs up (not a Postgres
  // server: an HTTP proxy, another service), so the first answer has a deadline of its own:
  // twice connect_timeout (connecting, then TLS and authentication) and a second
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = 2 * timeout + 1;
  const deadline = new Promise<never>((_, reject) => {
    if (timeout <= 0) return; // connect_timeout 0: no limit, as libpq
    timer = setTimeout(() => {
      reject(
        new Error(
          sockets > 1
            ? `no Postgres answer: the server closed ${sockets} connections during the handshake in ${limit} s; is this the address of a Postgres server?`
            : `no answer within ${limit} s (connect_timeout ${timeout} s)`,
        ),
      );
    }, limit * 1000);
  });
  try {
    const [where] = await Promise.race([
      sql`select current_user AS u, current_database() AS d, inet_server_addr()::text AS h,
          inet_server_port() AS p`,
      deadline,
    ]);
    if (!url && !options.location) {
      // libpq's environment chose the server: say which one it was
      const host = where.h ? String(where.h).replace(/\/\d+$/, "") : "localhost (socket)";
      location = `postgresql://${where.u}@${host}${where.p ? `:${where.p}` : ""}/${where.d} ` +
        "(from the libpq environment)";
    }
  } catch (e) {
    await sql.end({ timeout: 0 }).catch(() => {});
    let msg = e instanceof Error ? e.message : String(e);
    // postgres.js' own timeout names no host when it does not open the socket itself
    if (/CONNECT_TIMEOUT/.test(msg)) msg = `no answer within ${timeout} s (connect_timeout)`;
    const sslmode = url ? /[?&]sslmode=([^&]*)/.exec(url)?.[1] : undefined;
    const hint = connectHint(msg, sslmode);
    const from = options.from ? `, set by ${options.from}` : "";
    throw new DestinationError(
      `Cannot connect to Postgres at ${location}${from}: ${redact(msg)}${hint ? `; ${hint}` : ""}`,
      { cause: e, retryable: true },
    );
  } finally {
    clearTimeout(timer);
  }
  return new PostgresClient(sql, location, sql);
}
