/**
 * Waiting for work that may never finish: a file operation on storage that hangs, a state that
 * opens slowly. `withinTimeLimit` gives up after a time or when told to, and whatever the work
 * produces after that is handed to `late`, so that what it opened is closed when it is there.
 */

/** The work took longer than its time limit. */
export class TimeLimitError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'TimeLimitError';
  }
}

export interface TimeLimit<T> {
  /** What the work is, for the error: "opening the state". */
  what: string;
  ms: number;
  /** Gives up at once when it aborts (the error names the abort's reason). */
  signal?: AbortSignal;
  /** Receives the result of work that finished after it was given up. */
  late?: (value: T) => void;
}

/**
 * Resolves or rejects as `work` does, or rejects with a {@link TimeLimitError} after `ms`, or
 * with an Error when `signal` aborts. A late failure of the work is dropped (it was reported as
 * the time limit or the abort).
 */
export function withinTimeLimit<T>(work: Promise<T>, limit: TimeLimit<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      limit.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const timer = setTimeout(() => {
      if (finish()) reject(new TimeLimitError(limit.what, limit.ms));
    }, limit.ms);
    const onAbort = (): void => {
      const reason = limit.signal?.reason;
      if (finish())
        reject(new Error(`${limit.what} given up: ${reason instanceof Error ? reason.message : String(reason)}`));
    };
    if (limit.signal?.aborted === true) onAbort();
    else limit.signal?.addEventListener('abort', onAbort);
    work.then(
      (value) => {
        if (finish()) resolve(value);
        else limit.late?.(value);
      },
      (e: unknown) => {
        if (finish()) reject(e);
      },
    );
  });
}
