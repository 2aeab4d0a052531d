/**
 * Bounded concurrency for extract: a semaphore for requests in flight, and an ordered pool
 * that runs tasks concurrently but forwards what they emit in task order, so the output is
 * the same as a sequential run. Backpressure: a task that is not first in line buffers at most
 * `maxBuffered` items in memory, then either spills them to a file on disk and goes on (with
 * the `spill` option: requests keep running for every task while memory stays flat; a keyed
 * lane's file can be handed on whole instead of read back) or waits until the tasks before it
 * are done.
 *
 * @module
 */

import { join } from "node:path";
import { concatBytes } from "../common/bytes.ts";
import { uniqId } from "../storage/package_storage.ts";

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
  /**
   * Order by key instead of by item: an item with a key only has to follow the items of the
   * same key that earlier tasks emit (e.g. the pages of one table: each table's file is then as
   * in a sequential run, whatever the order of different tables' pages), so it waits only
   * behind the earlier tasks that may emit its key. `keyOf` gives an item's key (`undefined`:
   * the item keeps task order with every other such item), `keysOf` every key a task may
   * emit (an item of another key is treated as keyless). @default {every item keeps task order}
   */
  keys?: {
    keyOf: (item: T) => string | undefined;
    keysOf: (index: number) => ReadonlySet<string>;
  };
}

/**
 * How {@linkcode runOrdered} writes buffered items to disk and reads them back. An item is
 * stored as its bytes behind their length (4 bytes, big-endian), so bytes that came from the
 * network go to disk and back as they are: no text decoding, splitting or encoding on the way.
 */
export interface Spill<T> {
  /** An existing folder for the spill files. */
  dir: string;
  /** One item as bytes, in parts stored one after the other. */
  encode: (item: T) => Uint8Array[];
  /** An item back from its bytes (a buffer of its own, which the item may keep). */
  decode: (bytes: Uint8Array) => T;
  /**
   * Keyed lanes only (see `keys`): their items are stored as they will end up downstream (e.g.
   * the lines of a table's file) instead of behind their lengths, and a drained file is handed
   * on whole, as one item, instead of being read back item by item. @default {undefined: every
   * lane's items come back one by one}
   */
  whole?: WholeSpill<T>;
}

/** How a keyed lane's spill file is written and handed on whole (see {@linkcode Spill}). */
export interface WholeSpill<T> {
  /** The item's bytes in such a file, in parts stored one after the other. */
  bytes: (item: T) => Uint8Array[];
  /** The item folded into the summary of the file's earlier items (`undefined`: none yet). */
  add: (summary: T | undefined, item: T) => T;
  /**
   * The item that stands for a drained file (`size` bytes holding the items of `summary`),
   * which then belongs to it: the pool neither reads nor removes it.
   */
  file: (summary: T, path: string, size: number) => T | Promise<T>;
}

/** Bytes read from a spill file at a time (an item that does not fit is read into its own). */
const SPILL_READ_BYTES = 1 << 18;

/**
 * The items' bytes of a spill file, in order (see {@linkcode Spill}).
 *
 * @throws {Error} when the file ends inside an item.
 */
async function* readSpillItems(path: string): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(SPILL_READ_BYTES);
  const view = new DataView(buf.buffer);
  let start = 0;
  let end = 0;
  const truncated = () => new Error(`Cannot read spill file "${path}": it ends inside an item`);
  for (;;) {
    while (end - start < 4) {
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
      const n = await file.read(buf.subarray(end));
      if (n === null) {
        if (end > 0) throw truncated();
        return;
      }
      end += n;
    }
    const size = view.getUint32(start);
    start += 4;
    const item = new Uint8Array(size);
    let got = Math.min(size, end - start);
    item.set(buf.subarray(start, start + got));
    start += got;
    while (got < size) {
      const n = await file.read(item.subarray(got));
      if (n === null) throw truncated();
      got += n;
    }
    yield item;
  }
}

/** Items as the bytes of a spill file: each item's length, then its parts. */
function spillBytes<T>(spill: Spill<T>, items: T[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const encoded = spill.encode(item);
    let n = 0;
    for (const p of encoded) n += p.length;
    if (n > 0xffff_ffff) throw new Error(`Cannot spill an item of ${n} bytes (4 GiB at most)`);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, n);
    parts.push(length, ...encoded);
  }
  return concatBytes(parts);
}

/**
 * A file of spilled items of one task, open for appending until drained; `written` settles
 * when its last append is on disk.
 */
interface SpillFile<T> {
  path: string;
  file?: Deno.FsFile;
  written: Promise<void>;
  /** Set when the file is written whole (see {@linkcode WholeSpill}): its items' summary. */
  whole?: { summary?: T; size: number };
}

