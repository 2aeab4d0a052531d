/**
 * The fake GitLab's controllable clock. Generated timestamps lie before it, mutations stamp
 * `updated_at` with it, and tests move it forward with {@linkcode FakeClock.advance}.
 *
 * @module
 */

/**
 * A clock that only moves when told to (and by 1 ms on each {@linkcode FakeClock.tick}, so
 * successive mutations get distinct, increasing timestamps).
 *
 * @example
 * ```ts
 * const clock = new FakeClock("2025-06-01T12:00:00.000Z");
 * clock.advance(60_000);
 * clock.iso(); // "2025-06-01T12:01:00.000Z"
 * ```
 */
export class FakeClock {
  #ms: number;

  constructor(start: string | number | Date) {
    const ms = new Date(start).getTime();
    if (Number.isNaN(ms)) throw new TypeError(`Cannot parse clock start "${start}": not a date`);
    this.#ms = ms;
  }

  /** The current time in milliseconds since the epoch. */
  now(): number {
    return this.#ms;
  }

  /** The current time as GitLab writes it (ISO 8601, milliseconds, `Z`). */
  iso(): string {
    return new Date(this.#ms).toISOString();
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot advance clock by "${ms}" ms: must be >= 0`);
    this.#ms += ms;
  }

  /**
   * Returns a timestamp strictly later than `after` (an ISO string) and not earlier than the
   * clock, then moves the clock past it. Used to bump `updated_at`.
   */
  tick(after?: string | null): string {
    const floor = after ? new Date(after).getTime() + 1 : -Infinity;
    this.#ms = Math.max(this.#ms, floor);
    const stamp = new Date(this.#ms).toISOString();
    this.#ms += 1;
    return stamp;
  }
}
