/**
 * Bounded concurrency for extract: a semaphore for requests in flight, and an ordered pool
 * that runs tasks concurrently but forwards what they emit in task order, so the output is
 * the same as a sequential run. Backpressure: a task that is not first in line buffers at most
 * `maxBuffered` items in memory, then either spills them to a file on disk and goes on (with
 * the `spill` option: requests keep running for every task while memory stays flat) or waits
 * until the tasks before it are done.
 *
 * @module
 */

import { join } from "node:path";
import { uniqId } from "../storage/package_storage.ts";
import { readLineBatches } from "../storage/read_lines.ts";

/**
 * A counting semaphore.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(4);
 * await slots.acquire();
 * try {
 *   await fetch("https://example.com");
 * } finally {
 *   slots.release();
 * }
 * ```
 */
export class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];

  constructor(permits: number) {
    if (!(permits >= 1)) throw new RangeError(`Cannot create a semaphore of "${permits}" permits`);
    this.#free = permits;
  }

  /** Waits for a free permit and takes it. */
  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Gives a permit back (to the longest waiter, if any). */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/**
 * A cap on the items buffered by all the ordered pools of one run together (nested pools
 * multiply: without it, every running parent series could hold its own pool's buffers). A task
 * that is first in line never waits for it, so the run always progresses.
 *
 * @example
 * ```ts
 * const budget = new BufferBudget(2000);
 * await runOrdered(n, task, emit, { concurrency: 16, budget });
 * ```
 */
