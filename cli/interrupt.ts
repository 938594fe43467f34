/**
 * Ctrl-C (SIGINT) during a command: while a fit runs, the first one aborts it
 * through an `AbortSignal` (the fit writes its last checkpoint and rejects
 * with an {@linkcode InterruptedError}); at any other moment, or a second
 * time, the command stops at once.
 *
 * @module
 */

import { InterruptedError } from "./errors.ts";

/**
 * Listens for SIGINT from construction to `close()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * let forced = 0;
 * const sigint = new SigintHandler(() => forced++);
 * sigint.arm();
 * sigint.trigger(); // what SIGINT does
 * assert.ok(sigint.signal.aborted);
 * assert.strictEqual(sigint.signal.reason.name, "InterruptedError");
 * sigint.trigger(); // a second Ctrl-C does not wait
 * assert.strictEqual(forced, 1);
 * sigint.close();
 * ```
 */
export class SigintHandler {
  readonly #controller = new AbortController();
  readonly #force: () => void;
  readonly #listener = () => this.trigger();
  #armed = false;
  #listening = false;

  /**
   * @param force Stops the command at once (prints a message and exits);
   * called on SIGINT while not armed, and on a second SIGINT.
   */
  constructor(force: () => void) {
    this.#force = force;
    try {
      Deno.addSignalListener("SIGINT", this.#listener);
      this.#listening = true;
    } catch {
      // Not supported here (e.g. a worker): Ctrl-C keeps its default.
    }
  }

  /** Aborted by the first SIGINT while armed. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether a SIGINT aborted {@linkcode signal}. */
  get interrupted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** From now on (until {@linkcode disarm}), SIGINT aborts the signal. */
  arm(): void {
    this.#armed = true;
  }

  /** SIGINT stops the command at once again. */
  disarm(): void {
    this.#armed = false;
  }

  /** Acts as on SIGINT. */
  trigger(): void {
    if (this.#armed && !this.#controller.signal.aborted) {
      this.#controller.abort(new InterruptedError());
    } else this.#force();
  }

  /** Stops listening; idempotent. */
  close(): void {
    if (!this.#listening) return;
    this.#listening = false;
    Deno.removeSignalListener("SIGINT", this.#listener);
  }
}
