/**
 * MPI through Deno FFI: MPICH (`libmpich.so.12`) or Open MPI
 * (`libmpi.so.40`), found automatically or named by `NLSQ_MPI_LIBRARY`.
 *
 * Launch with `mpiexec -n N deno run -A script.ts` (the binding needs
 * `--allow-ffi`, and `--allow-env` to read `NLSQ_MPI_LIBRARY`). Use
 * {@linkcode runMpi} so that an exception on one rank aborts the whole job
 * instead of leaving the other ranks waiting in a collective forever, and
 * `guardMpiJob()` (`mpi_guard.ts`) to cover the rest of the program too.
 *
 * @module
 */

import { Diagnostics, envReader, type EnvSource } from "./_env.ts";
import { Departures } from "./_mpi_departures.ts";
import {
  loadMpiLibrary,
  MPI_THREAD_FUNNELED,
  type MpiCalls,
  type MpiFlavor,
  type MpiOp,
  newRequest,
} from "./_mpi_library.ts";
import { launchRank, reportFailure } from "./_mpi_report.ts";
import { pollUntil } from "./_mpi_wait.ts";
import { MpiError } from "./mpi_errors.ts";

export type { MpiFlavor } from "./_mpi_library.ts";

/**
 * Options of {@linkcode Mpi.load} and {@linkcode runMpi}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { MpiLoadOptions } from "@nlsq/nlsq/cluster";
 * const o: MpiLoadOptions = { library: "libmpi.so.40", env: {} };
 * assert.strictEqual(o.library, "libmpi.so.40");
 * ```
 */
export interface MpiLoadOptions {
  /** Library path or name; default `NLSQ_MPI_LIBRARY`, else a search. */
  library?: string;
  /** Where to read `NLSQ_MPI_LIBRARY`; default `Deno.env` (checked). */
  env?: EnvSource;
}

const MAX_COUNT = 2 ** 31 - 1;

/**
 * Environment variables that MPI launchers set in the processes they start:
 * MPICH's hydra and PMI-1/2 (`PMI_*`), PMIx (Open MPI 5, Slurm), Open MPI's
 * ORTE, MVAPICH.
 */
const LAUNCH_VARIABLES = [
  "PMI_RANK",
  "PMI_SIZE",
  "PMI_FD",
  "PMIX_RANK",
  "OMPI_COMM_WORLD_SIZE",
  "OMPI_COMM_WORLD_RANK",
  "MPI_LOCALNRANKS",
  "MV2_COMM_WORLD_RANK",
] as const;

/**
 * Whether this process was started by an MPI launcher (`mpiexec`, `mpirun`,
 * `srun` with PMI/PMIx), judged from the variables they set. Variables are
 * read through the permission system: without `--allow-env` the answer is
 * `false`, with no prompt.
 *
 * @param env where to read the variables; default `Deno.env`
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * assert.strictEqual(isMpiLaunch({ PMI_RANK: "0", PMI_SIZE: "2" }), true);
 * assert.strictEqual(isMpiLaunch({ OMPI_COMM_WORLD_SIZE: "4" }), true);
 * assert.strictEqual(isMpiLaunch({}), false);
 * ```
 */
export function isMpiLaunch(env?: EnvSource): boolean {
  // Silent: a variable we may not read simply does not count.
  const read = envReader(env, new Diagnostics(false, ""));
  return LAUNCH_VARIABLES.some((name) => read(name) !== undefined);
}

/** The process's first loaded MPI library: every handle shares it. */
let shared: Mpi | null = null;

/**
 * One process's handle on `MPI_COMM_WORLD`.
 *
 * Collectives block the JavaScript thread (MPI is initialized with
 * `MPI_THREAD_FUNNELED`); every rank must call them in the same order. Data
 * is `Float64Array` (`MPI_DOUBLE`). They fail fast rather than hang: while
 * waiting, a rank listens for departure notices (sent by `finalize()`, which
 * a rank's normal exit calls), and a rank that left before this collective
 * ends the job with an {@linkcode MpiJobError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * // Under `mpiexec -n N deno run -A`, every rank holds the same sum.
 * async function main(comm: Mpi): Promise<void> {
 *   const v = comm.allreduceSum(new Float64Array([comm.rank, 1]));
 *   assert.deepStrictEqual([...v], [comm.size * (comm.size - 1) / 2, comm.size]);
 * }
 * if (isMpiLaunch()) await runMpi(main);
 * ```
 */
export class Mpi {
  readonly #calls: MpiCalls;
  #rank = -1;
  #size = -1;
  readonly #flag = new Int32Array(1);
  /** Collective calls made on the world, numbered alike on every rank. */
  #collectives = 0;
  #departures: Departures | null = null;
  #inFlight: Float64Array[] = [];

