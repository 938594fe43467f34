/**
 * Errors of the MPI binding.
 *
 * @module
 */

/**
 * How to get an MPI library, appended to {@linkcode MpiUnavailableError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.match(MPI_INSTALL_HINT, /NLSQ_MPI_LIBRARY/);
 * ```
 */
export const MPI_INSTALL_HINT: string =
  "Install MPI (Debian/Ubuntu: `apt-get install mpich` or " +
  "`apt-get install libopenmpi-dev openmpi-bin`), or set NLSQ_MPI_LIBRARY " +
  "to the path of libmpich.so.12 / libmpi.so.40.";

/**
 * No MPI library could be loaded.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new MpiUnavailableError(["/nonexistent.so: not found"]);
 * assert.ok(e.message.includes("apt-get install mpich"));
 * assert.deepStrictEqual(e.attempts, ["/nonexistent.so: not found"]);
 * ```
 */
export class MpiUnavailableError extends Error {
  /** Each library tried, with why it failed. */
  readonly attempts: string[];

  /**
   * Builds the error from the libraries tried.
   *
   * @param attempts each library tried, with why it failed
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.strictEqual(new MpiUnavailableError([]).name, "MpiUnavailableError");
   * ```
   */
  constructor(attempts: string[]) {
    super(
      `No MPI library could be loaded (tried: ${
        attempts.join("; ") || "nothing"
      }). ${MPI_INSTALL_HINT}`,
    );
    this.name = "MpiUnavailableError";
    this.attempts = attempts;
  }
}

/**
 * The process may not load native libraries: run with `--allow-ffi`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.ok(new MpiPermissionError().message.includes("--allow-ffi"));
 * ```
 */
export class MpiPermissionError extends Error {
  /**
   * Builds the error for what was being loaded.
   *
   * @param detail what was being loaded
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.ok(new MpiPermissionError("libmpich.so.12").message.includes("libmpich"));
   * ```
   */
  constructor(detail = "the MPI library") {
    super(
      `Loading ${detail} needs the FFI permission: run with --allow-ffi ` +
        "(e.g. `mpiexec -n 4 deno run -A script.ts`).",
    );
    this.name = "MpiPermissionError";
  }
}

/**
 * An MPI call failed, or was made in the wrong state (before `init()`, after
 * `finalize()`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new MpiError("MPI_Bcast", 5, "invalid count");
 * assert.strictEqual(e.code, 5);
 * assert.ok(e.message.startsWith("MPI_Bcast"));
 * ```
 */
export class MpiError extends Error {
  /** The MPI function. */
  readonly call: string;
  /** The MPI error code, or `null` for a state error. */
  readonly code: number | null;

  /**
   * Builds the error for a failed MPI call.
   *
   * @param call the MPI function
   * @param code its error code, or `null` for a state error
   * @param detail the error text
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.strictEqual(new MpiError("MPI_Barrier", null, "not initialized").code, null);
   * ```
   */
  constructor(call: string, code: number | null, detail: string) {
    super(
      `${call} failed${code === null ? "" : ` (error ${code})`}: ${detail}`,
    );
    this.name = "MpiError";
    this.call = call;
    this.code = code;
  }
}

/**
 * The ranks of an MPI job went out of step: one left it (finalized, or its
 * process ended) while another waits for it in a collective call it will
 * never join, or they made different numbers of collective calls. The rank
 * that notices it reports this error and aborts the job (`MPI_Abort`)
 * instead of waiting forever.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const e = new MpiJobError(1, "rank 1 left the job");
 * assert.strictEqual(e.rank, 1);
 * assert.strictEqual(e.name, "MpiJobError");
 * ```
 */
export class MpiJobError extends Error {
  /** The rank that left or went out of step. */
  readonly rank: number;

  /**
   * Builds the error.
   *
   * @param rank the rank that left or went out of step
   * @param message what happened
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * assert.ok(new MpiJobError(0, "x") instanceof Error);
   * ```
   */
  constructor(rank: number, message: string) {
    super(message);
    this.name = "MpiJobError";
    this.rank = rank;
  }
}
