/**
 * Faults a test injects into the fake GitLab: error statuses, connection resets, truncated
 * bodies and delays, each for a number of matching requests, consumed in order.
 *
 * @module
 */

/** What a fault's `match` sees of a request. */
export interface FaultRequest {
  method: string;
  /** The path after the API prefix, still percent-encoded, e.g. `/projects/1/issues`. */
  path: string;
  url: URL;
  headers: Headers;
}

/** Which requests a fault applies to: a path regex, a path substring, or a predicate. */
export type FaultMatch = RegExp | string | ((request: FaultRequest) => boolean);

/** Fields common to every fault. */
export interface FaultBase {
  /** Requests it applies to; every request when absent. */
  match?: FaultMatch;
  /** How many matching requests it applies to. @default {1} */
  times?: number;
}

/** Answer with an error status instead of the real response. */
export interface StatusFault extends FaultBase {
  kind: "status";
  /** e.g. 429, 500, 502, 503. */
  status: number;
  /** Extra headers, e.g. `{ "retry-after": "1" }`. */
  headers?: Record<string, string>;
  /**
   * Body. Defaults: 429 `Retry later` (text), 502/503/504 an HTML error page as the
   * proxy in front of GitLab sends it, other statuses `{"message":"<status> <text>"}`.
   */
  body?: string;
}

/** Close the connection without sending any response. */
export interface ResetFault extends FaultBase {
  kind: "reset";
}

/** Send the real status and headers, then only part of the JSON body. */
export interface TruncateFault extends FaultBase {
  kind: "truncate";
  /** Fraction of the body sent. @default {0.5} */
  fraction?: number;
  /**
   * `"abort"`: announce the full `content-length`, send part, then drop the connection (the
   * client's body read fails). `"short"`: a well-framed response whose body is the cut JSON
   * (the client's JSON parse fails).
   * @default {"abort"}
   */
  mode?: "abort" | "short";
}

/** Wait before answering normally. */
export interface DelayFault extends FaultBase {
  kind: "delay";
  ms: number;
}

/** A fault to inject. */
export type Fault = StatusFault | ResetFault | TruncateFault | DelayFault;

/**
 * The queue of pending faults. Each request takes the first pending fault that matches it;
 * a fault is dropped once it has applied `times` times.
 *
 * @example
 * ```ts
 * gitlab.faults.push({ kind: "status", status: 503, match: /\/issues$/, times: 2 });
 * gitlab.faults.push({ kind: "reset" });
 * ```
 */
export class FaultQueue {
  #pending: { fault: Fault; left: number }[] = [];

  /** Adds faults at the end of the queue. */
  push(...faults: Fault[]): void {
    for (const fault of faults) {
      const left = fault.times ?? 1;
      if (!(left > 0)) throw new RangeError(`Cannot add fault: "times" is ${left}, must be > 0`);
      this.#pending.push({ fault, left });
    }
  }

  /** Removes every pending fault. */
  clear(): void {
    this.#pending = [];
  }

  /** How many faults are still pending. */
  get size(): number {
    return this.#pending.length;
  }

  /** Takes the first fault matching `request`, or `undefined`. */
  take(request: FaultRequest): Fault | undefined {
    const index = this.#pending.findIndex(({ fault }) => matches(fault.match, request));
    if (index < 0) return undefined;
    const entry = this.#pending[index];
    entry.left -= 1;
    if (entry.left <= 0) this.#pending.splice(index, 1);
    return entry.fault;
  }
}

function matches(match: FaultMatch | undefined, request: FaultRequest): boolean {
  if (match === undefined) return true;
  if (typeof match === "string") return request.path.includes(match);
  if (match instanceof RegExp) {
    match.lastIndex = 0;
    return match.test(request.path);
  }
  return match(request);
}