  private constructor(calls: MpiCalls) {
    this.#calls = calls;
  }

  /**
   * Loads the MPI library (no MPI call yet). The library is
   * `options.library`, else `NLSQ_MPI_LIBRARY`, else the first of
   * `libmpich.so.12`, `libmpi.so.40`, `libmpi.so.12`, `libmpich.so`,
   * `libmpi.so` that loads. The process's first loaded library is shared:
   * a later call that names no other library returns the same handle, so
   * every part of a program counts the same collective calls.
   *
   * @throws {MpiPermissionError} without `--allow-ffi` (never prompts)
   * @throws {MpiUnavailableError} when no library loads; the message says how
   *   to install one
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { MpiUnavailableError } from "./mpi_errors.ts";
   * assert.throws(() => Mpi.load({ library: "/nonexistent.so" }), MpiUnavailableError);
   * ```
   */
  static load(options: MpiLoadOptions = {}): Mpi {
    const diag = new Diagnostics(false, "");
    const library = options.library ??
      envReader(options.env, diag)("NLSQ_MPI_LIBRARY");
    if (shared && (!library || library === shared.libraryPath)) return shared;
    const comm = new Mpi(loadMpiLibrary(library || undefined));
    shared ??= comm;
    return comm;
  }

  /**
   * The library loaded.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) assert.ok(Mpi.load().libraryPath.includes("mpi"));
   * ```
   */
  get libraryPath(): string {
    return this.#calls.path;
  }

  /**
   * Which ABI the library has: `"mpich"` (MPICH, Intel MPI, MVAPICH) or
   * `"openmpi"`.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) assert.ok(["mpich", "openmpi"].includes(Mpi.load().flavor));
   * ```
   */
  get flavor(): MpiFlavor {
    return this.#calls.flavor;
  }

  /**
   * Initializes MPI (`MPI_Init_thread` with null argc/argv and
   * `MPI_THREAD_FUNNELED`) unless `MPI_Initialized` says it already is,
   * reads rank and size, and duplicates the world into a private channel
   * for departure notices (a collective call: every rank initializes at the
   * same point of the program). Idempotent.
   *
   * @throws {MpiError} after `finalize()`, or when initialization fails
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init().init();
   *   assert.ok(comm.rank < comm.size);
   *   comm.finalize();
   * }
   * ```
   */
  init(): this {
    if (this.isFinalized) {
      throw new MpiError(
        "MPI_Init_thread",
        null,
        "MPI was finalized in this process and cannot be initialized again",
      );
    }
    if (!this.isInitialized) {
      const provided = new Int32Array(1);
      this.#check(
        "MPI_Init_thread",
        this.#calls.initThread(MPI_THREAD_FUNNELED, provided),
      );
    }
    if (this.#departures) return this;
    const out = new Int32Array(1);
    this.#check("MPI_Comm_rank", this.#calls.commRank(out));
    const rank = out[0];
    this.#check("MPI_Comm_size", this.#calls.commSize(out));
    const size = out[0];
    this.#check("MPI_Comm_dup", this.#calls.createControl());
    this.#departures = new Departures(
      this.#calls,
      rank,
      size,
      (call, code) => this.#check(call, code),
      (error) => this.abortWithError(error),
    );
    [this.#rank, this.#size] = [rank, size];
    return this;
  }

  /**
   * Whether MPI is initialized in this process (`MPI_Initialized`).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) assert.strictEqual(Mpi.load().init().isInitialized, true);
   * ```
   */
  get isInitialized(): boolean {
    this.#calls.initialized(this.#flag);
    return this.#flag[0] !== 0;
  }

  /**
   * Whether MPI was finalized in this process (`MPI_Finalized`).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) assert.strictEqual(Mpi.load().isFinalized, false);
   * ```
   */
  get isFinalized(): boolean {
    this.#calls.finalized(this.#flag);
    return this.#flag[0] !== 0;
  }

  /**
   * This process's rank in `MPI_COMM_WORLD`.
   *
   * @throws {MpiError} before `init()`
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) assert.ok(Mpi.load().init().rank >= 0);
   * ```
   */
  get rank(): number {
    this.#ready("MPI_Comm_rank");
    return this.#rank;
  }

  /**
   * The number of ranks in `MPI_COMM_WORLD`.
   *
   * @throws {MpiError} before `init()`
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) assert.ok(Mpi.load().init().size >= 1);
   * ```
   */
  get size(): number {
    this.#ready("MPI_Comm_size");
    return this.#size;
  }

