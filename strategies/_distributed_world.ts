/**
 * The process-wide MPI communicator of the distributed strategy.
 *
 * MPI can be initialized once per process and never again after
 * `MPI_Finalize`, while `fit` may be called several times; so the world is
 * initialized on first use, kept, and finalized when the process exits
 * (the `unload` event), unless the user finalized it first (e.g. through
 * `runMpi`).
 */

import { isMpiLaunch, Mpi } from "../cluster/mpi.ts";

let world: Mpi | null = null;

/**
 * The initialized world communicator, or null when this process was not
 * started by an MPI launcher (then no MPI library is needed at all).
 */
export function worldComm(): Mpi | null {
  if (world && !world.isFinalized) return world;
  if (world) {
    throw new Error(
      "MPI was finalized in this process; the distributed strategy cannot run again",
    );
  }
  if (!isMpiLaunch()) return null;
  const comm = Mpi.load().init();
  // An exception that escapes on one rank (outside the evaluator, where the
  // strategy catches its own) must end the job, not leave the other ranks
  // blocked in their next Allreduce.
  comm.abortOnUncaughtError();
  globalThis.addEventListener("unload", () => {
    if (!comm.isFinalized) comm.finalize();
  });
  world = comm;
  return comm;
}

/** Reads an environment variable, or undefined without permission. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * How many ranks share this node, from what the launchers set (MPICH's
 * hydra, Open MPI, MVAPICH, Slurm); `fallback` (the world size: assume they
 * all share it) when none says.
 */
export function localRanks(fallback: number): number {
  for (
    const name of [
      "MPI_LOCALNRANKS",
      "OMPI_COMM_WORLD_LOCAL_SIZE",
      "MV2_COMM_WORLD_LOCAL_SIZE",
      "SLURM_NTASKS_PER_NODE",
    ]
  ) {
    const n = parseInt(env(name) ?? "", 10);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return fallback;
}
