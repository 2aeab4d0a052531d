/**
 * An exclusive lock on a file for this process (flock; the OS releases it when the process
 * ends, however it ends), tried for a short while: the callers decide whether to wait for a
 * busy lock or to give up.
 *
 * @module
 */

/** What {@linkcode tryLock} found. */
export interface LockAttempt {
  /** The open lock file: closing it releases the lock. */
  file: Deno.FsFile;
  /**
   * `locked` within the wait; `busy`: another process holds it; `unsupported`: the file system
   * has no locks (some network mounts).
   */
  state: "locked" | "busy" | "unsupported";
  /** Why locking is unsupported (also when that shows only after a busy wait). */
  readonly error?: unknown;
  /** Settles when a busy lock is taken (`true`) or cannot be (`false`). */
  taken: Promise<boolean>;
}

/**
 * Opens `path` (created when missing) and tries to lock it exclusively for `waitMs`.
 *
 * @example
 * ```ts
 * const attempt = await tryLock("/tmp/pipe/run.lock", 200);
 * if (attempt.state === "busy") await attempt.taken; // wait for the other process
 * attempt.file.close(); // release
 * ```
 */
export async function tryLock(path: string, waitMs: number): Promise<LockAttempt> {
  const file = await Deno.open(path, { create: true, write: true });
  let error: unknown;
  const taken = file.lock(true).then(() => true, (e) => {
    error = e;
    return false;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), waitMs));
  const got = await Promise.race([taken, late]);
  clearTimeout(timer);
  const state = got === undefined ? "busy" : got ? "locked" : "unsupported";
  return {
    file,
    state,
    get error() {
      return error;
    },
    taken,
  };
}