  /**
   * Sums `data` element-wise over all ranks (`MPI_Allreduce`, `MPI_SUM`),
   * in place: on return every rank's `data` holds the sum. A copy is the
   * send buffer, which avoids `MPI_IN_PLACE` (its value differs between
   * ABIs).
   *
   * @param data same length on every rank
   * @returns `data`
   * @throws {MpiError} before `init()` or when the call fails
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init();
   *   assert.strictEqual(comm.allreduceSum(new Float64Array([1]))[0], comm.size);
   * }
   * ```
   */
  allreduceSum(data: Float64Array): Float64Array {
    return this.#allreduce(data, "sum");
  }

  /**
   * Element-wise maximum over all ranks (`MPI_MAX`), in place; useful to
   * agree on a flag (any rank failed, any rank not converged).
   *
   * @param data same length on every rank
   * @returns `data`
   * @throws {MpiError} before `init()` or when the call fails
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init();
   *   assert.strictEqual(comm.allreduceMax(new Float64Array([comm.rank]))[0], comm.size - 1);
   * }
   * ```
   */
  allreduceMax(data: Float64Array): Float64Array {
    return this.#allreduce(data, "max");
  }

  /**
   * Copies `root`'s `data` into every rank's `data` (`MPI_Bcast`).
   *
   * @param data same length on every rank
   * @param root the rank whose values are sent
   * @returns `data`
   * @throws {RangeError} when `root` is not a rank
   * @throws {MpiError} before `init()` or when the call fails
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init();
   *   const v = comm.broadcast(new Float64Array([comm.rank === 0 ? 42 : 0]), 0);
   *   assert.strictEqual(v[0], 42);
   * }
   * ```
   */
  broadcast(data: Float64Array, root = 0): Float64Array {
    this.#ready("MPI_Bcast");
    if (!Number.isInteger(root) || root < 0 || root >= this.#size) {
      throw new RangeError(
        `broadcast root ${root} is not a rank of a world of ${this.#size}`,
      );
    }
    this.#checkCount("MPI_Bcast", data);
    if (data.length === 0) return data;
    this.#collective(
      "MPI_Bcast",
      [data],
      (req) => this.#calls.ibcast(data, data.length, root, req),
    );
    return data;
  }

  /**
   * Waits until every rank reaches the barrier (`MPI_Barrier`).
   *
   * @throws {MpiError} before `init()` or when the call fails
   *
   * @example
   * ```ts
   * if (isMpiLaunch()) Mpi.load().init().barrier();
   * ```
   */
  barrier(): void {
    this.#ready("MPI_Barrier");
    this.#collective("MPI_Barrier", [], (req) => this.#calls.ibarrier(req));
  }

  /**
   * Ends every rank of the job with `code` (`MPI_Abort` on
   * `MPI_COMM_WORLD`). Under an MPI launcher MPI is initialized first if it
   * is not yet (the other ranks may be waiting in `MPI_Init`, which the
   * launcher does not end when this process exits); without a launcher, or
   * after `finalize()`, it just exits.
   *
   * @param code the exit status, non-zero for a failure
   *
   * @example
   * ```ts
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init();
   *   const total = comm.allreduceSum(new Float64Array([1]))[0];
   *   // Every rank sees the same total, so every rank takes the same branch.
   *   if (total !== comm.size) comm.abort(2);
   * }
   * ```
   */
  abort(code = 1): never {
    if (!this.isFinalized) {
      if (!this.isInitialized && isMpiLaunch()) {
        // No departure channel needed: only MPI_Abort follows.
        this.#calls.initThread(MPI_THREAD_FUNNELED, new Int32Array(1));
      }
      if (this.isInitialized) this.#calls.abort(code);
    }
    // MPI_Abort does not return in practice; make sure this rank ends anyway.
    Deno.exit(code);
  }

  /**
   * Leaves the job and finalizes MPI (`MPI_Finalize`); idempotent. Every rank
   * must call it before exiting normally; MPI cannot be initialized again
   * afterwards. Leaving first sends a departure notice (so that a rank still
   * waiting for this one in a collective ends the job instead of hanging)
   * and waits for the other ranks to leave too; if they made a different
   * number of collective calls, the job is aborted with an
   * {@linkcode MpiJobError}.
   *
   * @throws {MpiError} when the call fails
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init();
   *   comm.finalize();
   *   comm.finalize();
   *   assert.ok(comm.isFinalized);
   * }
   * ```
   */
  finalize(): void {
    if (!this.isInitialized || this.isFinalized) return;
    this.#departures?.leave(this.#collectives);
    this.#check("MPI_Finalize", this.#calls.finalize());
  }

  /**
   * Makes an uncaught exception or unhandled rejection anywhere in this
   * process abort the whole MPI job (after printing it with the rank), so
   * the other ranks do not hang in their next collective.
   *
   * @returns a function that removes the handlers
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * if (isMpiLaunch()) {
   *   const remove = Mpi.load().init().abortOnUncaughtError();
   *   remove();
   * }
   * assert.ok(true);
   * ```
   */
  abortOnUncaughtError(): () => void {
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      this.abortWithError(event.error ?? event.message);
    };
    const onRejection = (event: PromiseRejectionEvent) => {
      event.preventDefault();
      this.abortWithError(event.reason);
    };
    globalThis.addEventListener("error", onError);
    globalThis.addEventListener("unhandledrejection", onRejection);
    return () => {
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    };
  }

  /**
   * Prints `error` with this rank to stderr and aborts the whole job with
   * exit status `code` (see {@linkcode Mpi.abort}); what {@linkcode runMpi}
   * does when its function throws.
   *
   * @param error what went wrong
   * @param code the exit status, default 1
   *
   * @example
   * ```ts
   * if (isMpiLaunch()) {
   *   const comm = Mpi.load().init();
   *   try {
   *     comm.barrier();
   *   } catch (e) {
   *     comm.abortWithError(e);
   *   }
   * }
   * ```
   */
  abortWithError(error: unknown, code = 1): never {
    reportFailure(
      this.#rank >= 0
        ? `rank ${this.#rank}/${this.#size}`
        : `rank ${launchRank()}`,
      error,
    );
    this.abort(code);
  }

  #allreduce(data: Float64Array, op: MpiOp): Float64Array {
    this.#ready("MPI_Allreduce");
    this.#checkCount("MPI_Allreduce", data);
    if (data.length === 0) return data;
    const send = data.slice();
    this.#collective(
      "MPI_Allreduce",
      [send, data],
      (req) => this.#calls.iallreduce(send, data, data.length, op, req),
    );
    return data;
  }

  /**
   * Starts a nonblocking collective on `buffers` and polls it to completion,
   * failing fast (ending the job) if a rank left before it.
   */
  #collective(
    call: string,
    buffers: Float64Array[],
    start: (req: Uint8Array) => number,
  ): void {
    const k = ++this.#collectives;
    const departures = this.#departures!;
    departures.poll(k, call);
    const req = newRequest();
    // MPI uses the buffers until the request completes: keep them reachable.
    this.#inFlight = buffers;
    this.#check(call, start(req));
    const flag = new Int32Array(1);
    pollUntil(() => {
      this.#check("MPI_Test", this.#calls.test(req, flag));
      return flag[0] !== 0;
    }, () => departures.poll(k, call));
    this.#inFlight = [];
  }

  #ready(call: string): void {
    if (this.#rank < 0) {
      throw new MpiError(call, null, "MPI is not initialized; call init()");
    }
  }

  #checkCount(call: string, data: Float64Array): void {
    if (!(data instanceof Float64Array)) {
      throw new TypeError(`${call} needs a Float64Array`);
    }
    if (data.length > MAX_COUNT) {
      throw new RangeError(
        `${call}: ${data.length} elements exceed MPI's int count`,
      );
    }
  }

  #check(call: string, code: number): void {
    if (code !== 0) {
      throw new MpiError(call, code, this.#calls.errorString(code));
    }
  }
}