export class BufferBudget {
  /** Items buffered now. */
  used = 0;
  /** Items that may be buffered before producers wait. */
  readonly max: number;
  #waiters: (() => void)[] = [];
  constructor(max = 2000) {
    this.max = Math.max(1, max);
  }
  /** Whether the budget is used up. */
  get full(): boolean {
    return this.used >= this.max;
  }
  /** Resolves at the next release. */
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  /** Gives `n` items back and wakes every waiter (each re-checks). */
  release(n: number): void {
    this.used -= n;
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Emits one item downstream; awaited, so a slow consumer slows its producers. */
export type Emit<T> = (item: T) => Promise<void>;

/** Options of {@linkcode runOrdered}. */
export interface RunOrderedOptions<T = unknown> {
  /** Tasks running at once. @default {1} */
  concurrency?: number;
  /**
   * Items (by weight) a task that is not first in line may buffer before it waits or spills.
   * @default {200}
   */
  maxBuffered?: number;
  /** A cap shared with other pools on the items buffered in all. @default {no shared cap} */
  budget?: BufferBudget;
  /**
   * How many items one emitted item counts for in the buffers and the budget (e.g. the
   * records of a page emitted at once). @default {1 each}
   */
  weight?: (item: T) => number;
  /**
   * Where a task that is not first in line puts its items when its buffer (or the budget) is
   * full, instead of waiting: appended to a file of its own in `dir`, read back in order when
   * the task's turn comes, then deleted. @default {undefined: the task waits}
   */
  spill?: Spill<T>;
  /**
   * Aborted when a task fails (not when it stops with {@linkcode PoolAborted}): pools that
   * share it, nested ones included, can stop all their tasks at once instead of running them
   * to the end before the failure is reported. @default {undefined}
   */
  abort?: AbortController;
}

/** How {@linkcode runOrdered} writes buffered items to disk and reads them back. */
export interface Spill<T> {
  /** An existing folder for the spill files. */
  dir: string;
  /** One item as one or more lines of text (joined by `\n`, none at the end). */
  encode: (item: T) => string;
  /**
   * Items back from consecutive lines, in order (a chunk of the file at a time: an item of
   * several lines may come back as several items).
   */
  decode: (lines: string[]) => T[];
}

/**
 * A file of spilled items of one task, open for appending until drained; `written` settles
 * when its last append is on disk.
 */
interface SpillFile {
  path: string;
  file?: Deno.FsFile;
  written: Promise<void>;
}

const encoder = new TextEncoder();

/** Appends `text` to the spill file (opened at its first append). */
async function appendSpill(f: SpillFile, text: string): Promise<void> {
  f.file ??= await Deno.open(f.path, { write: true, create: true, append: true });
  const data = encoder.encode(text);
  let written = 0;
  while (written < data.length) written += await f.file.write(data.subarray(written));
}

/** Waits for the file's appends and closes it (whatever they did). */
async function closeSpill(f: SpillFile): Promise<void> {
  try {
    await f.written;
  } finally {
    f.file?.close();
    f.file = undefined;
  }
}

/**
 * Thrown by a task stopped because another one failed; the pool reports the other's error.
 * A task may throw it itself when the pool's `abort` signal says so.
 */
export class PoolAborted extends Error {
  constructor() {
    super("Cannot go on: another task of the run failed");
  }
}

interface Slot<T> {
  buffer: T[];
  /** The weight of `buffer`. */
  weight: number;
  /** Items spilled to disk, older than those in `buffer`. */
  spilled?: SpillFile;
  done: Promise<void>;
  error?: { value: unknown };
  waiters: (() => void)[];
}

/**
 * Runs `count` tasks, at most `concurrency` at once, started in index order; what task `i`
 * emits reaches `emit` after everything tasks `0..i-1` emitted, in the order emitted. The first
 * failure (in task order) is thrown once the running tasks have stopped; later tasks are not
 * started and running ones fail at their next emit.
 *
 * @example
 * ```ts
 * const out: number[] = [];
 * await runOrdered(3, async (i, emit) => {
 *   await new Promise((r) => setTimeout(r, 10 * (3 - i)));
 *   await emit(i);
 * }, async (n) => void out.push(n), { concurrency: 3 });
 * // out: [0, 1, 2]
 * ```
 */
export async function runOrdered<T>(
  count: number,
  task: (index: number, emit: Emit<T>) => Promise<void>,
  emit: Emit<T>,
  options: RunOrderedOptions<T> = {},
): Promise<void> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const maxBuffered = Math.max(1, options.maxBuffered ?? 200);
  if (concurrency === 1) {
    for (let i = 0; i < count; i++) await task(i, emit);
    return;
  }
  const slots: Slot<T>[] = [];
  let open = -1; // the task whose items pass straight through
  let failed = false;
  let running = 0;

  const budget = options.budget;
  const spill = options.spill;
  const weight = options.weight;
  const spillFiles = new Set<string>();
  /** Moves the slot's buffer to the end of its spill file (started when it has none). */
  const spillBuffer = async (slot: Slot<T>) => {
    const items = slot.buffer.splice(0);
    budget?.release(slot.weight);
    slot.weight = 0;
    let text = "";
    for (const item of items) text += spill!.encode(item) + "\n";
    // the buffer empties and the file takes its items in the same tick: a drain always sees
    // every item in one of the two
    let file = slot.spilled;
    if (!file) {
      const path = join(spill!.dir, `${uniqId(6)}.spill`);
      spillFiles.add(path);
      file = slot.spilled = { path, written: Promise.resolve() };
    }
    const f = file;
    f.written = f.written.then(() => appendSpill(f, text));
    await f.written;
  };
  /** Emits, in order, what a slot spilled and buffered, until both are empty. */
  const drain = async (slot: Slot<T>) => {
    for (;;) {
      const file = slot.spilled;
      if (file) {
        slot.spilled = undefined; // later spills of the task start a new file
        await closeSpill(file);
        for await (const lines of readLineBatches(file.path)) {
          for (const item of spill!.decode(lines)) await emit(item);
        }
        await Deno.remove(file.path);
        spillFiles.delete(file.path);
      } else if (slot.buffer.length > 0) {
        const items = slot.buffer.splice(0);
        budget?.release(slot.weight);
        slot.weight = 0;
        for (const item of items) await emit(item);
      } else return;
    }
  };
  const aborted = () => failed || options.abort?.signal.aborted === true;
  const emitFor = (i: number): Emit<T> => async (item) => {
    if (aborted()) throw new PoolAborted();
    if (i === open) return await emit(item);
    const slot = slots[i];
    slot.buffer.push(item);
    const w = weight ? weight(item) : 1;
    slot.weight += w;
    if (budget) budget.used += w;
    if (spill) {
      if (slot.weight >= maxBuffered || budget?.full) await spillBuffer(slot);
      return;
    }
    while (i !== open && (slot.weight >= maxBuffered || budget?.full)) {
      await new Promise<void>((resolve) => {
        slot.waiters.push(resolve);
        budget?.wait().then(resolve);
      });
      if (aborted()) throw new PoolAborted();
    }
  };

  const launch = () => {
    while (
      !aborted() && slots.length < count && running < concurrency &&
      slots.length <= Math.max(open, 0) + 2 * concurrency
    ) {
      const i = slots.length;
      const slot: Slot<T> = { buffer: [], weight: 0, waiters: [], done: Promise.resolve() };
      slots.push(slot);
      running++;
      slot.done = task(i, emitFor(i)).then(
        () => {},
        (e) => {
          slot.error = { value: e };
          if (!(e instanceof PoolAborted)) {
            failed = true;
            options.abort?.abort();
          }
          for (const w of slot.waiters.splice(0)) w();
        },
      ).finally(() => {
        running--;
        // a finished task makes room at once, also while the task first in line runs long
        launch();
      });
    }
  };

  const abortAll = async () => {
    failed = true;
    for (const s of slots) {
      budget?.release(s.weight);
      s.buffer = [];
      s.weight = 0;
      for (const w of s.waiters.splice(0)) w();
    }
    await Promise.allSettled(slots.map((s) => s.done));
    await Promise.allSettled(slots.map((s) => s.spilled && closeSpill(s.spilled)));
    for (const path of spillFiles) await Deno.remove(path).catch(() => {});
  };

  for (let i = 0; i < count; i++) {
    launch();
    if (slots.length <= i) {
      // tasks before i are done, so only a failure (in this pool or one sharing `abort`)
      // keeps task i from starting: stop as at any failure
      await abortAll();
      const first = slots.find((s) => s.error && !(s.error.value instanceof PoolAborted));
      throw first?.error?.value ?? new PoolAborted();
    }
    const slot = slots[i];
    try {
      // The task may emit between drain's last look and this function resuming: look again
      // here, so that the check and `open = i` are in one synchronous step and no item is
      // left in a buffer nobody drains.
      do await drain(slot); while (slot.spilled || slot.buffer.length > 0);
    } catch (e) {
      if (!(e instanceof PoolAborted)) options.abort?.abort();
      await abortAll();
      throw e;
    }
    open = i;
    for (const w of slot.waiters.splice(0)) w();
    launch();
    await slot.done;
    if (slot.error || failed) {
      // This task or a later one failed (this one may have stopped only because a later one
      // did, at its next emit): report the first real failure in task order.
      await abortAll();
      const first = slots.find((s) => s.error && !(s.error.value instanceof PoolAborted));
      throw first?.error?.value ?? slot.error?.value ?? new PoolAborted();
    }
  }
}
