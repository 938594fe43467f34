// How a failing rank reports before it ends the job.

import { Diagnostics, envReader } from "./_env.ts";

/**
 * This process's rank, "R/N" (or "R" without the size), as the launcher
 * tells it before MPI is initialized.
 */
export function launchRank(): string {
  const read = envReader(undefined, new Diagnostics(false, ""));
  const rank = read("PMI_RANK") ?? read("OMPI_COMM_WORLD_RANK") ??
    read("PMIX_RANK") ?? read("MV2_COMM_WORLD_RANK") ?? "?";
  const size = read("PMI_SIZE") ?? read("OMPI_COMM_WORLD_SIZE") ??
    read("MV2_COMM_WORLD_SIZE");
  return size === undefined ? rank : `${rank}/${size}`;
}

/**
 * Prints `error` to stderr under `[nlsq mpi] <where>: error, aborting the
 * job:` in one synchronous write, then pauses briefly: the launcher forwards
 * output asynchronously and drops what is still in flight once it tears the
 * job down.
 */
export function reportFailure(where: string, error: unknown): void {
  const text = error instanceof Error ? error.stack ?? error.message : error;
  const msg = `[nlsq mpi] ${where}: error, aborting the job:\n${text}\n`;
  try {
    const bytes = new TextEncoder().encode(msg);
    let off = 0;
    while (off < bytes.length) {
      off += Deno.stderr.writeSync(bytes.subarray(off));
    }
  } catch {
    // stderr closed: nothing more to report.
  }
  const until = Date.now() + 200;
  while (Date.now() < until) { /* let the launcher forward stderr */ }
}