/**
 * Options of {@linkcode runMpi}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { RunMpiOptions } from "@nlsq/nlsq/cluster";
 * const o: RunMpiOptions = { library: "libmpi.so.12", finalize: false };
 * assert.strictEqual(o.finalize, false);
 * ```
 */
export interface RunMpiOptions extends MpiLoadOptions {
  /** Call `MPI_Finalize` after `fn` succeeds. Default `true`. */
  finalize?: boolean;
}

/**
 * Runs `fn` on an initialized communicator and finalizes MPI afterwards. An
 * exception thrown by `fn` (or escaping elsewhere while it runs) is printed
 * with the rank and aborts the whole job with exit status 1 (`MPI_Abort`),
 * so a failure on one rank cannot leave the others blocked in a collective.
 *
 * @param fn the per-rank program
 * @param options see {@linkcode RunMpiOptions}
 * @returns what `fn` returns
 * @throws {MpiPermissionError} without `--allow-ffi`
 * @throws {MpiUnavailableError} when no MPI library loads
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * if (isMpiLaunch()) {
 *   const size = await runMpi((comm) => comm.allreduceSum(new Float64Array([1]))[0]);
 *   assert.ok(size >= 1);
 * }
 * ```
 */
export async function runMpi<T>(
  fn: (comm: Mpi) => T | Promise<T>,
  options: RunMpiOptions = {},
): Promise<T> {
  const comm = Mpi.load(options).init();
  const remove = comm.abortOnUncaughtError();
  let result: T;
  try {
    result = await fn(comm);
  } catch (e) {
    return comm.abortWithError(e);
  }
  remove();
  if (options.finalize ?? true) comm.finalize();
  return result;
}