/** Appends `data` to the spill file (opened at its first append). */
async function appendSpill<T>(f: SpillFile<T>, data: Uint8Array): Promise<void> {
  f.file ??= await Deno.open(f.path, { write: true, create: true, append: true });
  let written = 0;
  while (written < data.length) written += await f.file.write(data.subarray(written));
}

/** Waits for the file's appends and closes it (whatever they did). */
async function closeSpill<T>(f: SpillFile<T>): Promise<void> {
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

/**
 * One ordered stream of items: those of one key, or (`key` undefined) every item without one.
 * The items of task `open` pass straight through; a later task's wait in its queue.
 */
interface Lane {
  key?: string;
  open: number;
}

/** What one task emitted into one lane and is not yet passed on. */
interface Queue<T> {
  buffer: T[];
  /** The weight of `buffer`. */
  weight: number;
  /** Items spilled to disk, older than those in `buffer`. */
  spilled?: SpillFile<T>;
}

interface Slot<T> {
  queues: Map<Lane, Queue<T>>;
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
  /** The lane of keyless items, which every task is in: its `open` paces the launches. */
  const all: Lane = { open: -1 };
  const lanes = new Map<string, Lane>();
  /** The loops passing on the keyed lanes' queues (see {@linkcode runLane}). */
  const laneRuns: Promise<void>[] = [];
  /** A failure of a keyed lane's downstream `emit`. */
  let laneError: { value: unknown } | undefined;
  /** A keyed lane stopped before its end (an abort, here or in a pool sharing `abort`). */
  let laneStopped = false;
  /** Woken at every launch (and at an abort): a lane waiting for its next task looks again. */
  let launched = Promise.withResolvers<void>();
  let failed = false;
  let running = 0;

  const budget = options.budget;
  const spill = options.spill;
  const weight = options.weight;
  const keys = options.keys;
  const spillFiles = new Set<string>();
  const queueOf = (slot: Slot<T>, lane: Lane): Queue<T> => {
    let q = slot.queues.get(lane);
    if (!q) slot.queues.set(lane, q = { buffer: [], weight: 0 });
    return q;
  };
  /**
   * Moves the queue's buffer to the end of its spill file (started when it has none): written
   * whole when the lane is keyed and the spill can (see {@linkcode WholeSpill}).
   */
  const spillBuffer = async (q: Queue<T>, lane: Lane) => {
    const items = q.buffer.splice(0);
    budget?.release(q.weight);
    q.weight = 0;
    // the buffer empties and the file takes its items in the same tick: a drain always sees
    // every item in one of the two
    let file = q.spilled;
    if (!file) {
      const path = join(spill!.dir, `${uniqId(6)}.spill`);
      spillFiles.add(path);
      file = q.spilled = { path, written: Promise.resolve() };
      if (lane.key !== undefined && spill!.whole) file.whole = { size: 0 };
    }
    let data: Uint8Array;
    if (file.whole) {
      const whole = spill!.whole!;
      const parts: Uint8Array[] = [];
      for (const item of items) {
        parts.push(...whole.bytes(item));
        file.whole.summary = whole.add(file.whole.summary, item);
      }
      data = concatBytes(parts);
      file.whole.size += data.length;
    } else data = spillBytes(spill!, items);
    const f = file;
    f.written = f.written.then(() => appendSpill(f, data));
    await f.written;
  };
  /** Emits, in order, what a queue spilled and buffered, until both are empty. */
  const drain = async (q: Queue<T>) => {
    for (;;) {
      const file = q.spilled;
      if (file) {
        q.spilled = undefined; // later spills of the task start a new file
        await closeSpill(file);
        if (file.whole) {
          const { summary, size } = file.whole;
          const item = await spill!.whole!.file(summary!, file.path, size);
          spillFiles.delete(file.path); // the item's now (it may be renamed while emitted)
          await emit(item);
          continue;
        }
        for await (const bytes of readSpillItems(file.path)) await emit(spill!.decode(bytes));
        await Deno.remove(file.path);
        spillFiles.delete(file.path);
      } else if (q.buffer.length > 0) {
        const items = q.buffer.splice(0);
        budget?.release(q.weight);
        q.weight = 0;
        for (const item of items) await emit(item);
      } else return;
    }
  };
  /**
   * Drains the task's queue of the lane and opens the lane to it. The task may emit between
   * drain's last look and this function resuming: look again here, so that the check and
   * `open = i` are in one synchronous step and no item is left in a queue nobody drains.
   */
  const openLane = async (lane: Lane, i: number) => {
    const q = queueOf(slots[i], lane);
    do await drain(q); while (q.spilled || q.buffer.length > 0);
    lane.open = i;
    for (const w of slots[i].waiters.splice(0)) w();
  };
  const aborted = () => failed || options.abort?.signal.aborted === true;
  /** Opens a keyed lane to each task that may emit its key in turn, once the one before is done. */
  const runLane = async (lane: Lane) => {
    try {
      for (let i = 0; i < count; i++) {
        while (slots.length <= i && !aborted()) await launched.promise;
        if (aborted()) return void (laneStopped = true);
        if (!keys!.keysOf(i).has(lane.key!)) continue;
        await openLane(lane, i);
        await slots[i].done;
        if (aborted()) return void (laneStopped = true);
      }
    } catch (e) {
      // a PoolAborted from downstream stops the pool; anything else fails it
      if (e instanceof PoolAborted) laneStopped = true;
      else {
        laneError ??= { value: e };
        options.abort?.abort();
      }
      failed = true;
      for (const s of slots) for (const w of s.waiters.splice(0)) w();
    }
  };
  const laneOf = (i: number, item: T): Lane => {
    const key = keys?.keyOf(item);
    if (key === undefined || !keys!.keysOf(i).has(key)) return all;
    let lane = lanes.get(key);
    if (!lane) {
      lanes.set(key, lane = { key, open: -1 });
      laneRuns.push(runLane(lane));
    }
    return lane;
  };
  const emitFor = (i: number): Emit<T> => async (item) => {
    if (aborted()) throw new PoolAborted();
    const lane = laneOf(i, item);
    if (i === lane.open) return await emit(item);
    const q = queueOf(slots[i], lane);
    q.buffer.push(item);
    const w = weight ? weight(item) : 1;
    q.weight += w;
    if (budget) budget.used += w;
    if (spill) {
      if (q.weight >= maxBuffered || budget?.full) await spillBuffer(q, lane);
      return;
    }
    while (i !== lane.open && (q.weight >= maxBuffered || budget?.full)) {
      await new Promise<void>((resolve) => {
        slots[i].waiters.push(resolve);
        budget?.wait().then(resolve);
      });
      if (aborted()) throw new PoolAborted();
    }
  };

  const launch = () => {
    while (
      !aborted() && slots.length < count && running < concurrency &&
      slots.length <= Math.max(all.open, 0) + 2 * concurrency
    ) {
      const i = slots.length;
      const slot: Slot<T> = { queues: new Map(), waiters: [], done: Promise.resolve() };
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
      launched.resolve();
      launched = Promise.withResolvers();
    }
  };

  /** Every keyed lane's loop, those started while waiting included. */
  const lanesDone = async () => {
    for (let n = 0; n < laneRuns.length; n++) await laneRuns[n];
  };
  const abortAll = async () => {
    failed = true;
    launched.resolve();
    for (const s of slots) {
      for (const q of s.queues.values()) {
        budget?.release(q.weight);
        q.buffer = [];
        q.weight = 0;
      }
      for (const w of s.waiters.splice(0)) w();
    }
    await Promise.allSettled(slots.map((s) => s.done));
    await lanesDone();
    const files = slots.flatMap((s) => [...s.queues.values()].map((q) => q.spilled));
    await Promise.allSettled(files.map((f) => f && closeSpill(f)));
    for (const path of spillFiles) await Deno.remove(path).catch(() => {});
  };
  /** Stops everything and throws the first real failure: in task order, then a lane's. */
  const fail = async (fallback?: { value: unknown }): Promise<never> => {
    await abortAll();
    const first = slots.find((s) => s.error && !(s.error.value instanceof PoolAborted));
    throw (first?.error ?? laneError ?? fallback ?? { value: new PoolAborted() }).value;
  };

  for (let i = 0; i < count; i++) {
    launch();
    // tasks before i are done, so only a failure (in this pool or one sharing `abort`)
    // keeps task i from starting: stop as at any failure
    if (slots.length <= i) return await fail();
    const slot = slots[i];
    try {
      await openLane(all, i);
    } catch (e) {
      if (!(e instanceof PoolAborted)) {
        options.abort?.abort();
        await abortAll();
        throw e;
      }
      // stopped from downstream: a failure of this pool's own, if any, is the one to report
      return await fail({ value: e });
    }
    launch();
    await slot.done;
    // This task or a later one failed (this one may have stopped only because a later one
    // did, at its next emit): report the first real failure in task order.
    if (slot.error || failed) return await fail(slot.error);
  }
  await lanesDone();
  // a lane that stopped early left items behind: the pool did not finish
  if (failed || laneError || laneStopped) return await fail();
}
