/**
 * Calls `fit`'s `onProgress` so that its failure ends the fit with that
 * error: a throw is rethrown at once; a returned promise is awaited where the
 * fit can wait (after an iteration) and otherwise watched (inside a pass over
 * the data), its rejection thrown at the next report or by `settle()`. A
 * rejection never goes unhandled (which would end the process) and is never
 * dropped.
 */
export class ProgressReporter<P> {
  #callback: ((p: P) => unknown) | undefined;
  #failure: { error: unknown } | null = null;
  #pending: Promise<void>[] = [];

  constructor(callback: ((p: P) => unknown) | undefined) {
    this.#callback = callback;
  }

  /** The callback's first failure, once it failed. */
  get failure(): { error: unknown } | null {
    return this.#failure;
  }

  /** Reports `p` and waits for the promise the callback returns, if any. */
  async report(p: P): Promise<void> {
    const out = this.#call(p);
    if (out === undefined) return;
    try {
      await out;
    } catch (error) {
      this.#failure ??= { error };
      throw error;
    }
  }

  /** Reports `p` without waiting; a rejection is thrown later. */
  reportNow(p: P): void {
    const out = this.#call(p);
    if (out === undefined) return;
    this.#pending.push(
      Promise.resolve(out).then(() => {}, (error) => {
        this.#failure ??= { error };
      }),
    );
  }

  /** Waits for the reports still running; throws the first failure. */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) {
      await Promise.all(this.#pending.splice(0));
    }
    this.#throwIfFailed();
  }

  #call(p: P): PromiseLike<unknown> | undefined {
    this.#throwIfFailed();
    let out: unknown;
    try {
      out = this.#callback?.(p);
    } catch (error) {
      this.#failure ??= { error };
      throw error;
    }
    const thenable = typeof (out as PromiseLike<unknown>)?.then === "function";
    return thenable ? out as PromiseLike<unknown> : undefined;
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
