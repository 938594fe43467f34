/**
 * The process-wide MPI communicator of the distributed strategy.
 *
 * MPI can be initialized once per process and never again after
 * `MPI_Finalize`, while `fit` may be called several times; so the world is
 * initialized on first use and kept. Under an MPI launcher, loading this
 * module installs the job guard (`cluster/mpi_guard.ts`): an error on a
 * rank at any point, even before its first fit initializes MPI, aborts the
 * whole job, and a normal exit leaves it (finalizing MPI) without stranding
 * a rank that still waits in a collective.
 */

import { isMpiLaunch, Mpi } from "../cluster/mpi.ts";
import { guardMpiJob } from "../cluster/mpi_guard.ts";

guardMpiJob();

/**
 * The initialized world communicator, or null when this process was not
 * started by an MPI launcher (then no MPI library is needed at all).
 */
export function worldComm(): Mpi | null {
  if (!isMpiLaunch()) return null;
  const comm = Mpi.load();
  if (comm.isFinalized) {
    throw new Error(
      "MPI was finalized in this process; the distributed strategy cannot run again",
    );
  }
  return comm.init();
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
