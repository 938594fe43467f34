/**
 * One failing rank ends the whole MPI job, whenever it fails.
 *
 * Measured with MPICH's hydra: a rank whose process ends before it
 * initializes MPI (an exception while reading its input, say) leaves the
 * other ranks waiting in `MPI_Init` until the job is killed, and a rank that
 * finalizes while another waits in a collective leaves both waiting. The
 * guard closes both gaps.
 *
 * @module
 */

import { isMainThread } from "node:worker_threads";
import { launchRank, reportFailure } from "./_mpi_report.ts";
import { isMpiLaunch, Mpi, type MpiLoadOptions } from "./mpi.ts";

let installed = false;

/**
 * Under an MPI launcher, makes every way this process can end safe for the
 * other ranks, before or after MPI is initialized:
 *
 * - an uncaught exception or unhandled rejection is printed with the rank
 *   (`[nlsq mpi] rank R/N: error, aborting the job:`) and aborts the job
 *   (`MPI_Abort`, initializing MPI first if needed: the launcher does not
 *   end ranks waiting in `MPI_Init` when a process exits; so an error before
 *   MPI is initialized ends the job once the other ranks reach `MPI_Init`,
 *   their first distributed fit, and is printed at once);
 * - an exit with a non-zero status (`Deno.exit(2)`, `Deno.exitCode = 2`)
 *   aborts the job with that status;
 * - a normal exit leaves the job through {@linkcode Mpi.finalize}: a rank
 *   still waiting for this one in a collective ends the job instead of
 *   hanging, and MPI is finalized.
 *
 * The distributed strategy installs it when its module loads (so importing
 * `@nlsq/nlsq` under `mpiexec` is enough); call it first thing in a script
 * that uses only the `Mpi` binding. Idempotent; a no-op (returning false)
 * outside a launcher and off the main thread. Reads the launcher's variables
 * only with `--allow-env`, and loads MPI only when needed, with
 * `--allow-ffi`.
 *
 * @param options which MPI library to load when needed
 * @returns whether the guard is installed
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isMpiLaunch } from "@nlsq/nlsq/cluster";
 * assert.strictEqual(guardMpiJob(), isMpiLaunch());
 * ```
 */
export function guardMpiJob(options: MpiLoadOptions = {}): boolean {
  if (installed) return true;
  if (!isMainThread || !isMpiLaunch(options.env)) return false;
  installed = true;
  const fail = (error: unknown, code = 1): never => {
    let comm: Mpi;
    try {
      comm = Mpi.load(options);
    } catch {
      // No MPI to abort with: exiting is all this rank can do.
      reportFailure(`rank ${launchRank()}`, error);
      Deno.exit(code);
    }
    return comm.abortWithError(error, code);
  };
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    fail(event.error ?? event.message);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail(event.reason);
  });
  globalThis.addEventListener("unload", () => {
    const status = Deno.exitCode;
    if (status !== 0) {
      fail(new Error(`the process is exiting with status ${status}`), status);
    }
    let comm: Mpi;
    try {
      comm = Mpi.load(options);
    } catch {
      return; // MPI never loaded here, so never initialized either.
    }
    if (comm.isFinalized) return;
    try {
      // Initializing now, if this rank never did, lets the ranks waiting
      // for it in MPI_Init or a collective learn that it has left.
      comm.init().finalize();
    } catch (e) {
      fail(e);
    }
  });
  return true;
}
